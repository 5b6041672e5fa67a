//! [`ApiError`]: every error the HTTP API returns, as a status code and a
//! JSON body `{"error": "<code name>", "message": "<short text>"}`.
//!
//! Code names are those of [`ErrorCode::name`] plus `not_found`,
//! `method_not_allowed` and `invite_invalid`. Messages are fixed texts
//! chosen here or in the handlers; they never carry document content,
//! personal data or internal error details (those go to the log).

use std::borrow::Cow;

use axum::{
    Json,
    extract::rejection::BytesRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use lynchpin_core::sync::wire::{ErrorCode, WireError};

use crate::storage::StorageError;

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The code name in the body's `error` field.
    pub code: &'static str,
    /// The body's `message` field.
    pub message: Cow<'static, str>,
    /// Seconds for a `Retry-After` header, if any.
    pub retry_after: Option<u64>,
}

/// The HTTP status for a protocol error code.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Malformed | ErrorCode::UnsupportedVersion => StatusCode::BAD_REQUEST,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// An error with one of the protocol's codes.
    pub fn protocol(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: status_for(code),
            code: code.name(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "no such route".into(),
            retry_after: None,
        }
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "this route does not accept that method".into(),
            retry_after: None,
        }
    }

    /// 403 `invite_invalid`: unknown, used or expired (never which).
    pub fn invite_invalid() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "invite_invalid",
            message: "the invite code is not valid, was used already or has expired".into(),
            retry_after: None,
        }
    }

    /// 429 `rate_limited`, to retry after `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::protocol(ErrorCode::RateLimited, "too many requests from this device")
        }
    }

    /// 500 `internal`; the cause goes to the log, not to the client.
    pub fn internal() -> Self {
        Self::protocol(ErrorCode::Internal, "the server failed; try again later")
    }

    /// A request body that could not be read: too large, or cut off.
    pub fn body(rejection: &BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::protocol(
                ErrorCode::TooLarge,
                "the request body is larger than allowed",
            )
        } else {
            Self::protocol(ErrorCode::Malformed, "the request body could not be read")
        }
    }

    /// A sync frame that could not be decoded.
    pub fn frame(error: &WireError) -> Self {
        match error {
            WireError::UnsupportedVersion { .. } => Self::protocol(
                ErrorCode::UnsupportedVersion,
                format!(
                    "this server speaks sync protocol version {}",
                    crate::PROTOCOL
                ),
            ),
            WireError::TooLarge(what) => Self::protocol(
                ErrorCode::TooLarge,
                format!("the sync frame exceeds a limit: {what}"),
            ),
            // A client sending an error frame as a request is a malformed
            // request, whatever code the frame carries.
            WireError::Peer { .. } => {
                Self::protocol(ErrorCode::Malformed, "expected a sync request frame")
            }
            other => Self::protocol(other.code(), other.to_string()),
        }
    }

    /// A storage failure: the client's fault for a bad frame, otherwise the
    /// server's.
    pub fn storage(error: &StorageError) -> Self {
        match error {
            StorageError::Frame(wire) => Self::frame(wire),
            other => {
                tracing::error!(error = %other, "storage failed");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({
            "error": self.code,
            "message": self.message,
        }));
        let mut response = (self.status, body).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_errors_map_to_client_errors() {
        assert_eq!(
            ApiError::frame(&WireError::NotAFrame).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ApiError::frame(&WireError::UnsupportedVersion { found: 9 }).code,
            "unsupported_version"
        );
        assert_eq!(
            ApiError::frame(&WireError::TooLarge("documents")).status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let peer = WireError::Peer {
            code: ErrorCode::Internal,
            message: "x".into(),
        };
        assert_eq!(ApiError::frame(&peer).status, StatusCode::BAD_REQUEST);
        assert_eq!(
            ApiError::frame(&WireError::UnknownCriticalExtension(3)).code,
            "malformed"
        );
    }
}
