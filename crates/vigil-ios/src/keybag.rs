//! The backup keybag and the cryptography of encrypted iTunes/Finder backups.
//!
//! An encrypted backup's `Manifest.plist` carries a `BackupKeyBag`: a TLV blob
//! (4-byte tag, 4-byte big-endian length, value) holding the key-derivation
//! parameters and one wrapped key per data-protection class. The password is
//! stretched with PBKDF2-HMAC-SHA256 (`DPSL` salt, `DPIC` rounds) and then
//! PBKDF2-HMAC-SHA1 (`SALT`, `ITER` rounds) into a 32-byte key that unwraps the
//! class keys (AES key wrap, RFC 3394). Class keys unwrap the per-file keys;
//! file contents are AES-256-CBC with a zero IV.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;

use crate::Error;

/// The initial value of RFC 3394 key wrapping.
const KW_IV: u64 = 0xA6A6_A6A6_A6A6_A6A6;
/// Class-key wrap flag meaning "wrapped with the passphrase key".
const WRAP_PASSPHRASE: u32 = 2;
/// Upper bounds on the iteration counts a keybag may ask for, so that a
/// hostile backup cannot make a scan spin for hours.
const MAX_DPIC: u32 = 20_000_000;
const MAX_ITER: u32 = 10_000_000;

/// One wrapped data-protection class key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassKey {
    /// Data-protection class (1 = complete protection … 11 = none).
    pub class: u32,
    /// Wrap flags (2 = wrapped with the passphrase key).
    pub wrap: u32,
    /// The wrapped key (40 bytes for a 32-byte key).
    pub wrapped: Vec<u8>,
}

/// A parsed `BackupKeyBag`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keybag {
    /// Keybag type (1 = backup).
    pub kind: u32,
    /// Salt of the SHA-1 round.
    pub salt: Vec<u8>,
    /// Rounds of the SHA-1 round.
    pub iter: u32,
    /// Salt of the SHA-256 round (iOS 10.2 and later).
    pub dpsl: Vec<u8>,
    /// Rounds of the SHA-256 round.
    pub dpic: u32,
    /// The wrapped class keys.
    pub class_keys: Vec<ClassKey>,
}

fn be_u32(value: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(value).ok().map(u32::from_be_bytes)
}

impl Keybag {
    /// Parses a keybag blob; a truncated or inconsistent blob is an error, never a panic.
    pub fn parse(blob: &[u8]) -> Result<Keybag, Error> {
        let bad = |m: &str| Error::Keybag(m.to_string());
        let mut bag = Keybag::default();
        let mut current: Option<ClassKey> = None;
        let mut seen_uuid = false;
        let mut seen_wrap = false;
        let mut i = 0usize;
        while i + 8 <= blob.len() {
            let tag = &blob[i..i + 4];
            let len = be_u32(&blob[i + 4..i + 8]).unwrap_or(0) as usize;
            let start = i + 8;
            let end = start
                .checked_add(len)
                .filter(|e| *e <= blob.len())
                .ok_or_else(|| bad(&format!("tag at offset {i} runs past the end")))?;
            let value = &blob[start..end];
            let num = || be_u32(value).ok_or_else(|| bad("numeric tag is not 4 bytes"));
            match tag {
                b"TYPE" => bag.kind = num()?,
                b"UUID" if !seen_uuid => seen_uuid = true,
                b"UUID" => {
                    if let Some(ck) = current.take() {
                        bag.class_keys.push(ck);
                    }
                    current = Some(ClassKey {
                        class: 0,
                        wrap: 0,
                        wrapped: Vec::new(),
                    });
                }
                b"WRAP" if !seen_wrap => seen_wrap = true,
                b"CLAS" | b"WRAP" | b"WPKY" | b"KTYP" => {
                    if let Some(ck) = current.as_mut() {
                        match tag {
                            b"CLAS" => ck.class = num()?,
                            b"WRAP" => ck.wrap = num()?,
                            b"WPKY" => ck.wrapped = value.to_vec(),
                            _ => {}
                        }
                    }
                }
                b"SALT" => bag.salt = value.to_vec(),
                b"ITER" => bag.iter = num()?,
                b"DPSL" => bag.dpsl = value.to_vec(),
                b"DPIC" => bag.dpic = num()?,
                _ => {}
            }
            i = end;
        }
        if let Some(ck) = current.take() {
            bag.class_keys.push(ck);
        }
        if bag.salt.is_empty() || bag.iter == 0 {
            return Err(bad("no SALT/ITER: not a backup keybag"));
        }
        if bag.iter > MAX_ITER || bag.dpic > MAX_DPIC {
            return Err(bad("iteration count out of range"));
        }
        Ok(bag)
    }

    /// Derives the 32-byte passphrase key from the backup password (the slow step).
    pub fn derive_key(&self, password: &str) -> [u8; 32] {
        let mut round1 = [0u8; 32];
        let first: &[u8] = if self.dpic > 0 && !self.dpsl.is_empty() {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                password.as_bytes(),
                &self.dpsl,
                self.dpic,
                &mut round1,
            );
            &round1
        } else {
            password.as_bytes()
        };
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(first, &self.salt, self.iter, &mut key);
        key
    }

    /// Unwraps the class keys with a passphrase key; a wrong key fails the integrity check.
    pub fn unlock(&self, passphrase_key: &[u8]) -> Result<ClassKeys, Error> {
        let mut keys = Vec::new();
        for ck in &self.class_keys {
            if ck.wrap & WRAP_PASSPHRASE == 0 || ck.wrapped.is_empty() {
                continue;
            }
            let key = aes_unwrap(passphrase_key, &ck.wrapped).ok_or(Error::WrongPassword)?;
            keys.push((ck.class, key));
        }
        if keys.is_empty() {
            return Err(Error::Keybag(
                "no class key is wrapped with the password".into(),
            ));
        }
        Ok(ClassKeys { keys })
    }
}

/// Unwrapped class keys of an unlocked keybag.
#[derive(Clone)]
pub struct ClassKeys {
    keys: Vec<(u32, Vec<u8>)>,
}

impl std::fmt::Debug for ClassKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "ClassKeys({} classes)", self.keys.len())
    }
}

impl ClassKeys {
    /// Unwraps a per-file (or Manifest.db) key of the given protection class.
    pub fn unwrap_file_key(&self, class: u32, wrapped: &[u8]) -> Option<Vec<u8>> {
        let (_, ck) = self.keys.iter().find(|(c, _)| *c == class)?;
        aes_unwrap(ck, wrapped)
    }
}

fn cipher(key: &[u8]) -> Option<Aes256> {
    Aes256::new_from_slice(key).ok()
}

/// AES key wrap (RFC 3394) with a 256-bit key-encryption key.
pub fn aes_wrap(kek: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
    if plain.len() % 8 != 0 || plain.len() < 16 {
        return None;
    }
    let aes = cipher(kek)?;
    let n = plain.len() / 8;
    let mut a = KW_IV;
    let mut r: Vec<[u8; 8]> = plain
        .chunks_exact(8)
        .map(|c| <[u8; 8]>::try_from(c).unwrap_or_default())
        .collect();
    for j in 0..6u64 {
        for (i, ri) in r.iter_mut().enumerate() {
            let mut block = [0u8; 16];
            block[..8].copy_from_slice(&a.to_be_bytes());
            block[8..].copy_from_slice(ri);
            let b = GenericArray::from_mut_slice(&mut block);
            aes.encrypt_block(b);
            let t = (n as u64) * j + (i as u64 + 1);
            a = u64::from_be_bytes(block[..8].try_into().unwrap_or_default()) ^ t;
            ri.copy_from_slice(&block[8..]);
        }
    }
    let mut out = a.to_be_bytes().to_vec();
    for ri in r {
        out.extend_from_slice(&ri);
    }
    Some(out)
}

/// AES key unwrap (RFC 3394); `None` when the integrity check fails.
pub fn aes_unwrap(kek: &[u8], wrapped: &[u8]) -> Option<Vec<u8>> {
    if wrapped.len() % 8 != 0 || wrapped.len() < 24 {
        return None;
    }
    let aes = cipher(kek)?;
    let n = wrapped.len() / 8 - 1;
    let mut a = u64::from_be_bytes(wrapped[..8].try_into().ok()?);
    let mut r: Vec<[u8; 8]> = wrapped[8..]
        .chunks_exact(8)
        .map(|c| <[u8; 8]>::try_from(c).unwrap_or_default())
        .collect();
    for j in (0..6u64).rev() {
        for i in (0..n).rev() {
            let t = (n as u64) * j + (i as u64 + 1);
            let mut block = [0u8; 16];
            block[..8].copy_from_slice(&(a ^ t).to_be_bytes());
            block[8..].copy_from_slice(&r[i]);
            aes.decrypt_block(GenericArray::from_mut_slice(&mut block));
            a = u64::from_be_bytes(block[..8].try_into().ok()?);
            r[i].copy_from_slice(&block[8..]);
        }
    }
    if a != KW_IV {
        return None;
    }
    Some(r.concat())
}

/// AES-256-CBC decryption state that can be fed in chunks (zero IV, as backups use).
pub struct CbcDecryptor {
    aes: Aes256,
    prev: [u8; 16],
}

impl CbcDecryptor {
    /// Starts decrypting with `key` and a zero IV; `None` if the key is not 32 bytes.
    pub fn new(key: &[u8]) -> Option<CbcDecryptor> {
        Some(CbcDecryptor {
            aes: cipher(key)?,
            prev: [0u8; 16],
        })
    }

    /// Decrypts whole blocks in place; a trailing partial block is left untouched.
    pub fn decrypt(&mut self, data: &mut [u8]) {
        for block in data.chunks_exact_mut(16) {
            let mut c = [0u8; 16];
            c.copy_from_slice(block);
            self.aes.decrypt_block(GenericArray::from_mut_slice(block));
            for (b, p) in block.iter_mut().zip(self.prev.iter()) {
                *b ^= p;
            }
            self.prev = c;
        }
    }
}

/// AES-256-CBC encryption with a zero IV and PKCS#7 padding (the backup file format).
pub fn cbc_encrypt(key: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
    let aes = cipher(key)?;
    let pad = 16 - plain.len() % 16;
    let mut data = plain.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut prev = [0u8; 16];
    for block in data.chunks_exact_mut(16) {
        for (b, p) in block.iter_mut().zip(prev.iter()) {
            *b ^= p;
        }
        aes.encrypt_block(GenericArray::from_mut_slice(block));
        prev.copy_from_slice(block);
    }
    Some(data)
}

/// Length of `data` once its PKCS#7 padding is removed, if the padding is valid.
pub fn unpadded_len(data: &[u8]) -> Option<usize> {
    let n = *data.last()? as usize;
    (1..=16)
        .contains(&n)
        .then(|| data.len().checked_sub(n))
        .flatten()
}
