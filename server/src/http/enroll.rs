//! `POST /v1/enroll`: a device enrols with a one-time invite code.
//!
//! The body is JSON [`EnrollRequest`]; the device proves it holds its key by
//! signing [`crate::invite::enroll_message`]. The signature is checked
//! before the invite is consumed, so a failed proof does not burn a code.
//!
//! | outcome | status |
//! | --- | --- |
//! | enrolled (or enrolled again with a new invite) | 201 [`EnrollResponse`] |
//! | body not JSON, bad hex | 400 `malformed` |
//! | body too large | 413 `too_large` |
//! | signature does not verify | 401 `unauthorized` |
//! | invite unknown, used or expired | 403 `invite_invalid` |

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::StatusCode,
};
use lynchpin_core::{DeviceId, sync::wire::ErrorCode};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, blocking};
use crate::{
    invite::{code_hash, enroll_message},
    now_ms, short_id,
    storage::Enrollment,
};

/// The body of an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The invite code as the person typed it.
    pub invite: String,
    /// The device id: 64 hex characters.
    pub device: String,
    /// 128 hex characters: the device's Ed25519 signature over
    /// [`enroll_message`]`(invite, device)`.
    pub signature: String,
}

/// The answer to a successful enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The server's id (hex): devices use it as the peer id for sync state.
    pub server: String,
    /// The sync protocol version the server speaks.
    pub protocol: u8,
}

fn malformed(message: &'static str) -> ApiError {
    ApiError::protocol(ErrorCode::Malformed, message)
}

pub(super) async fn enroll(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<EnrollResponse>), ApiError> {
    let body = body.map_err(|rejection| ApiError::body(&rejection))?;
    let request: EnrollRequest = serde_json::from_slice(&body).map_err(|_| {
        malformed("the body must be JSON with string fields invite, device and signature")
    })?;
    let device = DeviceId::parse(&request.device)
        .ok_or_else(|| malformed("device must be 64 hex characters"))?;
    let mut signature = [0u8; 64];
    if request.signature.len() != 128
        || hex::decode_to_slice(&request.signature, &mut signature).is_err()
    {
        return Err(malformed("signature must be 128 hex characters"));
    }
    if !device.verify(
        &enroll_message(&request.invite, &request.device),
        &signature,
    ) {
        tracing::warn!(device = %short_id(&device), "enrolment with a signature that does not verify");
        return Err(ApiError::protocol(
            ErrorCode::Unauthorized,
            "the signature does not prove the device holds its key",
        ));
    }
    let Some(hash) = code_hash(&request.invite) else {
        tracing::info!(device = %short_id(&device), "enrolment with a malformed invite code");
        return Err(ApiError::invite_invalid());
    };
    let store = state.store.clone();
    let outcome = blocking(move || {
        store
            .enroll(&hash, &device, now_ms())
            .map_err(|e| ApiError::storage(&e))
    })
    .await?;
    match outcome {
        Enrollment::Enrolled { already } => {
            tracing::info!(device = %short_id(&device), already, "device enrolled");
            Ok((
                StatusCode::CREATED,
                Json(EnrollResponse {
                    server: state.store.server_id().to_string(),
                    protocol: crate::PROTOCOL,
                }),
            ))
        }
        Enrollment::InviteInvalid => {
            tracing::info!(device = %short_id(&device), "enrolment with an invalid invite");
            Err(ApiError::invite_invalid())
        }
    }
}
