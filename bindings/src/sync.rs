//! Sync: whole sessions with a relay server as async calls (Kotlin
//! `suspend`, Swift `async`, Python `asyncio`) with progress reports, and
//! the sans-IO steps for apps that bring their own transport (their own
//! HTTP stack, or a direct channel between two devices).
//!
//! The async calls run the core's blocking HTTP client on tokio's blocking
//! pool, so they never hold up the caller's thread or event loop. The core
//! holds the store's lock only between network round trips, so edits made
//! while a session runs go ahead.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Mutex, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

use lynchpin_core::{
    self as lc,
    sync::{Step, auth},
};

use crate::{
    LynchpinError, Store,
    types::{AccessLogEntry, HttpHeader, SyncReport, SyncScope, SyncServer, all, device_id},
};

type Result<T> = std::result::Result<T, LynchpinError>;

/// How far a sync session has got, reported after each round trip.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    /// Round trips completed so far.
    pub round_trips: u32,
    /// Bytes sent so far.
    pub bytes_sent: u64,
    /// Bytes received so far.
    pub bytes_received: u64,
    /// Whether the session has finished.
    pub done: bool,
}

/// Implemented by the app to follow a sync session. Called on a worker
/// thread; keep it short.
#[uniffi::export(foreign)]
pub trait SyncProgressListener: Send + Sync {
    /// The session has got this far.
    fn on_progress(&self, progress: SyncProgress);
}

fn report(listener: &Option<Arc<dyn SyncProgressListener>>, progress: SyncProgress) {
    if let Some(listener) = listener
        && catch_unwind(AssertUnwindSafe(|| listener.on_progress(progress))).is_err()
    {
        tracing::warn!("a sync progress listener failed");
    }
}

/// Runs blocking work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| LynchpinError::Internal {
            reason: "a sync worker stopped".into(),
        })?
}

#[uniffi::export(async_runtime = "tokio")]
impl Store {
    /// Enrols this device with the relay server at `url`, using a one-time
    /// invite code from its administrator. Keep the returned server: `sync`
    /// needs it.
    pub async fn enroll(&self, url: String, invite: String) -> Result<SyncServer> {
        let store = self.inner.clone();
        blocking(move || Ok(store.enroll(&url, &invite)?.into())).await
    }

    /// Syncs every document with an enrolled relay server, reporting
    /// progress after each round trip. Throws `Offline` when the server
    /// cannot be reached: nothing is lost, and the next sync resumes.
    pub async fn sync(
        &self,
        server: SyncServer,
        progress: Option<Arc<dyn SyncProgressListener>>,
    ) -> Result<SyncReport> {
        let store = self.inner.clone();
        blocking(move || {
            let server: lc::SyncServer = server.try_into()?;
            let (mut session, mut request) = store.start_sync(server.id, lc::SyncScope::All)?;
            let (mut sent, mut received, mut round_trips) = (0u64, 0u64, 0u32);
            loop {
                sent += request.len() as u64;
                let response = store.exchange(&server, &request)?;
                received += response.len() as u64;
                round_trips += 1;
                let step = store.continue_sync(&mut session, &response)?;
                let done = matches!(step, Step::Done(_));
                report(
                    &progress,
                    SyncProgress {
                        round_trips,
                        bytes_sent: sent,
                        bytes_received: received,
                        done,
                    },
                );
                match step {
                    Step::Send(next) => request = next,
                    Step::Done(report) => {
                        tracing::info!(round_trips, "sync finished");
                        return Ok(report.into());
                    }
                }
            }
        })
        .await
    }

    /// Sends one request frame (from `start_sync` or a session's `receive`)
    /// to an enrolled server, signed, and returns its answer: one step of a
    /// session, for apps that drive sessions themselves.
    pub async fn exchange(&self, server: SyncServer, request: Vec<u8>) -> Result<Vec<u8>> {
        let store = self.inner.clone();
        blocking(move || Ok(store.exchange(&server.try_into()?, &request)?)).await
    }

    /// A document's access log on the server (newest first). Only the
    /// document's admins and owners may read it.
    pub async fn access_log(
        &self,
        server: SyncServer,
        document: String,
    ) -> Result<Vec<AccessLogEntry>> {
        let store = self.inner.clone();
        blocking(move || {
            let document = crate::types::document_id("document", &document)?;
            Ok(all(store.access_log(&server.try_into()?, &document)?))
        })
        .await
    }
}

/// A session this device started: the first request to send, and the
/// session to feed the answers to.
#[derive(uniffi::Record)]
pub struct SyncStart {
    /// The session.
    pub session: Arc<SyncSession>,
    /// The first request to send to the peer.
    pub request: Vec<u8>,
}

/// What to do after an answer: send another request, or stop.
#[derive(uniffi::Enum)]
pub enum SyncStep {
    /// Send this request to the peer and give its answer to `receive`.
    Send {
        /// The request.
        request: Vec<u8>,
    },
    /// The session is complete.
    Done {
        /// What it did.
        report: SyncReport,
    },
}

/// A sync session driven by the app (sans-IO): the app carries the bytes.
#[derive(uniffi::Object)]
pub struct SyncSession {
    store: Arc<lc::Store>,
    session: Mutex<Option<lc::SyncSession>>,
}

#[uniffi::export]
impl SyncSession {
    /// Takes the peer's answer to the last request.
    pub fn receive(&self, response: Vec<u8>) -> Result<SyncStep> {
        let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let session = slot
            .as_mut()
            .ok_or_else(|| LynchpinError::invalid("session", "has already finished"))?;
        match self.store.continue_sync(session, &response)? {
            Step::Send(request) => Ok(SyncStep::Send { request }),
            Step::Done(report) => {
                *slot = None;
                Ok(SyncStep::Done {
                    report: report.into(),
                })
            }
        }
    }
}

#[uniffi::export]
impl Store {
    /// Starts a sync session with `peer` (a server's id, or another
    /// device's id for a direct sync): returns the session and the first
    /// request to send. Give each answer to the session's `receive`.
    pub fn start_sync(&self, peer: String, scope: SyncScope) -> Result<SyncStart> {
        let (session, request) = self
            .inner
            .start_sync(device_id("peer", &peer)?, scope.try_into()?)?;
        Ok(SyncStart {
            session: Arc::new(SyncSession {
                store: self.inner.clone(),
                session: Mutex::new(Some(session)),
            }),
            request,
        })
    }

    /// Answers a request from `peer`, a device that started a session with
    /// this one (a direct sync, with no server). Only documents in `scope`
    /// are exchanged: use `Granted` so that nothing reaches a device it was
    /// not shared with.
    pub fn respond_sync(
        &self,
        peer: String,
        request: Vec<u8>,
        scope: SyncScope,
    ) -> Result<Vec<u8>> {
        Ok(self
            .inner
            .respond_sync(device_id("peer", &peer)?, &request, &scope.try_into()?)?)
    }

    /// The headers that sign a request to a relay server, for apps that
    /// send sync frames with their own HTTP stack: POST the frame to
    /// `{url}/v1/sync` with these headers and
    /// `content-type: application/octet-stream`. `path` is the request path
    /// as sent (e.g. `/v1/sync`).
    pub fn sign_request(
        &self,
        method: String,
        path: String,
        body: Vec<u8>,
    ) -> Result<Vec<HttpHeader>> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
            .to_string();
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|_| LynchpinError::Internal {
            reason: "the random number generator is unavailable".into(),
        })?;
        let nonce = hex::encode(nonce);
        let method = method.to_ascii_uppercase();
        let signature = self.inner.device_key().sign(&auth::canonical_request(
            &method, &path, &timestamp, &nonce, &body,
        ));
        let header = |name: &str, value: String| HttpHeader {
            name: name.to_owned(),
            value,
        };
        Ok(vec![
            header(auth::HEADER_DEVICE, self.inner.device_id().to_string()),
            header(auth::HEADER_TIMESTAMP, timestamp),
            header(auth::HEADER_NONCE, nonce),
            header(auth::HEADER_SIGNATURE, hex::encode(signature)),
        ])
    }
}
