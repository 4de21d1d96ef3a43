//! Encrypted Android backups (`AES-256` in the header).
//!
//! After the four common header lines an encrypted backup has five more: the
//! user-password salt, the master-key checksum salt, the PBKDF2 round count,
//! the IV of the user key, and the master-key blob (all hex but the count).
//! The user key is PBKDF2-HMAC-SHA1(password, salt, rounds, 256 bits); it
//! opens the blob (AES-256-CBC, PKCS#7): `iv_len iv key_len key ck_len ck`.
//! The checksum proves the password: PBKDF2 of the master key (its bytes
//! widened to Java chars and UTF-8 encoded, as Android does from format 2 on)
//! with the checksum salt. The body is AES-256-CBC under the master key.

use std::io::Read;

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;

/// Most PBKDF2 rounds accepted (Android writes 10,000); more is an attack on our time.
const MAX_ROUNDS: u32 = 10_000_000;

/// Why an encrypted backup could not be opened.
pub(crate) enum OpenError {
    /// The password does not open the master key.
    WrongPassword,
    /// The header is malformed.
    Header(String),
}

/// The master key and IV of an encrypted backup's body.
pub(crate) struct MasterKey {
    key: [u8; 32],
    iv: [u8; 16],
}

fn unhex(s: &str, what: &str) -> Result<Vec<u8>, OpenError> {
    let s = s.trim();
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(OpenError::Header(format!("header: the {what} is not hex")));
    }
    Ok((0..s.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect())
}

fn pbkdf2_sha1(password: &[u8], salt: &[u8], rounds: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut out);
    out
}

/// Java's `(char) byte` then UTF-8: bytes from 0x80 up become 0xFF80–0xFFFF, three bytes each.
fn java_chars_utf8(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice(&[0xef, 0xbc | (b >> 6), 0x80 | (b & 0x3f)]);
        }
    }
    out
}

/// AES-256-CBC decryption of a whole buffer with PKCS#7 padding removed.
fn cbc_decrypt(key: &[u8; 32], iv: &[u8; 16], data: &[u8]) -> Option<Vec<u8>> {
    if data.is_empty() || data.len() % 16 != 0 {
        return None;
    }
    let cipher = Aes256::new(key.into());
    let mut prev = *iv;
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks(16) {
        let mut b = aes::Block::clone_from_slice(block);
        cipher.decrypt_block(&mut b);
        out.extend(b.iter().zip(prev).map(|(x, p)| x ^ p));
        prev.copy_from_slice(block);
    }
    let pad = usize::from(*out.last()?);
    if pad == 0
        || pad > 16
        || !out[out.len() - pad..]
            .iter()
            .all(|b| usize::from(*b) == pad)
    {
        return None;
    }
    out.truncate(out.len() - pad);
    Some(out)
}

/// AES-256-CBC encryption with PKCS#7 padding (the generator's side).
pub fn cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let cipher = Aes256::new(key.into());
    let pad = 16 - data.len() % 16;
    let mut buf = data.to_vec();
    buf.extend(std::iter::repeat_n(pad as u8, pad));
    let mut prev = *iv;
    for block in buf.chunks_mut(16) {
        for (x, p) in block.iter_mut().zip(prev) {
            *x ^= p;
        }
        let mut b = aes::Block::clone_from_slice(block);
        cipher.encrypt_block(&mut b);
        block.copy_from_slice(&b);
        prev.copy_from_slice(block);
    }
    buf
}

/// The master-key blob and its checksum for a generator: returns the five header lines.
pub fn encryption_header(
    password: &str,
    rounds: u32,
    salts: (&[u8], &[u8]),
    user_iv: &[u8; 16],
    master_key: &[u8; 32],
    master_iv: &[u8; 16],
) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    let user_key = pbkdf2_sha1(password.as_bytes(), salts.0, rounds);
    let ck = pbkdf2_sha1(&java_chars_utf8(master_key), salts.1, rounds);
    let mut blob = vec![16];
    blob.extend_from_slice(master_iv);
    blob.push(32);
    blob.extend_from_slice(master_key);
    blob.push(32);
    blob.extend_from_slice(&ck);
    let blob = cbc_encrypt(&user_key, user_iv, &blob);
    format!(
        "{}\n{}\n{rounds}\n{}\n{}\n",
        hex(salts.0),
        hex(salts.1),
        hex(user_iv),
        hex(&blob)
    )
}

/// Reads the five encryption header lines and opens the master key with `password`.
pub(crate) fn open(
    version: u32,
    lines: [String; 5],
    password: &str,
) -> Result<MasterKey, OpenError> {
    let [salt, ck_salt, rounds, iv, blob] = lines;
    let salt = unhex(&salt, "user password salt")?;
    let ck_salt = unhex(&ck_salt, "checksum salt")?;
    let rounds: u32 = rounds
        .trim()
        .parse()
        .ok()
        .filter(|r| (1..=MAX_ROUNDS).contains(r))
        .ok_or_else(|| OpenError::Header(format!("header: round count {rounds:?}")))?;
    let iv: [u8; 16] = unhex(&iv, "user key IV")?
        .try_into()
        .map_err(|_| OpenError::Header("header: the user key IV is not 16 bytes".into()))?;
    let blob = unhex(&blob, "master key blob")?;
    let user_key = pbkdf2_sha1(password.as_bytes(), &salt, rounds);
    let plain = cbc_decrypt(&user_key, &iv, &blob).ok_or(OpenError::WrongPassword)?;
    // iv_len iv key_len key ck_len ck
    let mut at = 0;
    let mut field = || -> Option<&[u8]> {
        let len = usize::from(*plain.get(at)?);
        let f = plain.get(at + 1..at + 1 + len)?;
        at += 1 + len;
        Some(f)
    };
    let (Some(mk_iv), Some(mk), Some(ck)) = (field(), field(), field()) else {
        return Err(OpenError::WrongPassword);
    };
    let (Ok(iv), Ok(key)) = (<[u8; 16]>::try_from(mk_iv), <[u8; 32]>::try_from(mk)) else {
        return Err(OpenError::WrongPassword);
    };
    let widened = if version >= 2 {
        java_chars_utf8(&key)
    } else {
        key.to_vec()
    };
    if pbkdf2_sha1(&widened, &ck_salt, rounds)[..] != *ck {
        return Err(OpenError::WrongPassword);
    }
    Ok(MasterKey { key, iv })
}

/// A reader that decrypts an AES-256-CBC stream and strips its PKCS#7 padding at the end.
pub(crate) struct CbcReader<R> {
    inner: R,
    cipher: Aes256,
    prev: [u8; 16],
    /// Decrypted bytes not yet handed out; the last block is held back until the end is known.
    out: Vec<u8>,
    pos: usize,
    held: Option<[u8; 16]>,
    done: bool,
    buf: Vec<u8>,
}

impl<R: Read> CbcReader<R> {
    pub(crate) fn new(inner: R, key: &MasterKey) -> Self {
        CbcReader {
            inner,
            cipher: Aes256::new((&key.key).into()),
            prev: key.iv,
            out: Vec::new(),
            pos: 0,
            held: None,
            done: false,
            buf: Vec::new(),
        }
    }

    /// Decrypts the next chunk of blocks into `out`.
    fn fill(&mut self) -> std::io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(64 << 10, 0);
        let (mut n, mut eof) = (0, false);
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.pos = 0;
        for block in buf[..n - n % 16].chunks(16) {
            let mut b = aes::Block::clone_from_slice(block);
            self.cipher.decrypt_block(&mut b);
            let mut plain = [0u8; 16];
            for (i, (x, p)) in b.iter().zip(self.prev).enumerate() {
                plain[i] = x ^ p;
            }
            self.prev.copy_from_slice(block);
            if let Some(h) = self.held.replace(plain) {
                self.out.extend_from_slice(&h);
            }
        }
        if eof {
            self.done = true;
            if let Some(last) = self.held.take() {
                // The last block carries the padding, unless the stream was cut mid-block.
                let pad = usize::from(last[15]);
                let padded = n % 16 == 0
                    && (1..=16).contains(&pad)
                    && last[16 - pad..].iter().all(|b| usize::from(*b) == pad);
                self.out
                    .extend_from_slice(&last[..if padded { 16 - pad } else { 16 }]);
            }
        }
        self.buf = buf;
        Ok(())
    }
}

impl<R: Read> Read for CbcReader<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.fill()?;
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
