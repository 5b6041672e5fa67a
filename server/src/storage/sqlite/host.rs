//! The sync engine's [`Host`] over the server's document tables, for the
//! length of one request (one SQLite transaction).
//!
//! The same ideas as the device store's host (`core/src/store/sync.rs`),
//! without encryption: documents are a snapshot plus increments, every
//! stored change bumps the change clock, and sync state is kept per (device,
//! document). Documents are loaded from the tables for each request and
//! dropped with it; within a request a small cache saves loading a document
//! twice (once to apply a device's changes, once to answer).
//!
//! Who may sync what is decided in [`Host::may_sync`] and [`Host::changed`]
//! from the `access` table, which mirrors the grant statements inside each
//! document and is rewritten whenever they change. New changes are stored
//! only if each is covered by a valid signature of its author and the
//! author may write the document now ([`WriteRule::Current`]).

use std::collections::{BTreeSet, HashMap};

use automerge::{Automerge, ChangeHash};
use lynchpin_core::{
    DeviceId, DocumentId, DocumentKind, Role,
    access::{self, AccessList, AuthorSignature, ChangeSignature, Grant, WriteRule},
    sync::{
        DocOutcome, Host, PeerDocState, PeerRecord,
        document::{decode, decode_into, read_header},
        wire::DocStatus,
    },
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::StorageError;

/// Compact a document's increments into a snapshot once there are this many…
const COMPACT_AFTER_CHANGES: usize = 64;
/// …or once their size passes this fraction (1/n) of the snapshot…
const COMPACT_FRACTION: usize = 4;
/// …but not for fewer bytes than this: rewriting a tiny snapshot on every
/// change would cost more than it saves.
const COMPACT_MIN_BYTES: usize = 16 * 1024;
/// Documents whose stored size adds up to at most this stay in the
/// per-request cache; larger sets are loaded again when needed, so memory
/// stays bounded whatever a request touches.
const CACHE_BUDGET_BYTES: usize = 8 * 1024 * 1024;

/// A document loaded for this request, with what is needed to store its
/// next increment.
struct Loaded {
    doc: Automerge,
    kind: DocumentKind,
    next_seq: i64,
    pending_changes: usize,
    pending_bytes: usize,
    snapshot_bytes: usize,
    /// The hashes of the grant statements the document holds.
    statements: BTreeSet<[u8; 32]>,
}

/// What the access log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// The server sent the device changes of the document.
    Read = 1,
    /// The server stored changes of the document the device sent.
    Write = 2,
}

fn statement_hashes(doc: &Automerge) -> BTreeSet<[u8; 32]> {
    access::statements(doc).iter().map(Grant::hash).collect()
}

fn role_code(role: Role) -> i64 {
    match role {
        Role::Reader => 1,
        Role::Writer => 2,
        Role::Admin => 3,
        Role::Owner => 4,
    }
}

/// The role stored in the `access` table.
pub(crate) fn role_from_code(code: i64) -> Option<Role> {
    Some(match code {
        1 => Role::Reader,
        2 => Role::Writer,
        3 => Role::Admin,
        4 => Role::Owner,
        _ => return None,
    })
}

impl Loaded {
    fn stored_bytes(&self) -> usize {
        self.snapshot_bytes + self.pending_bytes
    }
}

/// The server as a sync host, inside one transaction.
pub(super) struct SqliteHost<'a> {
    conn: &'a Connection,
    epoch: [u8; 16],
    /// The request's time, for the access log.
    now_ms: i64,
    cache: HashMap<DocumentId, Loaded>,
    cached_bytes: usize,
}

fn corrupt(what: &'static str) -> impl Fn(lynchpin_core::Error) -> StorageError {
    move |_| StorageError::Corrupt { what }
}

fn clock_value(clock: i64) -> u64 {
    u64::try_from(clock).unwrap_or(0)
}

fn db_clock(clock: u64) -> i64 {
    i64::try_from(clock).unwrap_or(i64::MAX)
}

impl<'a> SqliteHost<'a> {
    pub(super) fn new(conn: &'a Connection, epoch: [u8; 16], now_ms: u64) -> Self {
        Self {
            conn,
            epoch,
            now_ms: crate::storage::db_time(now_ms),
            cache: HashMap::new(),
            cached_bytes: 0,
        }
    }

    /// Takes the document out of the cache, or loads it; `None` if the
    /// server does not hold it.
    fn take(&mut self, id: &DocumentId) -> Result<Option<Loaded>, StorageError> {
        if let Some(loaded) = self.cache.remove(id) {
            self.cached_bytes = self.cached_bytes.saturating_sub(loaded.stored_bytes());
            return Ok(Some(loaded));
        }
        self.load(id)
    }

    /// Puts a document back in the cache if it fits the budget.
    fn keep(&mut self, id: DocumentId, loaded: Loaded) {
        let bytes = loaded.stored_bytes();
        if self.cached_bytes + bytes <= CACHE_BUDGET_BYTES {
            self.cached_bytes += bytes;
            self.cache.insert(id, loaded);
        }
    }

    fn load(&self, id: &DocumentId) -> Result<Option<Loaded>, StorageError> {
        let kind: Option<String> = self
            .conn
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([id.as_bytes()], |row| row.get(0))
            .optional()?;
        let Some(kind) = kind else {
            return Ok(None);
        };
        let kind = DocumentKind::from_code(&kind).ok_or(StorageError::Corrupt {
            what: "document kind",
        })?;
        let snapshot: Vec<u8> = self
            .conn
            .prepare_cached("SELECT blob FROM snapshots WHERE doc_id = ?1")?
            .query_row([id.as_bytes()], |row| row.get(0))
            .optional()?
            .ok_or(StorageError::Corrupt {
                what: "document snapshot",
            })?;
        let mut doc = decode(&snapshot).map_err(corrupt("document snapshot"))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, blob FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query([id.as_bytes()])?;
        let mut increments = Vec::new();
        let mut pending_changes = 0;
        let mut last_seq = 0;
        while let Some(row) = rows.next()? {
            last_seq = row.get(0)?;
            let blob: Vec<u8> = row.get(1)?;
            increments.extend_from_slice(&blob);
            pending_changes += 1;
        }
        if !increments.is_empty() {
            decode_into(&mut doc, &increments).map_err(corrupt("document change"))?;
        }
        Ok(Some(Loaded {
            statements: statement_hashes(&doc),
            doc,
            kind,
            next_seq: last_seq + 1,
            pending_changes,
            pending_bytes: increments.len(),
            snapshot_bytes: snapshot.len(),
        }))
    }

    fn tick(&self) -> Result<i64, StorageError> {
        Ok(self
            .conn
            .prepare_cached("UPDATE clock SET value = value + 1 RETURNING value")?
            .query_row([], |row| row.get(0))?)
    }

    /// Stores a document new to the server: its kind and first snapshot.
    fn insert(
        &self,
        id: &DocumentId,
        kind: DocumentKind,
        saved: &[u8],
    ) -> Result<(), StorageError> {
        let clock = self.tick()?;
        self.conn
            .prepare_cached("INSERT INTO documents (id, kind, clock) VALUES (?1, ?2, ?3)")?
            .execute(params![id.as_bytes(), kind.code(), clock])?;
        self.conn
            .prepare_cached("INSERT INTO snapshots (doc_id, blob) VALUES (?1, ?2)")?
            .execute(params![id.as_bytes(), saved])?;
        Ok(())
    }

    /// Stores one increment of a document, compacting if it is due.
    fn persist(
        &self,
        id: &DocumentId,
        loaded: &mut Loaded,
        increment: &[u8],
    ) -> Result<(), StorageError> {
        let clock = self.tick()?;
        self.conn
            .prepare_cached("UPDATE documents SET clock = ?1 WHERE id = ?2")?
            .execute(params![clock, id.as_bytes()])?;
        self.conn
            .prepare_cached("INSERT INTO changes (doc_id, seq, blob) VALUES (?1, ?2, ?3)")?
            .execute(params![id.as_bytes(), loaded.next_seq, increment])?;
        loaded.next_seq += 1;
        loaded.pending_changes += 1;
        loaded.pending_bytes += increment.len();
        let threshold = (loaded.snapshot_bytes / COMPACT_FRACTION).max(COMPACT_MIN_BYTES);
        if loaded.pending_changes >= COMPACT_AFTER_CHANGES || loaded.pending_bytes >= threshold {
            self.compact(id, loaded)?;
        }
        Ok(())
    }

    /// Replaces a document's snapshot and increments with one new snapshot.
    fn compact(&self, id: &DocumentId, loaded: &mut Loaded) -> Result<(), StorageError> {
        let saved = access::save_applied(&loaded.doc);
        self.conn
            .prepare_cached("UPDATE snapshots SET blob = ?1 WHERE doc_id = ?2")?
            .execute(params![saved, id.as_bytes()])?;
        self.conn
            .prepare_cached("DELETE FROM changes WHERE doc_id = ?1")?
            .execute([id.as_bytes()])?;
        tracing::debug!(
            bytes = saved.len(),
            changes = loaded.pending_changes,
            "document compacted"
        );
        loaded.pending_changes = 0;
        loaded.pending_bytes = 0;
        loaded.snapshot_bytes = saved.len();
        Ok(())
    }

    /// Rewrites a document's rows in `access` from its statements.
    fn write_access(&self, id: &DocumentId, doc: &Automerge) -> Result<(), StorageError> {
        let list = AccessList::replay(id, &access::statements(doc));
        self.conn
            .prepare_cached("DELETE FROM access WHERE doc_id = ?1")?
            .execute([id.as_bytes()])?;
        for entry in list.entries() {
            self.conn
                .prepare_cached("INSERT INTO access (device_id, doc_id, role) VALUES (?1, ?2, ?3)")?
                .execute(params![
                    entry.device.as_bytes(),
                    id.as_bytes(),
                    role_code(entry.role)
                ])?;
        }
        Ok(())
    }

    fn write_signatures(
        &self,
        id: &DocumentId,
        signatures: &[AuthorSignature],
    ) -> Result<(), StorageError> {
        for s in signatures {
            self.conn
                .prepare_cached(
                    "INSERT INTO signatures (doc_id, author, hash, signature)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (doc_id, author) DO UPDATE
                     SET hash = excluded.hash, signature = excluded.signature",
                )?
                .execute(params![
                    id.as_bytes(),
                    s.author.as_bytes(),
                    s.signature.hash.0.as_slice(),
                    s.signature.signature.as_slice()
                ])?;
        }
        Ok(())
    }

    /// Appends to the access log.
    pub(crate) fn log(
        &self,
        device: &DeviceId,
        id: &DocumentId,
        action: Action,
    ) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO access_log (doc_id, device_id, action, at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                id.as_bytes(),
                device.as_bytes(),
                action as i64,
                self.now_ms
            ])?;
        Ok(())
    }

    fn ensure_peer(&mut self, peer: &DeviceId) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO peers (id, info) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![peer.as_bytes(), PeerRecord::default().encode()])?;
        Ok(())
    }
}

/// Whether a document's header still names this document and kind.
fn header_matches(
    doc: &Automerge,
    id: &DocumentId,
    kind: Option<DocumentKind>,
) -> Option<DocumentKind> {
    // The schema version is not checked: the server relays documents without
    // reading them, so devices with a newer layout can share through an
    // older server. Devices check the schema themselves.
    let header = read_header(doc).ok()?;
    (header.id == *id && kind.is_none_or(|k| k == header.kind)).then_some(header.kind)
}

impl Host for SqliteHost<'_> {
    type Error = StorageError;

    fn epoch(&mut self) -> Result<[u8; 16], StorageError> {
        Ok(self.epoch)
    }

    fn clock(&mut self) -> Result<u64, StorageError> {
        let clock: i64 = self
            .conn
            .prepare_cached("SELECT value FROM clock")?
            .query_row([], |row| row.get(0))?;
        Ok(clock_value(clock))
    }

    fn changed(
        &mut self,
        peer: &DeviceId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<(DocumentId, u64)>, StorageError> {
        // Only documents the device holds a grant on: it is never even told
        // about the others.
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.id, d.clock FROM access a JOIN documents d ON d.id = a.doc_id
             WHERE a.device_id = ?1 AND d.clock > ?2 AND d.clock <= ?3
             ORDER BY d.clock",
        )?;
        let rows = stmt.query_map(
            params![peer.as_bytes(), db_clock(after), db_clock(upto)],
            |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?)),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (id, clock) = row?;
            let id = DocumentId::from_slice(&id).ok_or(StorageError::Corrupt {
                what: "document id",
            })?;
            out.push((id, clock_value(clock)));
        }
        Ok(out)
    }

    fn may_sync(&mut self, peer: &DeviceId, doc: &DocumentId) -> Result<bool, StorageError> {
        // A device with a grant, or anyone offering a document the server
        // does not hold yet: whether its changes are stored is decided by
        // their signatures and the grants inside it.
        let granted = self
            .conn
            .prepare_cached("SELECT 1 FROM access WHERE device_id = ?1 AND doc_id = ?2")?
            .exists(params![peer.as_bytes(), doc.as_bytes()])?;
        if granted {
            return Ok(true);
        }
        let held = self.cache.contains_key(doc)
            || self
                .conn
                .prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?
                .exists([doc.as_bytes()])?;
        Ok(!held)
    }

    fn with_document<R>(
        &mut self,
        peer: &DeviceId,
        id: &DocumentId,
        signatures: &[ChangeSignature],
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> Result<(R, DocOutcome), StorageError> {
        if let Some(mut loaded) = self.take(id)? {
            let before = loaded.doc.get_heads();
            let result = f(&mut loaded.doc);
            // Changes whose dependencies are missing stay in Automerge's
            // queue, unverified: a document holding any is dropped, never
            // cached or saved with them.
            let orphans = access::has_orphans(&loaded.doc);
            if loaded.doc.get_heads() == before {
                if !orphans {
                    self.keep(*id, loaded);
                }
                return Ok((result, DocOutcome::Unchanged));
            }
            // The changes must not rename or retype the document, and each
            // must be signed by an author who may write it now. The
            // in-memory copy that holds refused changes is dropped, not
            // cached.
            if header_matches(&loaded.doc, id, Some(loaded.kind)).is_none() {
                tracing::warn!("refused changes that alter a document's header");
                return Ok((result, DocOutcome::Rejected(DocStatus::Invalid)));
            }
            let keep = match access::verify_changes(
                id,
                &loaded.doc,
                &before,
                &loaded.statements,
                signatures,
                WriteRule::Current,
                self.now_ms,
            ) {
                Ok(keep) => keep,
                // The signatures are over changes still missing.
                Err(access::Refusal::Unsigned) if orphans => {
                    tracing::debug!("changes wait for their dependencies; nothing stored");
                    return Ok((result, DocOutcome::Incomplete));
                }
                Err(refusal) => {
                    tracing::warn!(reason = %refusal, "refused changes");
                    return Ok((result, DocOutcome::Rejected(refusal.status())));
                }
            };
            let increment = loaded.doc.save_after(&before);
            self.persist(id, &mut loaded, &increment)?;
            self.write_signatures(id, &keep)?;
            let statements = statement_hashes(&loaded.doc);
            if statements != loaded.statements {
                self.write_access(id, &loaded.doc)?;
                loaded.statements = statements;
            }
            self.log(peer, id, Action::Write)?;
            if !orphans {
                self.keep(*id, loaded);
            }
            return Ok((result, DocOutcome::Stored));
        }
        let mut fresh = Automerge::new();
        let result = f(&mut fresh);
        if fresh.get_heads().is_empty() {
            return Ok((result, DocOutcome::Unchanged));
        }
        // A document new to the server must say what it is, be the
        // document the device said it was, name its creator, and hold only
        // signed changes by authors who may write it.
        let Some(kind) = header_matches(&fresh, id, None) else {
            tracing::warn!("refused a new document without a valid header");
            return Ok((result, DocOutcome::Rejected(DocStatus::Invalid)));
        };
        let keep = match access::verify_changes(
            id,
            &fresh,
            &[],
            &BTreeSet::new(),
            signatures,
            WriteRule::Current,
            self.now_ms,
        ) {
            Ok(keep) => keep,
            Err(access::Refusal::Unsigned) if access::has_orphans(&fresh) => {
                tracing::debug!("changes wait for their dependencies; nothing stored");
                return Ok((result, DocOutcome::Incomplete));
            }
            Err(refusal) => {
                tracing::warn!(reason = %refusal, "refused a new document");
                return Ok((result, DocOutcome::Rejected(refusal.status())));
            }
        };
        let saved = access::save_applied(&fresh);
        self.insert(id, kind, &saved)?;
        self.write_signatures(id, &keep)?;
        self.write_access(id, &fresh)?;
        self.log(peer, id, Action::Write)?;
        if access::has_orphans(&fresh) {
            return Ok((result, DocOutcome::Stored));
        }
        self.keep(
            *id,
            Loaded {
                statements: statement_hashes(&fresh),
                doc: fresh,
                kind,
                next_seq: 1,
                pending_changes: 0,
                pending_bytes: 0,
                snapshot_bytes: saved.len(),
            },
        );
        Ok((result, DocOutcome::Stored))
    }

    fn signatures(
        &mut self,
        doc: &DocumentId,
        authors: &BTreeSet<DeviceId>,
    ) -> Result<Vec<ChangeSignature>, StorageError> {
        let mut out = Vec::with_capacity(authors.len());
        for author in authors {
            let row: Option<(Vec<u8>, Vec<u8>)> = self
                .conn
                .prepare_cached(
                    "SELECT hash, signature FROM signatures WHERE doc_id = ?1 AND author = ?2",
                )?
                .query_row(params![doc.as_bytes(), author.as_bytes()], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            let Some((hash, signature)) = row else {
                continue;
            };
            let corrupt = || StorageError::Corrupt { what: "signature" };
            out.push(ChangeSignature {
                hash: ChangeHash::try_from(hash.as_slice()).map_err(|_| corrupt())?,
                signature: signature.as_slice().try_into().map_err(|_| corrupt())?,
            });
        }
        Ok(out)
    }

    fn sent(&mut self, peer: &DeviceId, doc: &DocumentId) -> Result<(), StorageError> {
        self.log(peer, doc, Action::Read)
    }

    fn load_state(
        &mut self,
        peer: &DeviceId,
        doc: &DocumentId,
    ) -> Result<PeerDocState, StorageError> {
        let stored: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT state FROM sync_states WHERE peer_id = ?1 AND doc_id = ?2")?
            .query_row(params![peer.as_bytes(), doc.as_bytes()], |row| row.get(0))
            .optional()?;
        match stored {
            None => Ok(PeerDocState::default()),
            Some(bytes) => {
                PeerDocState::decode(&bytes).ok_or(StorageError::Corrupt { what: "sync state" })
            }
        }
    }

    fn store_state(
        &mut self,
        peer: &DeviceId,
        doc: &DocumentId,
        state: &PeerDocState,
    ) -> Result<(), StorageError> {
        let held = self.cache.contains_key(doc)
            || self
                .conn
                .prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?
                .exists([doc.as_bytes()])?;
        if !held {
            return Ok(());
        }
        self.ensure_peer(peer)?;
        self.conn
            .prepare_cached(
                "INSERT INTO sync_states (peer_id, doc_id, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (peer_id, doc_id) DO UPDATE SET state = excluded.state",
            )?
            .execute(params![peer.as_bytes(), doc.as_bytes(), state.encode()])?;
        Ok(())
    }

    fn load_peer(&mut self, peer: &DeviceId) -> Result<PeerRecord, StorageError> {
        let stored: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT info FROM peers WHERE id = ?1")?
            .query_row([peer.as_bytes()], |row| row.get(0))
            .optional()?;
        match stored {
            None => Ok(PeerRecord::default()),
            Some(bytes) => PeerRecord::decode(&bytes).ok_or(StorageError::Corrupt {
                what: "peer record",
            }),
        }
    }

    fn store_peer(&mut self, peer: &DeviceId, record: &PeerRecord) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO peers (id, info) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET info = excluded.info",
            )?
            .execute(params![peer.as_bytes(), record.encode()])?;
        Ok(())
    }
}
