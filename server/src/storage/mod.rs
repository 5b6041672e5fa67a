//! What the server keeps, behind one trait: [`ServerStore`].
//!
//! The HTTP layer talks only to this trait, so a second backend (PostgreSQL,
//! for several stateless servers sharing one database) can replace the
//! SQLite one without touching the routes. Every method is synchronous and
//! may block; the HTTP layer calls them from `spawn_blocking`.
//!
//! This file holds the trait and the types it speaks in. The SQLite
//! implementation lives in [`sqlite`]; the conformance suite every
//! implementation must pass lives in `conformance.rs` (tests only).

#[cfg(test)]
#[macro_use]
pub(crate) mod conformance;
pub mod sqlite;

use lynchpin_core::{
    DeviceId, DocumentId, Role,
    sync::{SyncError, wire::WireError},
};

/// An invite to store: only the hash of its code, never the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvite {
    /// SHA-256 of the normalised code ([`crate::invite::code_hash`]).
    pub code_hash: [u8; 32],
    /// The admin's note about whom the invite is for (kept with the device;
    /// never logged).
    pub label: Option<String>,
    /// When it was made, unix milliseconds.
    pub created_ms: u64,
    /// When it stops working, unix milliseconds.
    pub expires_ms: u64,
}

/// What an enrolment with an invite did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrollment {
    /// The invite was consumed and the device is enrolled.
    Enrolled {
        /// Whether the device was enrolled already (with another invite).
        already: bool,
    },
    /// No such invite, or it was used, or it expired. Nothing changed.
    InviteInvalid,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired nonces.
    pub nonces: usize,
    /// Expired invites (used or not: either way they can no longer enrol).
    pub invites: usize,
}

/// What a device did with a document, as the access log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// The server sent the device changes of the document.
    Read,
    /// The server stored changes of the document the device sent.
    Write,
}

/// One line of a document's access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRecord {
    /// The device.
    pub device: DeviceId,
    /// What it did.
    pub action: AccessAction,
    /// When, unix milliseconds.
    pub at_ms: u64,
}

/// The server's storage. Implementations must be safe to share between
/// threads and, where the backend allows it, between processes (the
/// `invite` command writes while the server runs).
///
/// Times are unix milliseconds, passed in so that tests control the clock.
pub trait ServerStore: Send + Sync {
    /// The server's id: the public half of its Ed25519 key, generated when
    /// the storage was created. Devices use it as the peer id for sync state.
    fn server_id(&self) -> DeviceId;

    /// The storage's epoch: a random id that changes only if the storage is
    /// recreated (devices then start their sync cursor afresh).
    fn epoch(&self) -> Result<[u8; 16], StorageError>;

    /// Stores an invite.
    fn create_invite(&self, invite: &NewInvite) -> Result<(), StorageError>;

    /// Consumes the invite with this code hash and enrols `device`, in one
    /// atomic step: of several enrolments with one code, exactly one
    /// succeeds. An invite works once, and only before it expires.
    fn enroll(
        &self,
        code_hash: &[u8; 32],
        device: &DeviceId,
        now_ms: u64,
    ) -> Result<Enrollment, StorageError>;

    /// Whether `device` is enrolled.
    fn is_enrolled(&self, device: &DeviceId) -> Result<bool, StorageError>;

    /// Records that `device` used `nonce`, to be remembered until
    /// `expires_ms`. Returns `false` (and changes nothing) if the pair was
    /// recorded before and has not expired at `now_ms`: a replay.
    fn record_nonce(
        &self,
        device: &DeviceId,
        nonce: &[u8; 16],
        expires_ms: u64,
        now_ms: u64,
    ) -> Result<bool, StorageError>;

    /// Removes nonces and invites that expired before `now_ms`.
    fn purge_expired(&self, now_ms: u64) -> Result<Purged, StorageError>;

    /// Answers one sync request frame from `peer` at `now_ms` with
    /// [`lynchpin_core::sync::respond`], atomically: either everything the
    /// request changed is stored, or (on any error) nothing is. A device
    /// receives only documents it holds a grant on; changes are stored only
    /// if signed by authors who may write; every document sent to or
    /// stored from the device is recorded in the access log.
    fn sync(&self, peer: &DeviceId, request: &[u8], now_ms: u64) -> Result<Vec<u8>, StorageError>;

    /// A device's role on a document, from the document's grant statements.
    fn role(&self, device: &DeviceId, doc: &DocumentId) -> Result<Option<Role>, StorageError>;

    /// A document's access log, newest first, at most `limit` entries.
    fn access_log(&self, doc: &DocumentId, limit: usize)
    -> Result<Vec<AccessRecord>, StorageError>;

    /// Removes access-log entries made before `before_ms`; returns how many.
    fn purge_access_log(&self, before_ms: u64) -> Result<usize, StorageError>;
}

/// What a storage operation can fail with. Messages never contain document
/// content or personal data.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The request frame could not be decoded: the client's fault.
    #[error("the request is not a valid sync frame: {0}")]
    Frame(WireError),
    /// The sync engine failed for another reason.
    #[error("the sync engine failed: {0}")]
    Engine(#[source] SyncError),
    /// The backend failed (I/O, locking, constraints).
    #[error("the database failed")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Stored data could not be read back.
    #[error("stored {what} is corrupt")]
    Corrupt {
        /// What could not be read.
        what: &'static str,
    },
    /// The system's random number generator failed.
    #[error("the system random number generator is unavailable")]
    Randomness,
}

impl From<SyncError> for StorageError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Wire(wire) => Self::Frame(wire),
            other => Self::Engine(other),
        }
    }
}

/// Converts a unix-milliseconds time to the signed integers databases store.
pub(crate) fn db_time(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}
