//! The opaque `next` token of TAXII pagination.
//!
//! It carries the position after which the next page starts, bound by an
//! HMAC to the collection, the endpoint, the filters and the caller. It is
//! stateless, so any replica sharing the hub secret (kept in the database)
//! can continue a query another replica started. Because every page re-runs
//! the visibility rules, a token can never reveal an object the caller may
//! not see; the binding merely stops tokens being replayed with other
//! filters or by other callers.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use vigil_store::Cursor;

use crate::error::ApiError;

const MAC_LEN: usize = 16;

fn mac(secret: &[u8], binding: &str, c: Cursor) -> [u8; MAC_LEN] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256>>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    m.update(binding.as_bytes());
    m.update(&c.date_added.to_be_bytes());
    m.update(&c.pk.to_be_bytes());
    let full = m.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// Encodes a position as a `next` token.
pub fn encode(secret: &[u8], binding: &str, c: Cursor) -> String {
    let mut bytes = Vec::with_capacity(16 + MAC_LEN);
    bytes.extend_from_slice(&c.date_added.to_be_bytes());
    bytes.extend_from_slice(&c.pk.to_be_bytes());
    bytes.extend_from_slice(&mac(secret, binding, c));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a `next` token; fails with 400 if it was not issued for this query.
pub fn decode(secret: &[u8], binding: &str, token: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::BadRequest("the next parameter is not valid for this request".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| bad())?;
    if bytes.len() != 16 + MAC_LEN {
        return Err(bad());
    }
    let mut da = [0u8; 8];
    let mut pk = [0u8; 8];
    da.copy_from_slice(&bytes[..8]);
    pk.copy_from_slice(&bytes[8..16]);
    let c = Cursor {
        date_added: i64::from_be_bytes(da),
        pk: i64::from_be_bytes(pk),
    };
    let expected = mac(secret, binding, c);
    if subtle::ConstantTimeEq::ct_eq(&expected[..], &bytes[16..]).into() {
        Ok(c)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let c = Cursor {
            date_added: 1_700_000_000_000_000,
            pk: 42,
        };
        let t = encode(b"secret", "q1", c);
        assert_eq!(decode(b"secret", "q1", &t).unwrap(), c);
        assert!(decode(b"secret", "q2", &t).is_err());
        assert!(decode(b"other", "q1", &t).is_err());
        assert!(decode(b"secret", "q1", "garbage!").is_err());
        let mut tampered = t.into_bytes();
        tampered[3] ^= 1;
        assert!(decode(b"secret", "q1", &String::from_utf8_lossy(&tampered)).is_err());
    }
}
