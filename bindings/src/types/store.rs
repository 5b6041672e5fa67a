//! Records about the store itself: documents, access, sync.

use std::{collections::HashSet, time::Duration, time::SystemTime};

use lynchpin_core::{self as lc, sync::wire::DocStatus};

use super::{AccessAction, DocumentKind, Role, device_id, document_id, timestamp};
use crate::LynchpinError;

/// A document on this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentSummary {
    /// Its id.
    pub id: String,
    /// What it holds.
    pub kind: DocumentKind,
}

impl From<lc::DocumentSummary> for DocumentSummary {
    fn from(d: lc::DocumentSummary) -> Self {
        Self {
            id: d.id.to_string(),
            kind: d.kind.into(),
        }
    }
}

/// What `import` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportOutcome {
    /// The document the bytes belong to.
    pub id: String,
    /// Its kind.
    pub kind: DocumentKind,
    /// Whether this device held it before.
    pub existed: bool,
    /// How many changes were new to this device.
    pub new_changes: u64,
}

impl From<lc::ImportOutcome> for ImportOutcome {
    fn from(o: lc::ImportOutcome) -> Self {
        Self {
            id: o.id.to_string(),
            kind: o.kind.into(),
            existed: o.existed,
            new_changes: o.new_changes as u64,
        }
    }
}

/// A device's role on a document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessEntry {
    /// The device (64 hex digits).
    pub device: String,
    /// Its role.
    pub role: Role,
    /// The device that granted it.
    pub granted_by: String,
    /// When.
    pub granted_at: SystemTime,
}

impl From<lc::AccessEntry> for AccessEntry {
    fn from(e: lc::AccessEntry) -> Self {
        Self {
            device: e.device.to_string(),
            role: e.role.into(),
            granted_by: e.granted_by.to_string(),
            granted_at: timestamp(e.granted_at),
        }
    }
}

/// A relay server this device is enrolled with. Keep it (its two fields)
/// in the app's settings: it is what `sync` needs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncServer {
    /// The server's base address, e.g. `https://relay.example.org`.
    pub url: String,
    /// The server's identity (64 hex digits), learnt at enrolment.
    pub server_id: String,
}

impl From<lc::SyncServer> for SyncServer {
    fn from(s: lc::SyncServer) -> Self {
        Self {
            url: s.url,
            server_id: s.id.to_string(),
        }
    }
}

impl TryFrom<SyncServer> for lc::SyncServer {
    type Error = LynchpinError;

    fn try_from(s: SyncServer) -> Result<Self, Self::Error> {
        Ok(Self {
            id: device_id("server_id", &s.server_id)?,
            url: s.url,
        })
    }
}

/// Which documents a direct sync may exchange with the other device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncScope {
    /// Every document (what a relay server uses: it decides itself what
    /// each device receives).
    All,
    /// The documents the other device holds a role on: for a direct sync,
    /// so that nothing reaches a device it was not shared with.
    Granted,
    /// Only these documents (ids), and of them only the ones the other
    /// device holds a role on.
    Only {
        /// The document ids.
        documents: Vec<String>,
    },
}

impl TryFrom<SyncScope> for lc::SyncScope {
    type Error = LynchpinError;

    fn try_from(s: SyncScope) -> Result<Self, Self::Error> {
        Ok(match s {
            SyncScope::All => Self::All,
            SyncScope::Granted => Self::Granted,
            SyncScope::Only { documents } => Self::Only(
                documents
                    .iter()
                    .map(|d| document_id("documents", d))
                    .collect::<Result<HashSet<_>, _>>()?,
            ),
        })
    }
}

/// What a peer did with a document it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DocumentStatus {
    /// Accepted.
    Accepted,
    /// Malformed; nothing was stored.
    Invalid,
    /// The sender may not write (or read) it; nothing was stored.
    NotAllowed,
    /// Too large for the peer's limits; nothing was stored.
    TooLarge,
    /// A signature was missing or did not verify; nothing was stored.
    Unsigned,
}

impl From<DocStatus> for DocumentStatus {
    fn from(s: DocStatus) -> Self {
        match s {
            DocStatus::Ok => Self::Accepted,
            DocStatus::Invalid => Self::Invalid,
            DocStatus::NotAllowed => Self::NotAllowed,
            DocStatus::TooLarge => Self::TooLarge,
            DocStatus::Unsigned => Self::Unsigned,
        }
    }
}

/// A document the peer refused in a sync session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedDocument {
    /// The document.
    pub document: String,
    /// Why.
    pub status: DocumentStatus,
}

/// What a sync session did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Documents this device sent changes for.
    pub documents_sent: u64,
    /// Documents this device received changes for.
    pub documents_received: u64,
    /// Documents the peer refused.
    pub rejected: Vec<RejectedDocument>,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Request/response round trips.
    pub round_trips: u32,
    /// How long the session took.
    pub duration: Duration,
}

impl From<lc::sync::SyncReport> for SyncReport {
    fn from(r: lc::sync::SyncReport) -> Self {
        Self {
            documents_sent: r.documents_sent as u64,
            documents_received: r.documents_received as u64,
            rejected: r
                .rejected
                .into_iter()
                .map(|(document, status)| RejectedDocument {
                    document: document.to_string(),
                    status: status.into(),
                })
                .collect(),
            bytes_sent: r.bytes_sent as u64,
            bytes_received: r.bytes_received as u64,
            round_trips: r.round_trips,
            duration: r.duration,
        }
    }
}

/// One entry of a document's access log on the server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessLogEntry {
    /// The device.
    pub device: String,
    /// What it did.
    pub action: AccessAction,
    /// When.
    pub at: SystemTime,
}

impl From<lc::AccessLogEntry> for AccessLogEntry {
    fn from(e: lc::AccessLogEntry) -> Self {
        Self {
            device: e.device.to_string(),
            action: e.action.into(),
            at: timestamp(e.at),
        }
    }
}

/// An HTTP header to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}
