//! C2SP `signed-note`: a UTF-8 text signed by one or more named keys, with
//! Ed25519 note signatures (type 0x01) and timestamped `cosignature/v1`
//! witness cosignatures (type 0x04, C2SP `tlog-cosignature`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::LedgerError;

/// Signature type byte of a plain Ed25519 note signature.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of a timestamped Ed25519 `cosignature/v1`.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Most signature lines accepted on one note (bounds work on hostile input).
pub const MAX_SIGNATURES: usize = 100;
/// Largest note accepted, in bytes.
pub const MAX_NOTE_LEN: usize = 1 << 20;

const SIG_PREFIX: &str = "\u{2014} ";

/// One signature line of a note: the key name, its 4-byte key id and the
/// signature bytes that follow the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name (no spaces, no `+`).
    pub name: String,
    /// Key id, the first 4 bytes of the decoded signature.
    pub key_id: u32,
    /// The rest of the decoded signature.
    pub sig: Vec<u8>,
}

impl NoteSignature {
    /// Formats the line, `— name base64(key_id || sig)` plus newline.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.sig);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }

    /// Parses one signature line (without its newline).
    pub fn parse_line(line: &str, line_no: usize) -> Result<Self, LedgerError> {
        let bad = |why: &str| LedgerError::Note {
            line: line_no,
            why: why.to_string(),
        };
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("signature line must start with U+2014 and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("signature line needs a key name and a signature"))?;
        if !valid_key_name(name) {
            return Err(bad("invalid key name"));
        }
        let raw = B64
            .decode(b64)
            .map_err(|_| bad("signature is not valid base64"))?;
        if raw.len() < 5 {
            return Err(bad("signature too short"));
        }
        let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        Ok(Self {
            name: name.to_string(),
            key_id,
            sig: raw[4..].to_vec(),
        })
    }
}

/// A key name is non-empty UTF-8 without whitespace or `+`.
fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// A signed note: the signed text (ending in a newline) and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// An unsigned note; `text` must be non-empty and end with a newline.
    pub fn new(text: impl Into<String>) -> Result<Self, LedgerError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a note: text, a blank line, then one or more signature lines.
    pub fn parse(bytes: &[u8]) -> Result<Self, LedgerError> {
        if bytes.len() > MAX_NOTE_LEN {
            return Err(LedgerError::Note {
                line: 0,
                why: format!("note longer than {MAX_NOTE_LEN} bytes"),
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|e| LedgerError::Note {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            why: "not valid UTF-8".into(),
        })?;
        let split = s.rfind("\n\n").ok_or(LedgerError::Note {
            line: 0,
            why: "no blank line before the signatures".into(),
        })?;
        let text = &s[..=split];
        check_text(text)?;
        let sig_block = &s[split + 2..];
        let first_sig_line = text.matches('\n').count() + 2;
        let Some(sig_block) = sig_block.strip_suffix('\n') else {
            return Err(LedgerError::Note {
                line: first_sig_line,
                why: "signature block must end with a newline".into(),
            });
        };
        let mut signatures = Vec::new();
        for (i, line) in sig_block.split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(LedgerError::Note {
                    line: first_sig_line + i,
                    why: format!("more than {MAX_SIGNATURES} signatures"),
                });
            }
            signatures.push(NoteSignature::parse_line(line, first_sig_line + i)?);
        }
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }

    /// The signed text, ending in a newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line (kept once: an identical line is not repeated).
    pub fn add_signature(&mut self, sig: NoteSignature) {
        if !self.signatures.contains(&sig) {
            self.signatures.push(sig);
        }
    }

    /// Serialises the note.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out
    }

    /// Checks the signatures against `verifiers`.
    ///
    /// Signatures from unknown keys are ignored; a signature that claims a
    /// known key (same name and key id) but does not verify is an error, and
    /// so is a note that no known key signed.
    pub fn verify(&self, verifiers: &[Verifier]) -> Result<VerifiedNote, LedgerError> {
        let mut ok = Vec::new();
        for sig in &self.signatures {
            let Some(v) = verifiers
                .iter()
                .find(|v| v.name() == sig.name && v.key_id() == sig.key_id)
            else {
                continue;
            };
            let timestamp = v.check(&self.text, sig)?;
            let entry = VerifiedSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
                timestamp,
            };
            if !ok.contains(&entry) {
                ok.push(entry);
            }
        }
        if ok.is_empty() {
            return Err(LedgerError::NoKnownSignature);
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            signers: ok,
        })
    }
}

fn check_text(text: &str) -> Result<(), LedgerError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(LedgerError::Note {
            line: 1,
            why: "note text must be non-empty and end with a newline".into(),
        });
    }
    // Only newline is allowed among control characters.
    for (i, line) in text.split('\n').enumerate() {
        if line.chars().any(|c| c.is_control()) {
            return Err(LedgerError::Note {
                line: i + 1,
                why: "control character in note text".into(),
            });
        }
    }
    Ok(())
}

/// A signature that verified: who signed, and for a cosignature, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Key name.
    pub name: String,
    /// Key id.
    pub key_id: u32,
    /// Cosignature timestamp (seconds since the epoch); `None` for a plain
    /// note signature.
    pub timestamp: Option<u64>,
}

/// A note whose text was signed by at least one known key. Only
/// [`Note::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    text: String,
    signers: Vec<VerifiedSignature>,
}

impl VerifiedNote {
    /// The signed text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The keys whose signatures verified.
    pub fn signers(&self) -> &[VerifiedSignature] {
        &self.signers
    }
}

/// Computes a key id: the first 4 bytes of SHA-256(name || 0x0A || type || key).
pub fn key_id(name: &str, alg: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The message a `cosignature/v1` signs for a checkpoint body at `timestamp`.
pub fn cosignature_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// A public key that checks note signatures, parsed from a verifier key
/// string `name+hexkeyid+base64(type || key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    alg: u8,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses a verifier key string.
    pub fn parse(vkey: &str) -> Result<Self, LedgerError> {
        let bad = |why: &str| LedgerError::Key(format!("verifier key {vkey:?}: {why}"));
        // The base64 key may itself contain '+': split off name and id only.
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected name+keyid+key"));
        };
        if !valid_key_name(name) {
            return Err(bad("invalid key name"));
        }
        if id_hex.len() != 8 {
            return Err(bad("key id must be 8 hex digits"));
        }
        let key_id = u32::from_str_radix(id_hex, 16).map_err(|_| bad("key id is not hex"))?;
        let raw = B64.decode(b64).map_err(|_| bad("key is not base64"))?;
        let (&alg, key) = raw.split_first().ok_or_else(|| bad("empty key"))?;
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE_V1 {
            return Err(bad("unsupported signature type"));
        }
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| bad("Ed25519 key must be 32 bytes"))?;
        if key_id != self::key_id(name, alg, &key) {
            return Err(bad("key id does not match the key"));
        }
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not an Ed25519 point"))?;
        Ok(Self {
            name: name.to_string(),
            key_id,
            alg,
            key,
        })
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
    /// Whether this is a witness cosignature key (type 0x04).
    pub fn is_cosigner(&self) -> bool {
        self.alg == ALG_COSIGNATURE_V1
    }

    /// The verifier key string.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![self.alg];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    /// Checks one signature on `text`; returns the cosignature timestamp.
    fn check(&self, text: &str, sig: &NoteSignature) -> Result<Option<u64>, LedgerError> {
        let bad = || LedgerError::BadSignature {
            name: self.name.clone(),
        };
        match self.alg {
            ALG_ED25519 => {
                let s = ed25519_dalek::Signature::from_slice(&sig.sig).map_err(|_| bad())?;
                self.key
                    .verify_strict(text.as_bytes(), &s)
                    .map_err(|_| bad())?;
                Ok(None)
            }
            _ => {
                if sig.sig.len() != 72 {
                    return Err(bad());
                }
                let (ts, s) = sig.sig.split_at(8);
                let mut tsb = [0u8; 8];
                tsb.copy_from_slice(ts);
                let timestamp = u64::from_be_bytes(tsb);
                let s = ed25519_dalek::Signature::from_slice(s).map_err(|_| bad())?;
                // A cosignature only ever covers a checkpoint.
                Checkpoint::parse(text)?;
                let msg = cosignature_message(text, timestamp);
                self.key
                    .verify_strict(msg.as_bytes(), &s)
                    .map_err(|_| bad())?;
                Ok(Some(timestamp))
            }
        }
    }
}

/// A private key that signs notes (type 0x01) or cosigns checkpoints
/// (type 0x04).
///
/// Stored as `PRIVATE+KEY+name+hexkeyid+base64(type || seed)`. `Debug` never
/// prints the key.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    alg: u8,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Makes a signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, alg: u8, seed: [u8; 32]) -> Result<Self, LedgerError> {
        if !valid_key_name(name) {
            return Err(LedgerError::Key(format!("invalid key name {name:?}")));
        }
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE_V1 {
            return Err(LedgerError::Key(format!(
                "unsupported signature type {alg:#04x}"
            )));
        }
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(name, alg, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_string(),
            key_id,
            alg,
            key,
        })
    }

    /// Generates a fresh key from the operating system's random source.
    pub fn generate(name: &str, alg: u8) -> Result<Self, LedgerError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|e| LedgerError::Key(format!("no randomness: {e}")))?;
        Self::from_seed(name, alg, seed)
    }

    /// Parses a private key string `PRIVATE+KEY+name+hexkeyid+base64(type||seed)`.
    pub fn parse(skey: &str) -> Result<Self, LedgerError> {
        // Never echo the key itself in errors.
        let bad = |why: &str| LedgerError::Key(format!("private key: {why}"));
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("must start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected PRIVATE+KEY+name+keyid+key"));
        };
        let raw = B64.decode(b64).map_err(|_| bad("key is not base64"))?;
        let (&alg, seed) = raw.split_first().ok_or_else(|| bad("empty key"))?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| bad("seed must be 32 bytes"))?;
        let s = Self::from_seed(name, alg, seed)?;
        if format!("{:08x}", s.key_id) != id_hex.to_ascii_lowercase() {
            return Err(bad("key id does not match the key"));
        }
        Ok(s)
    }

    /// The private key string (handle with care: this is the secret).
    pub fn to_skey(&self) -> String {
        let mut raw = vec![self.alg];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(raw)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            alg: self.alg,
            key: self.key.verifying_key(),
        }
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signs a note text with a plain Ed25519 note signature.
    ///
    /// A cosigning key refuses: it must only ever sign `cosignature/v1`
    /// messages, so use [`Signer::cosign`].
    pub fn sign(&self, note: &Note) -> Result<NoteSignature, LedgerError> {
        if self.alg != ALG_ED25519 {
            return Err(LedgerError::Key(format!(
                "key {} is a cosignature key; it only cosigns checkpoints",
                self.name
            )));
        }
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            sig: self.key.sign(note.text().as_bytes()).to_bytes().to_vec(),
        })
    }

    /// Cosigns a checkpoint body at `timestamp` (C2SP tlog-cosignature).
    pub fn cosign(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, LedgerError> {
        if self.alg != ALG_COSIGNATURE_V1 {
            return Err(LedgerError::Key(format!(
                "key {} is a note signing key, not a cosignature key",
                self.name
            )));
        }
        Checkpoint::parse(checkpoint_text)?;
        let msg = cosignature_message(checkpoint_text, timestamp);
        let mut sig = timestamp.to_be_bytes().to_vec();
        sig.extend_from_slice(&self.key.sign(msg.as_bytes()).to_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            sig,
        })
    }
}
