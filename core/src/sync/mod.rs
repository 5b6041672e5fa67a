//! The sans-IO sync engine: one session syncs every document two peers
//! share, on Automerge's sync messages, in as few round trips as it can.
//!
//! The engine turns bytes into bytes. The same code runs on a device syncing
//! with the relay server, on the server answering it, and on two devices
//! syncing directly over any channel. Storage is behind [`Host`]: the device
//! [`Store`](crate::Store) implements it, and so does the server's store.
//!
//! ## How a session goes
//!
//! 1. The initiator sends one [`Request`](wire::Request): the responder's
//!    cursor from the last complete session (its store epoch and change
//!    clock) and a sync message for every document changed locally since
//!    then. Because the peers persist, per document, the heads they are known
//!    to share, these messages already carry the changes the peer lacks.
//! 2. The responder applies them, then answers for those documents and for
//!    every document changed on its side since the cursor — documents
//!    unchanged since the last session cost nothing at all — and returns its
//!    new cursor.
//! 3. The initiator applies the answer. In the common case both sides are now
//!    in sync after one round trip; otherwise (a peer lost data, the answer
//!    was cut at the size limit) it sends another request, up to
//!    [`MAX_ROUNDS`].
//!
//! Each request carries a fresh random exchange id that the answer returns;
//! the initiator applies only the answer to the request it just sent, so a
//! late answer, or one meant for another device, can never acknowledge
//! changes this device did not receive.
//!
//! The initiator records the new cursor only when the session completes, so
//! a session cut off at any point resumes from the previous cursor; applying
//! a message twice or out of order is harmless (Automerge ignores changes it
//! has and queues ones whose dependencies are missing). A responder learns
//! that its answer arrived when a later request returns its cursor; until
//! then it assumes the peer may lack what it sent.

pub mod auth;
mod respond;
mod session;
mod state;
pub mod wire;

use std::{collections::BTreeSet, time::Duration};

use automerge::{Automerge, ChangeHash};

pub use respond::respond;

/// Reading and decoding documents, for hosts other than the device store.
pub mod document {
    pub use crate::doc::{Header, SCHEMA_VERSION, decode, decode_into, read_header};
}
pub use session::{Session, Step};
pub use state::{PeerDocState, PeerRecord};

use crate::{DeviceId, DocumentId, access::ChangeSignature};

/// The most request/response round trips one session makes before giving
/// up (the next session resumes where it stopped).
pub const MAX_ROUNDS: u32 = 8;
/// A responder stops adding documents to an answer past this many bytes and
/// sets `more`.
pub const RESPONSE_BUDGET_BYTES: usize = 8 * 1024 * 1024;

/// What the engine can fail with, apart from the host's own errors.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A frame could not be decoded, or the peer answered with an error.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
    /// The session needed more than [`MAX_ROUNDS`] round trips.
    #[error("the session did not finish within {MAX_ROUNDS} round trips")]
    TooManyRounds,
    /// The answer does not return the exchange id of the request just sent:
    /// it is a late answer to an earlier request or one meant for another
    /// device. Nothing in it was applied.
    #[error("the answer does not belong to the request sent")]
    UnexpectedResponse,
    /// No random exchange id could be drawn.
    #[error(transparent)]
    Randomness(#[from] crate::crypto::RandomnessUnavailable),
}

/// What happened to a document a host was asked to update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocOutcome {
    /// Nothing new was added.
    Unchanged,
    /// New changes were stored.
    Stored,
    /// The result was refused (not a valid document, not allowed, too large)
    /// and nothing was stored.
    Rejected(wire::DocStatus),
    /// Some changes could not be applied (their dependencies are missing,
    /// say because a Bloom filter matched a change the receiver lacks) and
    /// nothing was stored: none could be applied, or what could did not pass
    /// the checks on its own (its authors' signatures are over the changes
    /// still missing). The changes are fetched again, whole.
    Incomplete,
}

/// Storage for one side of a session. Implementations decide what a peer
/// may see and write, and persist documents, per-document sync state and
/// per-peer records.
pub trait Host {
    /// The host's error type.
    type Error: From<SyncError>;

    /// A random id of this store that changes only if the store is recreated.
    fn epoch(&mut self) -> Result<[u8; 16], Self::Error>;

    /// The change clock: it grows every time a document gains changes.
    fn clock(&mut self) -> Result<u64, Self::Error>;

    /// Documents the peer may receive whose clock is in `(after, upto]`, in
    /// clock order, with their clocks.
    fn changed(
        &mut self,
        peer: &DeviceId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<(DocumentId, u64)>, Self::Error>;

    /// Whether the peer may sync this document at all (read it, send to it).
    fn may_sync(&mut self, peer: &DeviceId, doc: &DocumentId) -> Result<bool, Self::Error>;

    /// Runs `f` on the document (an empty one if the host does not have it)
    /// and stores whatever `f` added to it — but only if every new change
    /// is covered by one of `signatures` and its author may write (see
    /// [`crate::access::verify_changes`]); otherwise nothing is stored and
    /// the outcome says why. Changes Automerge cannot apply yet (missing
    /// dependencies) are never stored.
    fn with_document<R>(
        &mut self,
        peer: &DeviceId,
        doc: &DocumentId,
        signatures: &[ChangeSignature],
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> Result<(R, DocOutcome), Self::Error>;

    /// The signatures this host keeps over the latest changes of these
    /// authors in the document, to send with changes.
    fn signatures(
        &mut self,
        doc: &DocumentId,
        authors: &BTreeSet<DeviceId>,
    ) -> Result<Vec<ChangeSignature>, Self::Error>;

    /// The persisted sync state for a peer and document (default if none).
    fn load_state(
        &mut self,
        peer: &DeviceId,
        doc: &DocumentId,
    ) -> Result<PeerDocState, Self::Error>;

    /// Persists the sync state for a peer and document (ignored if the host
    /// does not hold the document).
    fn store_state(
        &mut self,
        peer: &DeviceId,
        doc: &DocumentId,
        state: &PeerDocState,
    ) -> Result<(), Self::Error>;

    /// Called when an answer or request carries changes of `doc` to the
    /// peer: the relay server records it in its access log.
    fn sent(&mut self, _peer: &DeviceId, _doc: &DocumentId) -> Result<(), Self::Error> {
        Ok(())
    }

    /// The record kept about a peer (default if none).
    fn load_peer(&mut self, peer: &DeviceId) -> Result<PeerRecord, Self::Error>;

    /// Persists the record kept about a peer.
    fn store_peer(&mut self, peer: &DeviceId, record: &PeerRecord) -> Result<(), Self::Error>;
}

/// What one session did, for the app to show or log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents this side sent changes for.
    pub documents_sent: usize,
    /// Documents this side received changes for.
    pub documents_received: usize,
    /// Documents the peer refused, with its reason.
    pub rejected: Vec<(DocumentId, wire::DocStatus)>,
    /// Bytes sent (frames only).
    pub bytes_sent: usize,
    /// Bytes received (frames only).
    pub bytes_received: usize,
    /// Request/response round trips.
    pub round_trips: u32,
    /// Wall time of the session.
    pub duration: Duration,
}

/// Runs a sync step on a document, turning a decoder panic on hostile bytes
/// into an error.
fn guarded<R>(f: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Builds the in-memory Automerge sync state for a session from what was
/// persisted. It assumes the peer has exactly the shared heads, so the first
/// message already carries every change made since (instead of costing a
/// round trip to learn the peer's heads). If the assumption is wrong (the
/// peer lost data), the peer's answer says so and the protocol recovers.
fn session_state(persisted: &PeerDocState) -> automerge::sync::State {
    use automerge::sync::{Capability, Have, State};
    let shared = persisted.shared_heads.clone();
    State {
        shared_heads: shared.clone(),
        their_heads: Some(shared.clone()),
        their_need: Some(Vec::new()),
        their_have: Some(vec![Have {
            last_sync: shared,
            bloom: Default::default(),
        }]),
        their_capabilities: Some(vec![Capability::MessageV2, Capability::SyncReset]),
        ..State::new()
    }
}

/// Generates the next message for a document, if there is anything to say.
fn generate(
    doc: &Automerge,
    state: &mut automerge::sync::State,
) -> Option<automerge::sync::Message> {
    use automerge::sync::SyncDoc;
    guarded(|| doc.generate_sync_message(state)).flatten()
}

/// A message generated for a document, with what is needed to send it.
struct Generated {
    message: automerge::sync::Message,
    /// The document's heads when the message was generated.
    heads: Vec<ChangeHash>,
    /// The authors of the changes the message carries.
    authors: BTreeSet<DeviceId>,
}

/// Generates the next message for a document, noting whose changes it
/// carries (so that their signatures can go with it).
fn generate_for<H: Host>(
    host: &mut H,
    peer: &DeviceId,
    id: &DocumentId,
    state: &mut automerge::sync::State,
) -> Result<Option<Generated>, H::Error> {
    let (generated, _) = host.with_document(peer, id, &[], |doc| {
        let sent_before = state.sent_hashes.clone();
        let message = generate(doc, state)?;
        let sent: Vec<ChangeHash> = state
            .sent_hashes
            .difference(&sent_before)
            .copied()
            .collect();
        Some(Generated {
            authors: crate::access::authors_of(doc, &sent),
            heads: doc.get_heads(),
            message,
        })
    })?;
    Ok(generated)
}

/// Turns a generated message into a document entry, with the signatures
/// that cover its changes.
fn entry_for<H: Host>(
    host: &mut H,
    peer: &DeviceId,
    id: DocumentId,
    generated: Generated,
) -> Result<wire::DocEntry, H::Error> {
    let mut extensions = Vec::new();
    if !generated.message.changes.is_empty() {
        host.sent(peer, &id)?;
    }
    if !generated.authors.is_empty() {
        let signatures = host.signatures(&id, &generated.authors)?;
        extensions.extend(wire::DocEntry::signatures_extension(&signatures));
    }
    Ok(wire::DocEntry {
        id,
        status: wire::DocStatus::Ok,
        message: generated.message.encode(),
        extensions,
    })
}

/// Applies an encoded sync message. Returns whether it was well formed.
fn receive(doc: &mut Automerge, state: &mut automerge::sync::State, bytes: &[u8]) -> bool {
    use automerge::sync::{Message, SyncDoc};
    let Ok(message) = Message::decode(bytes) else {
        return false;
    };
    matches!(
        guarded(|| doc.receive_sync_message(state, message)),
        Some(Ok(()))
    )
}

/// A message asking the peer for every change it holds beyond `shared`
/// (heads both sides hold), with an empty Bloom filter: after an answer
/// that could not be applied because a filter matched a change this side
/// lacks, the same filter would miss it again.
fn fetch_since(doc: &Automerge, shared: &[ChangeHash]) -> automerge::sync::Message {
    use automerge::sync::{ChunkList, Have, Message, MessageVersion};
    Message {
        heads: doc.get_heads(),
        need: Vec::new(),
        have: vec![Have {
            last_sync: shared.to_vec(),
            bloom: Default::default(),
        }],
        changes: ChunkList::empty(),
        flags: None,
        version: MessageVersion::V1,
    }
}

/// Whether a generated message is worth sending: it carries changes or asks
/// for some, or the peer's heads differ from ours.
fn worth_sending(
    message: &automerge::sync::Message,
    state: &automerge::sync::State,
    heads: &[ChangeHash],
) -> bool {
    !message.changes.is_empty()
        || !message.need.is_empty()
        || state.their_heads.as_deref() != Some(heads)
}
