//! # lynchpin-server
//!
//! The relay that Lynchpin devices sync through when they are not online at
//! the same time. It stores every document it relays in an embedded SQLite
//! database and answers sync requests with the same sans-IO engine the
//! devices run ([`lynchpin_core::sync::respond`]).
//!
//! It is never open. A device enrols once with a one-time invite code
//! ([`invite`]), proving it holds its key; after that every request carries
//! the device id, a timestamp, a nonce and an Ed25519 signature over a
//! canonical form of the request ([`auth`]). Every request is bounded
//! ([`Limits`]) and bad input gets a clear 4xx with a JSON body, never a
//! crash ([`http`]).
//!
//! The binary (`src/main.rs`) is a thin command line over this library, so
//! tests can run the whole server in-process:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use lynchpin_server::{Limits, storage::sqlite::SqliteStore};
//!
//! let store = Arc::new(SqliteStore::open("/var/lib/lynchpin")?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! lynchpin_server::serve(listener, store, Limits::default(), std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! Modules, from the outside in: [`http`] (routes, status codes, JSON
//! errors), [`auth`] (request signatures, shared with clients),
//! [`rate_limit`], [`invite`] (codes and the enrolment proof) and
//! [`storage`] (the [`storage::ServerStore`] trait and its SQLite
//! implementation, which hosts the sync engine).

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod auth;
pub mod http;
pub mod invite;
mod limits;
pub mod rate_limit;
pub mod storage;

use std::{future::Future, sync::Arc, time::Duration};

pub use auth::{canonical_request, sign_request};
pub use limits::Limits;
use storage::ServerStore;

/// The protocol version this server speaks (the sync wire format's version).
pub const PROTOCOL: u8 = lynchpin_core::sync::wire::PROTOCOL_VERSION;

/// How often expired nonces and invites are purged from the storage.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Serves the HTTP API on `listener` until `shutdown` completes, then
/// finishes the requests in flight and returns.
///
/// A background task purges expired nonces and invites once a minute; it
/// stops with the server.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn ServerStore>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let purger = tokio::spawn(purge_loop(Arc::clone(&store), limits));
    let app = http::router(store, limits);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    purger.abort();
    served
}

/// Purges expired nonces and invites, and access-log entries past the
/// retention period, every [`PURGE_EVERY`].
async fn purge_loop(store: Arc<dyn ServerStore>, limits: Limits) {
    let mut ticks = tokio::time::interval(PURGE_EVERY);
    let retention_ms = u64::from(limits.access_log_retention_days).saturating_mul(86_400_000);
    loop {
        ticks.tick().await;
        let store = Arc::clone(&store);
        // Each purge runs whatever happened to the other.
        let purged = tokio::task::spawn_blocking(move || {
            let now = now_ms();
            let log = store.purge_access_log(now.saturating_sub(retention_ms));
            if let Err(e) = &log {
                tracing::warn!(error = %e, "purging the access log failed");
            }
            store
                .purge_expired(now)
                .map(|purged| (purged, log.unwrap_or(0)))
        })
        .await;
        match purged {
            Ok(Ok((purged, log))) if purged.nonces + purged.invites + log > 0 => {
                tracing::debug!(
                    nonces = purged.nonces,
                    invites = purged.invites,
                    access_log = log,
                    "purged expired entries"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "purging expired entries failed"),
            Err(e) => tracing::warn!(error = %e, "the purge task failed"),
        }
    }
}

/// The current time in unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The first 8 hex characters of a device id: all a log line may show of it.
pub fn short_id(device: &lynchpin_core::DeviceId) -> String {
    hex::encode(device.as_bytes().get(..4).unwrap_or_default())
}
