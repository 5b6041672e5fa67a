//! The HTTP transport to a lynchpin-server (cargo feature `client`):
//! enrolment with an invite, and whole sync sessions.
//!
//! Every request is signed with the device key (see `sync::auth`); no
//! password or bearer secret travels. The store's lock is held only while
//! the engine turns one answer into the next request, never during network
//! I/O, so the app stays responsive while a session runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use crate::{
    DeviceId, DocumentId, Error, Store, SyncScope,
    sync::{Step, SyncReport, auth},
};

/// What a device did with a document, as the server's access log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// The server sent the device changes of the document.
    Read,
    /// The server stored changes of the document the device sent.
    Write,
}

/// One entry of a document's access log on the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AccessLogEntry {
    /// The device.
    pub device: DeviceId,
    /// What it did.
    pub action: AccessAction,
    /// When.
    pub at: DateTime<Utc>,
}

#[derive(serde::Deserialize)]
struct AccessLogAnswer {
    entries: Vec<AccessLogEntry>,
}

/// A relay server this device is enrolled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncServer {
    /// Its base address, e.g. `https://relay.example.org`.
    pub url: String,
    /// Its identity (the server's public key), as returned at enrolment.
    pub id: DeviceId,
}

/// How long one HTTP exchange may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer accepted.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(EXCHANGE_TIMEOUT))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .build()
        .into()
}

fn endpoint(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// Turns a transport failure into the error an app acts on.
fn transport_error(error: ureq::Error) -> Error {
    tracing::info!(error = %error, "server unreachable");
    Error::Offline
}

/// Reads a non-success answer's JSON error code.
fn rejection(status: u16, body: &[u8]) -> Error {
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    Error::ServerRejected { status, code }
}

fn read_body(response: &mut ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, Error> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .map_err(transport_error)
}

impl Store {
    /// Enrols this device with the server at `url` using a one-time invite
    /// code from its administrator. The device proves it holds its key by
    /// signing the invite; no secret is sent.
    pub fn enroll(&self, url: &str, invite: &str) -> Result<SyncServer, Error> {
        let device = self.device_id();
        let signature = self
            .device_key()
            .sign(&auth::canonical_enrolment(invite, &device));
        let body = serde_json::json!({
            "invite": invite,
            "device": device.to_string(),
            "signature": hex::encode(signature),
        })
        .to_string();
        let mut response = agent()
            .post(endpoint(url, "/v1/enroll"))
            .header("content-type", "application/json")
            .send(body.as_bytes())
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let body = read_body(&mut response)?;
        if !(200..300).contains(&status) {
            return Err(rejection(status, &body));
        }
        let id = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| DeviceId::parse(v.get("server")?.as_str()?))
            .ok_or(Error::ServerRejected {
                status,
                code: "malformed_answer".into(),
            })?;
        tracing::info!("enrolled with a relay server");
        Ok(SyncServer {
            url: url.to_owned(),
            id,
        })
    }

    /// Runs a whole sync session with an enrolled server and reports what it
    /// did. Fails with [`Error::Offline`] when the server cannot be reached;
    /// whatever was exchanged before a failure is kept, and the next session
    /// resumes from there.
    pub fn sync(&self, server: &SyncServer) -> Result<SyncReport, Error> {
        let agent = agent();
        let url = endpoint(&server.url, "/v1/sync");
        let (mut session, mut request) = self.start_sync(server.id, SyncScope::All)?;
        loop {
            let response = self.send_signed(&agent, "POST", &url, "/v1/sync", &request)?;
            match self.continue_sync(&mut session, &response)? {
                Step::Send(next) => request = next,
                Step::Done(report) => return Ok(report),
            }
        }
    }

    /// Sends one sync request frame (from [`Store::start_sync`] or
    /// [`Store::continue_sync`]) to the server, signed, and returns its
    /// answer frame: one step of a session, for apps that drive sessions
    /// themselves.
    pub fn exchange(&self, server: &SyncServer, request: &[u8]) -> Result<Vec<u8>, Error> {
        let url = endpoint(&server.url, "/v1/sync");
        self.send_signed(&agent(), "POST", &url, "/v1/sync", request)
    }

    /// A document's access log on the server (which device read or wrote it,
    /// and when; newest first). Only the document's admins and owners may
    /// read it: anyone else gets [`Error::ServerRejected`] with status 403.
    pub fn access_log(
        &self,
        server: &SyncServer,
        document: &DocumentId,
    ) -> Result<Vec<AccessLogEntry>, Error> {
        let path = format!("/v1/documents/{document}/access-log");
        let url = endpoint(&server.url, &path);
        let body = self.send_signed(&agent(), "GET", &url, &path, &[])?;
        serde_json::from_slice::<AccessLogAnswer>(&body)
            .map(|answer| answer.entries)
            .map_err(|_| Error::ServerRejected {
                status: 200,
                code: "malformed_answer".into(),
            })
    }

    fn send_signed(
        &self,
        agent: &ureq::Agent,
        method: &str,
        url: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
            .to_string();
        let mut nonce = [0u8; 16];
        crate::crypto::fill_random(&mut nonce)?;
        let nonce = hex::encode(nonce);
        let signature = self.device_key().sign(&auth::canonical_request(
            method, path, &timestamp, &nonce, body,
        ));
        let device = self.device_id().to_string();
        let signature = hex::encode(signature);
        let mut response = if method == "GET" {
            agent
                .get(url)
                .header(auth::HEADER_DEVICE, device)
                .header(auth::HEADER_TIMESTAMP, timestamp)
                .header(auth::HEADER_NONCE, nonce)
                .header(auth::HEADER_SIGNATURE, signature)
                .call()
        } else {
            agent
                .post(url)
                .header("content-type", "application/octet-stream")
                .header(auth::HEADER_DEVICE, device)
                .header(auth::HEADER_TIMESTAMP, timestamp)
                .header(auth::HEADER_NONCE, nonce)
                .header(auth::HEADER_SIGNATURE, signature)
                .send(body)
        }
        .map_err(transport_error)?;
        let status = response.status().as_u16();
        let body = read_body(&mut response)?;
        if !(200..300).contains(&status) {
            return Err(rejection(status, &body));
        }
        Ok(body)
    }
}
