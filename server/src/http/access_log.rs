//! `GET /v1/documents/{id}/access-log`: which devices read or wrote a
//! document and when, for the document's admins and owners (the young
//! person always among them for their own plan and journal).
//!
//! Signed like a sync request (over an empty body). 403 `forbidden` for a
//! device that is not an admin or owner of the document — the same answer
//! whether or not the document exists.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, Method, Uri},
};
use chrono::{DateTime, Utc};
use lynchpin_core::{DeviceId, DocumentId, Role, sync::wire::ErrorCode};

use super::{ApiError, AppState, authenticate, blocking};
use crate::{
    now_ms, short_id,
    storage::{AccessAction, AccessRecord},
};

/// The most entries one answer carries (newest first).
pub const MAX_ENTRIES: usize = 10_000;

/// One entry of the answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessLogEntry {
    /// The device, as 64 hex characters.
    pub device: DeviceId,
    /// `read` or `write`.
    pub action: String,
    /// When, RFC 3339 UTC with milliseconds.
    pub at: DateTime<Utc>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessLogResponse {
    /// The document.
    pub document: String,
    /// Newest first.
    pub entries: Vec<AccessLogEntry>,
}

impl From<AccessRecord> for AccessLogEntry {
    fn from(record: AccessRecord) -> Self {
        Self {
            device: record.device,
            action: match record.action {
                AccessAction::Read => "read",
                AccessAction::Write => "write",
            }
            .to_owned(),
            at: i64::try_from(record.at_ms)
                .ok()
                .and_then(DateTime::from_timestamp_millis)
                .unwrap_or_default(),
        }
    }
}

pub(super) async fn access_log(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<AccessLogResponse>, ApiError> {
    let claims = authenticate::claims(&headers)?;
    let now = now_ms();
    let path = uri.path().to_owned();
    blocking(move || {
        authenticate::check(&state, &claims, &method, &path, &[], now)?;
        let forbidden = || {
            ApiError::protocol(
                ErrorCode::Forbidden,
                "only an admin of the document may read its access log",
            )
        };
        let doc: DocumentId = id.parse().map_err(|_| forbidden())?;
        let role = state
            .store
            .role(&claims.device, &doc)
            .map_err(|e| ApiError::storage(&e))?;
        if role < Some(Role::Admin) {
            tracing::info!(device = %short_id(&claims.device), "access log refused");
            return Err(forbidden());
        }
        let entries = state
            .store
            .access_log(&doc, MAX_ENTRIES)
            .map_err(|e| ApiError::storage(&e))?;
        tracing::info!(
            device = %short_id(&claims.device),
            entries = entries.len(),
            "access log read"
        );
        Ok(Json(AccessLogResponse {
            document: doc.to_string(),
            entries: entries.into_iter().map(AccessLogEntry::from).collect(),
        }))
    })
    .await
}
