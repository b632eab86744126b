//! JWT (HS256) operation and refresh tokens, signed with this node's own secret.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const OPERATION: &str = "operation";
pub const REFRESH: &str = "refresh";
const REFRESH_TTL_SECS: u64 = 30 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub username: String,
    pub super_user: bool,
    pub cluster_user: bool,
    pub iat: u64,
    pub exp: u64,
    pub sub: String,
}

/// Signs a token; an operation token lives `operation_ttl`, a refresh token 30 days.
pub fn issue(secret: &[u8], username: &str, super_user: bool, cluster_user: bool, kind: &str, operation_ttl: u64) -> Result<String> {
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ttl = if kind == REFRESH { REFRESH_TTL_SECS } else { operation_ttl };
    let claims = Claims { username: username.into(), super_user, cluster_user, iat, exp: iat + ttl, sub: kind.into() };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret))
        .map_err(|e| Error::Internal(format!("could not sign token: {e}")))
}

/// Checks signature, expiry and kind; any failure is a 401 "invalid token".
pub fn verify(secret: &[u8], token: &str, kind: &str) -> Result<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "sub"]);
    v.leeway = 0;
    let data = decode::<Claims>(token, &DecodingKey::from_secret(secret), &v)
        .map_err(|_| Error::Unauthorized("invalid token".into()))?;
    // RFC 7519: valid only while now is before `exp` (the library also accepts the second of
    // `exp` itself).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(u64::MAX);
    if data.claims.sub != kind || now >= data.claims.exp {
        return Err(Error::Unauthorized("invalid token".into()));
    }
    Ok(data.claims)
}
