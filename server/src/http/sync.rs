//! `POST /v1/sync`: one signed request frame in, one response frame out
//! (`application/octet-stream`).
//!
//! Checks run in this order, so that what a client learns never depends on
//! which devices are enrolled or what documents exist:
//!
//! | check | failure |
//! | --- | --- |
//! | body within `max_body_bytes` | 413 `too_large` |
//! | authentication headers present and well formed | 401 `unauthorized` |
//! | timestamp within 5 minutes | 401 `unauthorized` |
//! | device enrolled and signature valid (one answer for both) | 401 `unauthorized` |
//! | nonce not seen before | 401 `unauthorized` |
//! | under `requests_per_minute` | 429 `rate_limited` + `Retry-After` |
//! | frame decodes | 400 `malformed` / `unsupported_version`, 413 `too_large` |
//! | at most `max_documents_per_request` documents | 413 `too_large` |
//! | storage | 500 `internal` (nothing stored) |

use std::time::Instant;

use axum::{
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use lynchpin_core::sync::wire::{self, ErrorCode};

use super::{ApiError, AppState, authenticate, blocking};
use crate::{now_ms, short_id};

pub(super) async fn sync(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let body = body.map_err(|rejection| ApiError::body(&rejection))?;
    let claims = authenticate::claims(&headers)?;
    let device = claims.device;
    let now = now_ms();
    let path = uri.path().to_owned();
    let request_bytes = body.len();
    let response = blocking(move || {
        authenticate::check(&state, &claims, &method, &path, &body, now)?;
        let request = wire::Request::decode(&body).map_err(|e| ApiError::frame(&e))?;
        if request.docs.len() > state.limits.max_documents_per_request {
            return Err(ApiError::protocol(
                ErrorCode::TooLarge,
                format!(
                    "a sync request may carry at most {} documents",
                    state.limits.max_documents_per_request
                ),
            ));
        }
        let documents = request.docs.len();
        drop(request);
        let response = state
            .store
            .sync(&device, &body, now)
            .map_err(|e| ApiError::storage(&e))?;
        tracing::info!(
            device = %short_id(&device),
            documents,
            request_bytes,
            response_bytes = response.len(),
            "sync request answered"
        );
        Ok(response)
    })
    .await?;
    tracing::debug!(elapsed_ms = started.elapsed().as_millis(), "sync done");
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        response,
    )
        .into_response())
}
