//! The HTTP API: the router, its shared state and the small routes.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /v1/health` | 200 `{"status":"ok","protocol":1}` |
//! | `POST /v1/enroll` | enrols a device with an invite code (`enroll.rs`) |
//! | `POST /v1/sync` | one signed sync request frame in, one response frame out (`sync.rs`) |
//! | `GET /v1/documents/{id}/access-log` | a document's access log, for its admins (`access_log.rs`) |
//!
//! Anything else is 404 `not_found`, a known path with another method 405
//! `method_not_allowed`, both with JSON bodies like every error
//! ([`ApiError`]). Handlers run storage calls in `spawn_blocking`.

mod access_log;
mod authenticate;
mod enroll;
mod error;
mod sync;

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

pub use access_log::{AccessLogEntry, AccessLogResponse};
pub use enroll::{EnrollRequest, EnrollResponse};
pub use error::{ApiError, status_for};

use crate::{Limits, rate_limit::RateLimiter, storage::ServerStore};

/// The largest enrolment body: a few short JSON strings.
const MAX_ENROLL_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    store: Arc<dyn ServerStore>,
    limits: Limits,
    limiter: Arc<RateLimiter>,
}

/// The API's router over `store`, bounded by `limits`.
pub fn router(store: Arc<dyn ServerStore>, limits: Limits) -> Router {
    let state = AppState {
        store,
        limits,
        limiter: Arc::new(RateLimiter::new(limits.requests_per_minute)),
    };
    Router::new()
        .route("/v1/health", get(health))
        .route(
            "/v1/enroll",
            post(enroll::enroll).layer(DefaultBodyLimit::max(MAX_ENROLL_BODY_BYTES)),
        )
        .route(
            "/v1/sync",
            post(sync::sync).layer(DefaultBodyLimit::max(limits.max_body_bytes)),
        )
        .route("/v1/documents/{id}/access-log", get(access_log::access_log))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "protocol": crate::PROTOCOL }))
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Runs blocking storage work off the async runtime. A panic in `work`
/// becomes 500 `internal`, never a dropped connection.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a request's blocking task failed");
        Err(ApiError::internal())
    })
}

#[cfg(test)]
mod tests;
