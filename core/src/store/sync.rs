//! The store's side of the sync engine: it implements [`Host`] over the
//! SQLite tables, and gives apps the session calls.
//!
//! Sync state (per peer and document) and peer records are sealed like every
//! other blob; the plain columns hold only the peer's public key and opaque
//! document ids. Every call that returns bytes to send first makes what the
//! store holds durable (see `Inner::sync_to_disk`).

use std::collections::{BTreeSet, HashSet};

use automerge::Automerge;
use rusqlite::{OptionalExtension, params};

use super::{Inner, Store};
use crate::{
    DeviceId, DocumentId, Error,
    access::{self, ChangeSignature, Refusal, WriteRule},
    doc,
    sync::{self, DocOutcome, Host, PeerDocState, PeerRecord, Session, Step, wire::DocStatus},
};

/// The outcome for changes that failed verification (logged without
/// content).
fn refused(id: &DocumentId, refusal: Refusal) -> DocOutcome {
    tracing::warn!(document = %id, reason = %refusal, "refused changes from a peer");
    DocOutcome::Rejected(refusal.status())
}

/// Which documents a session may exchange with a peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SyncScope {
    /// Every document (a relay server decides what each device receives).
    #[default]
    All,
    /// The documents the peer holds a role on, by their grant statements:
    /// for a direct sync between two devices, so that nothing reaches a
    /// device it was not shared with.
    Granted,
    /// Only these documents, and of them only the ones the peer holds a
    /// role on.
    Only(HashSet<DocumentId>),
}

impl From<sync::SyncError> for Error {
    fn from(e: sync::SyncError) -> Self {
        Self::Sync(e)
    }
}

fn peer_aad(peer: &DeviceId) -> Vec<u8> {
    [b"peer".as_slice(), peer.as_bytes()].concat()
}

fn state_aad(peer: &DeviceId, doc: &DocumentId) -> Vec<u8> {
    [b"sync".as_slice(), peer.as_bytes(), doc.as_bytes()].concat()
}

/// The store as a sync host, for the length of one session step.
pub(super) struct StoreHost<'a> {
    inner: &'a mut Inner,
    device: DeviceId,
    scope: &'a SyncScope,
}

impl Host for StoreHost<'_> {
    type Error = Error;

    fn epoch(&mut self) -> Result<[u8; 16], Error> {
        let aad = b"meta:epoch";
        let sealed: Option<Vec<u8>> = self
            .inner
            .conn
            .prepare_cached("SELECT value FROM meta WHERE name = 'epoch'")?
            .query_row([], |row| row.get(0))
            .optional()?;
        if let Some(sealed) = sealed {
            let plain = self
                .inner
                .sealer
                .open(aad, &sealed)
                .map_err(|_| Error::Corrupt {
                    what: "store epoch",
                })?;
            return plain.as_slice().try_into().map_err(|_| Error::Corrupt {
                what: "store epoch",
            });
        }
        let mut epoch = [0u8; 16];
        crate::crypto::fill_random(&mut epoch)?;
        let sealed = self.inner.sealer.seal(aad, &epoch)?;
        self.inner.conn.execute(
            "INSERT INTO meta (name, value) VALUES ('epoch', ?1)",
            [sealed],
        )?;
        Ok(epoch)
    }

    fn clock(&mut self) -> Result<u64, Error> {
        let clock: i64 = self
            .inner
            .conn
            .prepare_cached("SELECT value FROM clock")?
            .query_row([], |row| row.get(0))?;
        Ok(u64::try_from(clock).unwrap_or(0))
    }

    fn changed(
        &mut self,
        peer: &DeviceId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<(DocumentId, u64)>, Error> {
        let mut stmt = self.inner.conn.prepare_cached(
            "SELECT id, clock FROM documents WHERE clock > ?1 AND clock <= ?2 ORDER BY clock",
        )?;
        let rows = stmt.query_map(
            params![
                i64::try_from(after).unwrap_or(i64::MAX),
                i64::try_from(upto).unwrap_or(i64::MAX)
            ],
            |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?)),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (id, clock) = row?;
            let id = DocumentId::from_slice(&id).ok_or(Error::Corrupt {
                what: "document id",
            })?;
            out.push((id, u64::try_from(clock).unwrap_or(0)));
        }
        drop(stmt);
        let mut allowed = Vec::with_capacity(out.len());
        for (id, clock) in out {
            if self.allows(peer, &id)? {
                allowed.push((id, clock));
            }
        }
        Ok(allowed)
    }

    fn may_sync(&mut self, peer: &DeviceId, doc: &DocumentId) -> Result<bool, Error> {
        self.allows(peer, doc)
    }

    fn with_document<R>(
        &mut self,
        _peer: &DeviceId,
        id: &DocumentId,
        signatures: &[ChangeSignature],
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> Result<(R, DocOutcome), Error> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        if self.inner.exists(id)? {
            let loaded = self.inner.load(id, self.device)?;
            let before = loaded.doc.get_heads();
            let result = f(&mut loaded.doc);
            // Changes whose dependencies are missing stay in Automerge's
            // queue, unverified; they are never kept: the document reloads
            // from what was stored, and the peer sends them again with
            // their dependencies.
            let orphans = access::has_orphans(&loaded.doc);
            if loaded.doc.get_heads() == before {
                if orphans {
                    self.inner.docs.remove(id);
                    return Ok((result, DocOutcome::Incomplete));
                }
                return Ok((result, DocOutcome::Unchanged));
            }
            let kind = loaded.kind;
            let verdict = match doc::read_header(&loaded.doc) {
                Ok(header) if header.id == *id && header.kind == kind => access::verify_changes(
                    id,
                    &loaded.doc,
                    &before,
                    &loaded.statements,
                    signatures,
                    WriteRule::Ever,
                    now_ms,
                )
                .map_err(Some),
                _ => Err(None),
            };
            let keep = match verdict {
                Ok(keep) => keep,
                Err(refusal) => {
                    // Drop the copy that holds the refused changes; the
                    // document reloads from what was stored.
                    self.inner.docs.remove(id);
                    let outcome = match refusal {
                        // The signatures are over changes still missing.
                        Some(Refusal::Unsigned) if orphans => {
                            tracing::debug!(document = %id, "changes wait for their dependencies; nothing stored");
                            DocOutcome::Incomplete
                        }
                        Some(refusal) => refused(id, refusal),
                        None => {
                            tracing::warn!(document = %id, "refused changes that alter a document's header");
                            DocOutcome::Rejected(DocStatus::Invalid)
                        }
                    };
                    return Ok((result, outcome));
                }
            };
            loaded.refresh_access(id);
            let increment = loaded.doc.save_after(&before);
            if let Err(e) = self
                .inner
                .persist(id, &increment, super::ViewRefresh::Full, &keep)
            {
                self.inner.docs.remove(id);
                return Err(e);
            }
            self.inner.refresh_directory_index(id)?;
            if orphans {
                self.inner.docs.remove(id);
            }
            return Ok((result, DocOutcome::Stored));
        }
        let mut fresh = doc::empty(self.device);
        let result = f(&mut fresh);
        if fresh.get_heads().is_empty() {
            return Ok((result, DocOutcome::Unchanged));
        }
        // A document new to this device must say what it is, and be the
        // document the peer said it was.
        let header = match doc::read_header(&fresh) {
            Ok(header) if header.id == *id && header.schema <= doc::SCHEMA_VERSION => header,
            _ => {
                tracing::warn!(document = %id, "refused a new document without a valid header");
                return Ok((result, DocOutcome::Rejected(DocStatus::Invalid)));
            }
        };
        let orphans = access::has_orphans(&fresh);
        let keep = match access::verify_changes(
            id,
            &fresh,
            &[],
            &BTreeSet::new(),
            signatures,
            WriteRule::Ever,
            now_ms,
        ) {
            Ok(keep) => keep,
            Err(Refusal::Unsigned) if orphans => {
                tracing::debug!(document = %id, "changes wait for their dependencies; nothing stored");
                return Ok((result, DocOutcome::Incomplete));
            }
            Err(refusal) => return Ok((result, refused(id, refusal))),
        };
        self.inner.insert_document(id, header.kind, fresh, &keep)?;
        if orphans {
            self.inner.docs.remove(id);
        }
        Ok((result, DocOutcome::Stored))
    }

    fn signatures(
        &mut self,
        doc: &DocumentId,
        authors: &BTreeSet<DeviceId>,
    ) -> Result<Vec<ChangeSignature>, Error> {
        self.inner.signatures(doc, authors)
    }

    fn load_state(&mut self, peer: &DeviceId, doc: &DocumentId) -> Result<PeerDocState, Error> {
        let sealed: Option<Vec<u8>> = self
            .inner
            .conn
            .prepare_cached("SELECT state FROM sync_states WHERE peer_id = ?1 AND doc_id = ?2")?
            .query_row(params![peer.as_bytes(), doc.as_bytes()], |row| row.get(0))
            .optional()?;
        let Some(sealed) = sealed else {
            return Ok(PeerDocState::default());
        };
        let plain = self
            .inner
            .sealer
            .open(&state_aad(peer, doc), &sealed)
            .map_err(|_| Error::Corrupt { what: "sync state" })?;
        PeerDocState::decode(&plain).ok_or(Error::Corrupt { what: "sync state" })
    }

    fn store_state(
        &mut self,
        peer: &DeviceId,
        doc: &DocumentId,
        state: &PeerDocState,
    ) -> Result<(), Error> {
        if !self.inner.exists(doc)? {
            return Ok(());
        }
        self.ensure_peer(peer)?;
        let sealed = self
            .inner
            .sealer
            .seal(&state_aad(peer, doc), &state.encode())?;
        self.inner
            .conn
            .prepare_cached(
                "INSERT INTO sync_states (peer_id, doc_id, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (peer_id, doc_id) DO UPDATE SET state = excluded.state",
            )?
            .execute(params![peer.as_bytes(), doc.as_bytes(), sealed])?;
        Ok(())
    }

    fn load_peer(&mut self, peer: &DeviceId) -> Result<PeerRecord, Error> {
        let sealed: Option<Vec<u8>> = self
            .inner
            .conn
            .prepare_cached("SELECT info FROM peers WHERE id = ?1")?
            .query_row([peer.as_bytes()], |row| row.get(0))
            .optional()?;
        let Some(sealed) = sealed else {
            return Ok(PeerRecord::default());
        };
        let plain = self
            .inner
            .sealer
            .open(&peer_aad(peer), &sealed)
            .map_err(|_| Error::Corrupt {
                what: "peer record",
            })?;
        PeerRecord::decode(&plain).ok_or(Error::Corrupt {
            what: "peer record",
        })
    }

    fn store_peer(&mut self, peer: &DeviceId, record: &PeerRecord) -> Result<(), Error> {
        let sealed = self.inner.sealer.seal(&peer_aad(peer), &record.encode())?;
        self.inner
            .conn
            .prepare_cached(
                "INSERT INTO peers (id, info) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET info = excluded.info",
            )?
            .execute(params![peer.as_bytes(), sealed])?;
        Ok(())
    }
}

impl StoreHost<'_> {
    /// Whether the scope lets `doc` be exchanged with `peer`. A document
    /// this device does not hold is allowed (the peer offers it; its
    /// changes are checked like any others).
    fn allows(&mut self, peer: &DeviceId, doc: &DocumentId) -> Result<bool, Error> {
        let listed = match &self.scope {
            SyncScope::All => return Ok(true),
            SyncScope::Granted => true,
            SyncScope::Only(ids) => ids.contains(doc),
        };
        if !listed {
            return Ok(false);
        }
        if !self.inner.exists(doc)? {
            return Ok(true);
        }
        Ok(self
            .inner
            .load(doc, self.device)?
            .access
            .role(peer)
            .is_some())
    }

    fn ensure_peer(&mut self, peer: &DeviceId) -> Result<(), Error> {
        let exists = self
            .inner
            .conn
            .prepare_cached("SELECT 1 FROM peers WHERE id = ?1")?
            .exists([peer.as_bytes()])?;
        if !exists {
            self.store_peer(peer, &PeerRecord::default())?;
        }
        Ok(())
    }
}

/// A sync session this device started, to be continued with
/// [`Store::continue_sync`].
#[derive(Debug)]
pub struct SyncSession {
    session: Session,
    scope: SyncScope,
}

impl Store {
    fn host<'a>(&self, inner: &'a mut Inner, scope: &'a SyncScope) -> StoreHost<'a> {
        StoreHost {
            inner,
            device: self.device_id(),
            scope,
        }
    }

    /// Starts a sync session with `peer` (a server or another device):
    /// returns the session and the first request to send it.
    pub fn start_sync(
        &self,
        peer: DeviceId,
        scope: SyncScope,
    ) -> Result<(SyncSession, Vec<u8>), Error> {
        let mut inner = self.lock();
        let mut host = self.host(&mut inner, &scope);
        let (session, request) = Session::start(&mut host, peer)?;
        inner.sync_to_disk()?;
        Ok((SyncSession { session, scope }, request))
    }

    /// Takes the peer's answer to the last request: returns the next request
    /// to send, or the session's report when it is complete.
    pub fn continue_sync(&self, session: &mut SyncSession, response: &[u8]) -> Result<Step, Error> {
        let mut inner = self.lock();
        let SyncSession { session, scope } = session;
        let mut host = self.host(&mut inner, scope);
        let step = session.receive(&mut host, response)?;
        if let Step::Send(_) = step {
            inner.sync_to_disk()?;
        }
        Ok(step)
    }

    /// Answers a request from a peer that started a session with this device
    /// (a direct sync, with no server). Only documents in `scope` are
    /// exchanged.
    pub fn respond_sync(
        &self,
        peer: DeviceId,
        request: &[u8],
        scope: &SyncScope,
    ) -> Result<Vec<u8>, Error> {
        let mut inner = self.lock();
        let mut host = self.host(&mut inner, scope);
        let response = sync::respond(&mut host, &peer, request)?;
        inner.sync_to_disk()?;
        Ok(response)
    }

    /// Runs a whole session with `peer` over `exchange`, a function that
    /// sends a request and returns the answer (any channel: HTTP, Bluetooth,
    /// an in-memory pipe).
    pub fn sync_with<E>(
        &self,
        peer: DeviceId,
        scope: SyncScope,
        mut exchange: impl FnMut(Vec<u8>) -> Result<Vec<u8>, E>,
    ) -> Result<sync::SyncReport, SyncFailure<E>> {
        let (mut session, mut request) =
            self.start_sync(peer, scope).map_err(SyncFailure::Store)?;
        loop {
            let response = exchange(request).map_err(SyncFailure::Channel)?;
            match self
                .continue_sync(&mut session, &response)
                .map_err(SyncFailure::Store)?
            {
                Step::Send(next) => request = next,
                Step::Done(report) => return Ok(report),
            }
        }
    }
}

/// Why [`Store::sync_with`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure<E> {
    /// The store or the engine failed.
    #[error(transparent)]
    Store(Error),
    /// The channel failed.
    #[error("the channel failed")]
    Channel(#[source] E),
}
