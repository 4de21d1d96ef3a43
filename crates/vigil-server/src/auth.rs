//! Who is calling: API tokens (bearer, or HTTP Basic with the token as the
//! password), and what a caller may do on a collection.
//!
//! Tokens are 256-bit random secrets shown once; the store keeps their
//! SHA-256. A fast hash is enough because the secret has full entropy; the
//! stored hash is compared in constant time after the indexed lookup.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use vigil_store::{Collection, Grant, Role, Subject, Tlp, User, Visibility};

use crate::error::ApiError;
use crate::{timestamp, AppState};

/// Prefix of every token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "vgl_";

/// A freshly generated token secret and its hash.
#[derive(Debug)]
pub struct Secret {
    /// The secret to show once to its owner.
    pub token: String,
    /// Its SHA-256, the only thing stored.
    pub hash: [u8; 32],
}

/// Generates a new random token.
pub fn generate_token() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash_token(&token);
    Secret { token, hash }
}

/// SHA-256 of a token string.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No credentials: public collections, TLP:CLEAR only.
    Anonymous,
    /// A user authenticated by one of their tokens.
    User {
        /// The user.
        user: User,
        /// The token used.
        token_id: i64,
    },
}

impl Caller {
    /// The user, if authenticated.
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::Anonymous => None,
            Caller::User { user, .. } => Some(user),
        }
    }
    /// Whether the caller is an administrator.
    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(|u| u.role == Role::Admin)
    }
    /// Fails with 401 for anonymous callers.
    pub fn require_user(&self) -> Result<&User, ApiError> {
        self.user()
            .ok_or_else(|| ApiError::Unauthorized("authentication required".into()))
    }
    /// Fails with 401 for anonymous callers and 403 for non-administrators.
    pub fn require_admin(&self) -> Result<&User, ApiError> {
        let u = self.require_user()?;
        if u.role == Role::Admin {
            Ok(u)
        } else {
            Err(ApiError::Forbidden(
                "this operation needs the admin role".into(),
            ))
        }
    }
    /// A stable key binding pagination tokens to the caller.
    pub fn key(&self) -> String {
        match self.user() {
            None => "anonymous".into(),
            Some(u) => format!("user:{}", u.id),
        }
    }
}

/// Extracts the token from `Authorization: Bearer …` or `Basic …`.
///
/// With Basic, the password is the token and the user name must match its
/// owner (checked by the caller).
fn credentials(parts: &Parts) -> Result<Option<(Option<String>, String)>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || ApiError::Unauthorized("malformed Authorization header".into());
    let value = value.to_str().map_err(|_| bad())?.trim();
    let (scheme, rest) = value.split_once(' ').ok_or_else(bad)?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Ok(Some((None, rest.trim().to_string()))),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (user, pass) = text.split_once(':').ok_or_else(bad)?;
            Ok(Some((Some(user.to_string()), pass.to_string())))
        }
        _ => Err(ApiError::Unauthorized(
            "unsupported authorization scheme; use Bearer or Basic".into(),
        )),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some((basic_user, token)) = credentials(parts)? else {
            return Ok(Caller::Anonymous);
        };
        // One message for every failure, so a probe learns nothing about
        // which part was wrong.
        let invalid = || ApiError::Unauthorized("invalid, expired or revoked credentials".into());
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(invalid());
        }
        let hash = hash_token(&token);
        let Some((info, stored, user)) = state.hub.store.token_by_hash(&hash).await? else {
            return Err(invalid());
        };
        if !bool::from(stored.ct_eq(&hash)) {
            return Err(invalid());
        }
        let now = timestamp::now();
        if info.revoked.is_some() || info.expires.is_some_and(|e| e <= now) {
            return Err(invalid());
        }
        if basic_user.is_some_and(|u| u != user.name) {
            return Err(invalid());
        }
        state.hub.limiter.check(info.id)?;
        Ok(Caller::User {
            user,
            token_id: info.id,
        })
    }
}

/// What a caller may do on one collection, and what it may see there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// May read objects.
    pub read: bool,
    /// May add (and, with `read`, delete) objects.
    pub write: bool,
    /// The TLP visibility rules applied to every read.
    pub visibility: Visibility,
}

/// Computes a caller's access to a collection from its grants.
///
/// Reading: public collections (anyone), a read grant to the caller's
/// organisation or to the caller, or the admin role. Writing: a write grant
/// (contributors and admins only) or the admin role. Seeing: TLP:CLEAR for
/// anonymous callers, TLP:GREEN for any user, TLP:AMBER for users whose
/// organisation or who themselves hold a read grant, AMBER+STRICT for members
/// of the collection's owning organisation and of the submitting
/// organisation, TLP:RED for users named by a user grant and for the
/// submitter.
pub fn access(caller: &Caller, collection: &Collection, grants: &[Grant]) -> Access {
    let Some(user) = caller.user() else {
        return Access {
            read: collection.public,
            write: false,
            visibility: Visibility::anonymous(),
        };
    };
    let org_grant = user
        .org_id
        .and_then(|o| grants.iter().find(|g| g.subject == Subject::Org(o)));
    let user_grant = grants.iter().find(|g| g.subject == Subject::User(user.id));
    let granted_read =
        org_grant.is_some_and(|g| g.can_read) || user_grant.is_some_and(|g| g.can_read);
    let granted_write =
        org_grant.is_some_and(|g| g.can_write) || user_grant.is_some_and(|g| g.can_write);
    let admin = user.role == Role::Admin;
    let level = if granted_read { Tlp::Amber } else { Tlp::Green };
    Access {
        read: admin || collection.public || granted_read,
        write: admin || (granted_write && user.role >= Role::Contributor),
        visibility: Visibility {
            level,
            org_id: user.org_id,
            user_id: Some(user.id),
            strict: user.org_id.is_some() && user.org_id == collection.owner_org,
            red: user_grant.is_some_and(|g| g.can_read),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with(TOKEN_PREFIX));
        assert_eq!(a.hash, hash_token(&a.token));
        assert!(a.token.len() >= 40);
    }
}
