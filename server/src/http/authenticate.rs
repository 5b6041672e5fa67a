//! The checks every signed route makes, in an order that never lets a
//! client learn which devices are enrolled: headers, time, enrolment and
//! signature (one answer for both), nonce, rate limit.

use axum::http::{HeaderMap, Method};
use lynchpin_core::sync::wire::ErrorCode;

use super::{ApiError, AppState};
use crate::{
    auth::{AuthError, Claims},
    now_ms, short_id,
};

fn unauthorized(error: AuthError) -> ApiError {
    ApiError::protocol(ErrorCode::Unauthorized, error.public_message())
}

/// Reads the authentication headers and checks the timestamp (no storage).
pub(super) fn claims(headers: &HeaderMap) -> Result<Claims, ApiError> {
    let claims = Claims::from_headers(headers).map_err(|e| {
        tracing::info!(reason = %e, "request refused");
        unauthorized(e)
    })?;
    claims.check_time(now_ms()).map_err(|e| {
        tracing::info!(device = %short_id(&claims.device), reason = %e, "request refused");
        unauthorized(e)
    })?;
    Ok(claims)
}

/// Checks enrolment, the signature over the request, the nonce and the rate
/// limit. Runs storage calls: call it from a blocking task.
pub(super) fn check(
    state: &AppState,
    claims: &Claims,
    method: &Method,
    path: &str,
    body: &[u8],
    now: u64,
) -> Result<(), ApiError> {
    let device = claims.device;
    let refuse = |e: AuthError| {
        // A stranger knocking is routine; a bad signature or a replay for
        // an enrolled device is worth an operator's attention.
        if e == AuthError::NotEnrolled {
            tracing::info!(device = %short_id(&device), reason = %e, "request refused");
        } else {
            tracing::warn!(device = %short_id(&device), reason = %e, "request refused");
        }
        unauthorized(e)
    };
    let store = &state.store;
    if !store
        .is_enrolled(&device)
        .map_err(|e| ApiError::storage(&e))?
    {
        return Err(refuse(AuthError::NotEnrolled));
    }
    claims.verify(method.as_str(), path, body).map_err(refuse)?;
    if !store
        .record_nonce(&device, &claims.nonce, claims.nonce_expiry_ms(), now)
        .map_err(|e| ApiError::storage(&e))?
    {
        return Err(refuse(AuthError::Replayed));
    }
    if let Err(seconds) = state.limiter.check(&device, now) {
        tracing::info!(device = %short_id(&device), "request rate limited");
        return Err(ApiError::rate_limited(seconds));
    }
    Ok(())
}
