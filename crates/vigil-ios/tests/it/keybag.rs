use vigil_ios::keybag::{aes_unwrap, aes_wrap, cbc_encrypt, CbcDecryptor, Keybag};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 3394 section 4.6: wrap 256 bits of key data with a 256-bit KEK.
#[test]
fn aes_key_wrap_matches_rfc3394_vector() {
    let kek = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    let key = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    let wrapped =
        hex("28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21");
    assert_eq!(aes_wrap(&kek, &key).unwrap(), wrapped);
    assert_eq!(aes_unwrap(&kek, &wrapped).unwrap(), key);
    let mut bad = wrapped.clone();
    bad[10] ^= 1;
    assert_eq!(
        aes_unwrap(&kek, &bad),
        None,
        "a corrupted wrap must fail the integrity check"
    );
    let mut wrong_kek = kek.clone();
    wrong_kek[0] ^= 1;
    assert_eq!(aes_unwrap(&wrong_kek, &wrapped), None);
}

/// NIST SP 800-38A F.2.5 (CBC-AES256) first block, with a zero IV changed to the vector's IV by xoring the plaintext.
#[test]
fn cbc_round_trip_and_padding() {
    let key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    for len in [0usize, 1, 15, 16, 17, 4096] {
        let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let enc = cbc_encrypt(&key, &plain).unwrap();
        assert_eq!(enc.len() % 16, 0);
        assert!(enc.len() > plain.len());
        let mut dec = enc.clone();
        CbcDecryptor::new(&key).unwrap().decrypt(&mut dec);
        let n = vigil_ios::keybag::unpadded_len(&dec).unwrap();
        assert_eq!(&dec[..n], &plain[..]);
    }
    // F.2.5: IV 000102..0f, plaintext block 6bc1bee2..., ciphertext f58c4c04...
    let iv = hex("000102030405060708090a0b0c0d0e0f");
    let p = hex("6bc1bee22e409f96e93d7e117393172a");
    let xored: Vec<u8> = p.iter().zip(&iv).map(|(a, b)| a ^ b).collect();
    let enc = cbc_encrypt(&key, &xored).unwrap();
    assert_eq!(&enc[..16], &hex("f58c4c04d6e5f1ba779eabfb5f7bfbd6")[..]);
}

#[test]
fn keybag_parser_rejects_garbage_without_panicking() {
    assert!(Keybag::parse(b"").is_err());
    assert!(
        Keybag::parse(b"SALT\x00\x00\x00\xffabc").is_err(),
        "length past the end"
    );
    assert!(
        Keybag::parse(b"ITER\x00\x00\x00\x02ab").is_err(),
        "numeric tag of the wrong size"
    );
    let mut blob = Vec::new();
    for (tag, val) in [
        (b"SALT", vec![1u8; 20]),
        (b"ITER", 0xFFFF_FFFFu32.to_be_bytes().to_vec()),
    ] {
        blob.extend_from_slice(tag);
        blob.extend_from_slice(&(val.len() as u32).to_be_bytes());
        blob.extend_from_slice(&val);
    }
    assert!(
        Keybag::parse(&blob).is_err(),
        "absurd iteration counts are refused"
    );
    for seed in 0..200u32 {
        let junk: Vec<u8> = (0..64u32)
            .map(|i| (i.wrapping_mul(seed) ^ seed) as u8)
            .collect();
        let _ = Keybag::parse(&junk);
    }
}
