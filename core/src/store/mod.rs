//! The on-device store: Automerge documents in an encrypted SQLite file.
//!
//! [`Store::open`] opens (or creates) the file, checks it and the key before
//! writing anything, migrates the schema and loads the device key. Each edit
//! is one Automerge transaction — one change, whose actor is this device —
//! persisted as sealed incremental bytes before the call returns, as durably
//! as the store's [`Durability`] says. When a
//! document's increments grow past a fraction of its size they are compacted
//! into a snapshot in one SQLite transaction.
//!
//! The typed operations live beside this file, one file per document kind;
//! this file holds opening, loading, persisting, import and export.

mod access;
mod care_plan;
mod directory;
mod directory_index;
mod endorsements;
mod journal;
mod observe;
mod open;
mod saved_index;
pub(crate) mod schema;
mod sync;

pub use observe::ListenerId;
pub use open::{Durability, StoreOptions};
pub use sync::{SyncFailure, SyncScope, SyncSession};

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
    sync::{Mutex, PoisonError},
};

use automerge::{Automerge, transaction::CommitOptions, transaction::Transaction};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    DeviceId, DocumentId, DocumentKind, Error, ItemId, OpenError, SafetyPlan, StoreKey,
    access::{AccessList, AuthorSignature, ChangeSignature, Grant},
    crypto::{DeviceKey, Sealer},
    doc::{self, EditContext},
};

/// The largest document [`Store::import`] accepts, in bytes.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// Compact a document's increments once they pass this many changes…
const COMPACT_AFTER_CHANGES: usize = 1_000;
/// …or once their size passes this fraction (1/n) of the last snapshot…
const COMPACT_FRACTION: usize = 4;
/// …but never for less than this many bytes of increments.
const COMPACT_MIN_BYTES: usize = 16 * 1024;

/// How persisting a change keeps a care plan's safety-plan view in step.
#[derive(Debug, Clone)]
enum ViewRefresh {
    /// The change does not touch the safety plan.
    None,
    /// Read the whole safety plan again.
    Full,
    /// The change only appended an item, made on this device, to this list.
    Appended(crate::SafetyList),
    /// The change, made on this device, only set the code word to this.
    CodeWord(Option<String>),
    /// The change, made on this device, only set this item's text to this.
    ItemText(ItemId, String),
}

/// What a change did to the safety plan, for its view.
enum Refreshed {
    /// The safety plan after the change.
    Plan(SafetyPlan),
    /// The change appended this item to this list, and did nothing else.
    Item(crate::SafetyList, crate::SafetyItem),
}

/// At most this many items appended since the safety-plan view was last
/// written whole are stored as rows of their own (see [`Inner::persist`]);
/// the next one rewrites the view.
const MAX_APPENDED_VIEW_ROWS: u32 = 64;

impl ViewRefresh {
    /// The safety plan after the change, from the view before it and the
    /// document after it; `None` if the change does not touch the safety
    /// plan.
    fn refresh(self, cached: Option<&SafetyPlan>, doc: &Automerge) -> Option<Refreshed> {
        let full = || Some(Refreshed::Plan(doc::safety_plan::read(doc)));
        let Some(cached) = cached else {
            return match self {
                Self::None => None,
                _ => full(),
            };
        };
        match self {
            Self::None => None,
            Self::Full => full(),
            Self::Appended(list) => {
                // An item this device just added is the last of its list,
                // and a new item cannot make or settle a conflict: the view
                // gains that one item.
                match doc::safety_plan::read_last_item(doc, list) {
                    Some(item) => Some(Refreshed::Item(list, item)),
                    None => full(),
                }
            }
            // A value written on this device replaces the one shown. It may
            // settle a conflict, which only a full read can tell; without
            // one before, there is none after.
            _ if cached.has_conflicts => full(),
            Self::CodeWord(word) => {
                let mut plan = cached.clone();
                plan.code_word = word.filter(|w| !w.is_empty());
                Some(Refreshed::Plan(plan))
            }
            Self::ItemText(id, text) => {
                let mut plan = cached.clone();
                let at = crate::SafetyList::ALL.iter().find_map(|&list| {
                    let n = plan.list(list).iter().position(|i| i.id == id)?;
                    Some((list, n))
                });
                match at.and_then(|(list, n)| plan.list_mut(list).get_mut(n)) {
                    Some(item) => {
                        item.text = text;
                        Some(Refreshed::Plan(plan))
                    }
                    // A removed item: not in the view.
                    None => full(),
                }
            }
        }
    }
}

/// A document's kind and id, as listed by [`Store::documents`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct DocumentSummary {
    /// The document's id.
    pub id: DocumentId,
    /// What it holds.
    pub kind: DocumentKind,
}

/// What [`Store::import`] did with the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The document the bytes belong to.
    pub id: DocumentId,
    /// Its kind.
    pub kind: DocumentKind,
    /// Whether the store held the document before.
    pub existed: bool,
    /// How many changes were new to this device.
    pub new_changes: usize,
}

/// A Lynchpin store on this device. Safe to share between threads: calls are
/// serialised by an internal lock, and each one is short.
pub struct Store {
    inner: Mutex<Inner>,
    device: DeviceKey,
    device_id: DeviceId,
    path: PathBuf,
    listeners: observe::Listeners,
}

struct Inner {
    conn: Connection,
    sealer: Sealer,
    durability: Durability,
    docs: HashMap<DocumentId, Loaded>,
    /// Documents whose changes were stored under the current lock, for the
    /// listeners (see `observe`).
    changed: BTreeSet<DocumentId>,
    /// The organisations whose certificates this app trusts.
    trusted: crate::TrustedOrganisations,
    /// Directory indexes read back from SQLite for directories that are
    /// not loaded (`saved_index.rs`); one moves into its document's
    /// [`Loaded`] when the document is loaded.
    unloaded_indexes: HashMap<DocumentId, directory_index::DirectoryIndex>,
}

/// A document held in memory, with what is needed to persist its next change.
struct Loaded {
    doc: Automerge,
    kind: DocumentKind,
    next_seq: i64,
    pending_changes: usize,
    pending_bytes: usize,
    snapshot_bytes: usize,
    /// The last safety-plan view written for a care plan (plain), if known.
    safety_view: Option<Vec<u8>>,
    /// The same view, decoded, so that an edit of one list re-reads only
    /// that list; with the items appended since (below).
    safety_plan: Option<SafetyPlan>,
    /// The items appended since `safety_view` was written, stored in rows
    /// of their own after it, if known.
    view_appended: Option<ViewRows>,
    /// Who may do what, from the grant statements in the document.
    access: AccessList,
    /// The hashes of the statements the document holds.
    statements: BTreeSet<[u8; 32]>,
    /// For a directory: its decoded index, if one was built or read back
    /// since it was loaded (brought up to date when the document's heads
    /// move on).
    directory_index: Option<directory_index::DirectoryIndex>,
}

impl Loaded {
    fn new(id: &DocumentId, doc: Automerge, kind: DocumentKind, snapshot_bytes: usize) -> Self {
        let mut loaded = Self {
            doc,
            kind,
            next_seq: 1,
            pending_changes: 0,
            pending_bytes: 0,
            snapshot_bytes,
            safety_view: None,
            view_appended: None,
            safety_plan: None,
            access: AccessList::default(),
            statements: BTreeSet::new(),
            directory_index: None,
        };
        loaded.refresh_access(id);
        loaded
    }

    /// Re-reads the grant statements after the document gained changes.
    /// They are replayed for the id the store knows the document by, never
    /// the one its content claims.
    fn refresh_access(&mut self, id: &DocumentId) {
        let grants = doc::access::statements(&self.doc);
        self.statements = grants.iter().map(Grant::hash).collect();
        self.access = AccessList::replay(id, &grants);
    }

    /// Whether this device may change the document. A document without
    /// grant statements (imported from before they existed) is this
    /// device's own.
    fn may_edit(&self, device: &DeviceId) -> bool {
        self.statements.is_empty() || self.access.may_write(device)
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("device", &self.device_id)
            .finish_non_exhaustive()
    }
}

fn aad(purpose: &str, id: &DocumentId, seq: Option<i64>) -> Vec<u8> {
    let mut aad = Vec::with_capacity(purpose.len() + 24);
    aad.extend_from_slice(purpose.as_bytes());
    aad.extend_from_slice(id.as_bytes());
    if let Some(seq) = seq {
        aad.extend_from_slice(&seq.to_be_bytes());
    }
    aad
}

impl Store {
    /// Opens the store at `path` with the app's key, creating it if the file
    /// does not exist. See [`OpenError`] for what can go wrong; a failed open
    /// changes nothing on disk.
    ///
    /// Every edit is synced to disk before its call returns
    /// ([`Durability::Full`]); [`Store::open_with`] chooses otherwise.
    pub fn open(path: impl AsRef<Path>, key: &StoreKey) -> Result<Self, OpenError> {
        Self::open_with(path, key, StoreOptions::default())
    }

    /// [`Store::open`] with options: how durable each edit is when its call
    /// returns (see [`Durability`] for the trade-off).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), lynchpin_core::OpenError> {
    /// use lynchpin_core::{Durability, Store, StoreKey, StoreOptions};
    ///
    /// let key = StoreKey::new([7; 32]); // from the Keystore or Keychain
    /// let options = StoreOptions {
    ///     durability: Durability::ProcessCrash,
    /// };
    /// let store = Store::open_with("plans.lynchpin", &key, options)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_with(
        path: impl AsRef<Path>,
        key: &StoreKey,
        options: StoreOptions,
    ) -> Result<Self, OpenError> {
        Self::from_opened(path.as_ref(), open::open(path.as_ref(), key, options)?)
    }

    /// Opens a store at an older schema version, to test upgrades.
    #[cfg(test)]
    pub(crate) fn open_at_version(
        path: &Path,
        key: &StoreKey,
        version: i64,
    ) -> Result<Self, OpenError> {
        Self::from_opened(
            path,
            open::open_at_version(path, key, StoreOptions::default(), version)?,
        )
    }

    fn from_opened(path: &Path, opened: open::Opened) -> Result<Self, OpenError> {
        let device_id = opened.device.device_id();
        tracing::debug!(device = ?device_id, "store opened");
        Ok(Self {
            inner: Mutex::new(Inner {
                conn: opened.conn,
                sealer: opened.sealer,
                durability: opened.durability,
                docs: HashMap::new(),
                changed: BTreeSet::new(),
                trusted: crate::TrustedOrganisations::default(),
                unloaded_indexes: HashMap::new(),
            }),
            device: opened.device,
            device_id,
            path: path.to_path_buf(),
            listeners: observe::Listeners::default(),
        })
    }

    /// This device's id: its public key and its Automerge actor.
    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// This device's signing key.
    pub fn device_key(&self) -> &DeviceKey {
        &self.device
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What an edit survives once its call has returned, as chosen at open.
    pub fn durability(&self) -> Durability {
        self.lock().durability
    }

    /// Takes the store's lock; listeners hear of stored changes when it is
    /// released.
    fn lock(&self) -> observe::Locked<'_> {
        let guard = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned: PoisonError<_>| {
                // A panic mid-call may have left a cached document ahead of the
                // disk. Drop the cache; documents reload from what was persisted.
                let mut inner = poisoned.into_inner();
                inner.docs.clear();
                inner.unloaded_indexes.clear();
                inner
            });
        observe::Locked::new(guard, &self.listeners)
    }

    fn context(&self) -> EditContext {
        EditContext {
            device: self.device_id,
            now: Utc::now(),
        }
    }

    /// Every document on this device, with its kind.
    pub fn documents(&self) -> Result<Vec<DocumentSummary>, Error> {
        let inner = self.lock();
        let mut stmt = inner
            .conn
            .prepare_cached("SELECT id, header FROM documents ORDER BY id")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, header) = row?;
            let id = DocumentId::from_slice(&id).ok_or(Error::Corrupt {
                what: "document id",
            })?;
            let kind = inner.open_header(&id, &header)?;
            out.push(DocumentSummary { id, kind });
        }
        Ok(out)
    }

    /// The kind of one document.
    pub fn kind(&self, id: &DocumentId) -> Result<DocumentKind, Error> {
        let mut inner = self.lock();
        Ok(inner.load(id, self.device_id)?.kind)
    }

    /// Creates a document of `kind`, laid out by `init`, as one change. Its
    /// id is derived from this device's key and a random nonce, and the
    /// change carries the genesis statement that makes this device the
    /// document's owner.
    fn create(
        &self,
        kind: DocumentKind,
        init: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<(), Error>,
    ) -> Result<DocumentId, Error> {
        let ctx = self.context();
        let mut nonce = [0u8; 16];
        crate::crypto::fill_random(&mut nonce)?;
        let genesis = Grant::genesis(&self.device, nonce, ctx.now.timestamp_millis());
        let id = genesis.document;
        let mut doc = doc::empty(self.device_id);
        doc.transact_with(
            |_| commit_options(&ctx, "create"),
            |tx| {
                doc::init_header(tx, id, kind)?;
                doc::access::add(tx, &genesis)?;
                init(tx, &ctx)
            },
        )
        .map_err(|failure| failure.error)?;
        let signature = self.sign_last_change(&id, &doc)?;
        self.lock().insert_document(&id, kind, doc, &[signature])?;
        tracing::debug!(document = %id, %kind, "document created");
        Ok(id)
    }

    /// Signs the last change this device made to a document.
    fn sign_last_change(&self, id: &DocumentId, doc: &Automerge) -> Result<AuthorSignature, Error> {
        let change = doc
            .get_last_local_change()
            .ok_or(Error::InvalidDocument("the edit made no change"))?;
        Ok(self.sign_change(id, &change))
    }

    /// Signs a change this device made to a document.
    fn sign_change(&self, id: &DocumentId, change: &automerge::Change) -> AuthorSignature {
        AuthorSignature {
            author: self.device_id,
            seq: change.seq(),
            signature: ChangeSignature::sign(&self.device, id, change.hash()),
        }
    }

    /// The safety plan of a care plan: from memory if the plan is loaded,
    /// else from its stored view (no Automerge load), else — for a plan
    /// stored before views existed — loaded once and the view written.
    fn read_safety_plan(&self, id: &DocumentId) -> Result<SafetyPlan, Error> {
        let mut inner = self.lock();
        let mut damaged = false;
        if !inner.docs.contains_key(id) {
            check_kind(id, DocumentKind::CarePlan, inner.stored_kind(id)?)?;
            match inner.read_view(id) {
                Ok(Some(view)) => return Ok(view),
                Ok(None) => {}
                // The plan itself is the truth: it is read instead, slowly.
                // The damaged view is left as it is (a read never writes to
                // a file found damaged); the next edit of the safety plan
                // writes it whole again.
                Err(Error::Corrupt { what }) => {
                    tracing::warn!(document = %id, what, "read from the care plan instead");
                    damaged = true;
                }
                Err(e) => return Err(e),
            }
        }
        let loaded = inner.load(id, self.device_id)?;
        check_kind(id, DocumentKind::CarePlan, loaded.kind)?;
        if let Some(plan) = &loaded.safety_plan {
            return Ok(plan.clone());
        }
        let plan = doc::safety_plan::read(&loaded.doc);
        if loaded.safety_view.is_none() && !damaged {
            let (sealed, plain) = inner.seal_plan(id, &plan)?;
            let tx = inner.conn.transaction()?;
            write_view(&tx, id, &sealed)?;
            tx.commit()?;
            if let Some(loaded) = inner.docs.get_mut(id) {
                loaded.safety_view = Some(plain);
                loaded.safety_plan = Some(plan.clone());
                loaded.view_appended = ViewRows::after(&sealed);
            }
        }
        Ok(plan)
    }

    /// Runs `read` on a document of `kind`.
    fn read<R>(
        &self,
        id: &DocumentId,
        kind: DocumentKind,
        read: impl FnOnce(&Automerge) -> R,
    ) -> Result<R, Error> {
        let mut inner = self.lock();
        let loaded = inner.load(id, self.device_id)?;
        check_kind(id, kind, loaded.kind)?;
        Ok(read(&loaded.doc))
    }

    /// Runs `edit` on a document of `kind` as one Automerge change and
    /// persists the change before returning. If `edit` fails nothing is
    /// written; if persisting fails the in-memory copy is dropped, so memory
    /// never runs ahead of the disk.
    fn edit<R>(
        &self,
        id: &DocumentId,
        kind: DocumentKind,
        what: &'static str,
        edit: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.edit_with(id, kind, what, ViewRefresh::None, edit)
    }

    /// [`Store::edit`] for edits of the safety plan: its stored view is
    /// refreshed in the same transaction as the change.
    fn edit_safety<R>(
        &self,
        id: &DocumentId,
        what: &'static str,
        edit: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.edit_with(id, DocumentKind::CarePlan, what, ViewRefresh::Full, edit)
    }

    /// [`Store::edit_safety`] for an edit that only sets one value of the
    /// safety plan, `refresh`: the view takes that value without reading
    /// the plan again, unless it shows a conflict.
    fn edit_safety_value<R>(
        &self,
        id: &DocumentId,
        what: &'static str,
        refresh: ViewRefresh,
        edit: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.edit_with(id, DocumentKind::CarePlan, what, refresh, edit)
    }

    /// [`Store::edit_safety`] for an edit that only appends an item to one
    /// list of the safety plan: the view gains that item, and nothing else
    /// is read again.
    fn edit_safety_append<R>(
        &self,
        id: &DocumentId,
        list: crate::SafetyList,
        what: &'static str,
        edit: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.edit_with(
            id,
            DocumentKind::CarePlan,
            what,
            ViewRefresh::Appended(list),
            edit,
        )
    }

    fn edit_with<R>(
        &self,
        id: &DocumentId,
        kind: DocumentKind,
        what: &'static str,
        refresh_view: ViewRefresh,
        edit: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.edit_checked(
            id,
            what,
            |loaded| check_kind(id, kind, loaded.kind),
            refresh_view,
            edit,
        )
    }

    /// Runs `check` on the loaded document, then `edit` as one change by
    /// this device, signed, and persists it with its signature. Refused if
    /// this device may not write the document.
    fn edit_checked<R>(
        &self,
        id: &DocumentId,
        what: &'static str,
        check: impl FnOnce(&Loaded) -> Result<(), Error>,
        refresh_view: ViewRefresh,
        edit: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let ctx = self.context();
        let mut inner = self.lock();
        let loaded = inner.load(id, self.device_id)?;
        check(loaded)?;
        if !loaded.may_edit(&self.device_id) {
            return Err(Error::NotAllowed("change this document"));
        }
        let success = loaded
            .doc
            .transact_with(|_| commit_options(&ctx, what), |tx| edit(tx, &ctx))
            .map_err(|failure| failure.error)?;
        if success.hash.is_none() {
            return Ok(success.result);
        }
        let (change, signature) = loaded
            .doc
            .get_last_local_change()
            .map(|c| (c.raw_bytes().to_vec(), self.sign_change(id, &c)))
            .ok_or(Error::InvalidDocument("the edit made no change"))?;
        if let Err(e) = inner.persist(id, &change, refresh_view, &[signature]) {
            inner.docs.remove(id);
            return Err(e);
        }
        Ok(success.result)
    }

    /// The document in Automerge's standard binary format (`save()`), which
    /// any Automerge implementation can load. Everything the store holds is
    /// on disk before the bytes are returned, whatever its [`Durability`].
    pub fn export(&self, id: &DocumentId) -> Result<Vec<u8>, Error> {
        let mut inner = self.lock();
        let saved = crate::access::save_applied(&inner.load(id, self.device_id)?.doc);
        inner.sync_to_disk()?;
        Ok(saved)
    }

    /// Merges another device's bytes of a document (a `save()`, or changes
    /// that follow ones this store has) into the store, creating the document
    /// if it is new here. Importing the same bytes twice is harmless.
    pub fn import(&self, bytes: &[u8]) -> Result<ImportOutcome, Error> {
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(Error::InvalidDocument("larger than the import limit"));
        }
        let incoming = doc::decode(bytes)?;
        let header = doc::read_header(&incoming)?;
        if header.schema > doc::SCHEMA_VERSION {
            return Err(Error::InvalidDocument(
                "written with a newer document schema",
            ));
        }
        let id = header.id;
        let mut inner = self.lock();
        if inner.exists(&id)? {
            let loaded = inner.load(&id, self.device_id)?;
            check_kind(&id, header.kind, loaded.kind)?;
            let before = loaded.doc.get_heads();
            let added = loaded.doc.get_changes_added(&incoming);
            let new_changes = added.len();
            if new_changes == 0 {
                return Ok(ImportOutcome {
                    id,
                    kind: header.kind,
                    existed: true,
                    new_changes: 0,
                });
            }
            loaded.doc.apply_changes(added)?;
            let increment = loaded.doc.save_after(&before);
            if let Err(e) = inner.persist(&id, &increment, ViewRefresh::Full, &[]) {
                inner.docs.remove(&id);
                return Err(e);
            }
            if let Some(loaded) = inner.docs.get_mut(&id) {
                loaded.refresh_access(&id);
            }
            inner.refresh_directory_index(&id)?;
            tracing::debug!(document = %id, changes = new_changes, "merged document");
            Ok(ImportOutcome {
                id,
                kind: header.kind,
                existed: true,
                new_changes,
            })
        } else {
            let new_changes = incoming.get_changes(&[]).len();
            let doc = incoming.with_actor(self.device_id.actor());
            inner.insert_document(&id, header.kind, doc, &[])?;
            tracing::debug!(document = %id, kind = %header.kind, "imported new document");
            Ok(ImportOutcome {
                id,
                kind: header.kind,
                existed: false,
                new_changes,
            })
        }
    }

    /// Deletes a document and everything stored about it from this device.
    pub fn delete_document(&self, id: &DocumentId) -> Result<(), Error> {
        let mut inner = self.lock();
        let deleted = inner
            .conn
            .execute("DELETE FROM documents WHERE id = ?1", [id.as_bytes()])?;
        inner.docs.remove(id);
        inner.unloaded_indexes.remove(id);
        if deleted == 0 {
            return Err(Error::not_found("document", id));
        }
        incremental_vacuum(&inner.conn)?;
        Ok(())
    }

    /// Compacts every document's increments into a snapshot now (apps may
    /// call this when idle; the store also compacts on its own).
    pub fn compact(&self) -> Result<(), Error> {
        let ids: Vec<DocumentId> = self.documents()?.into_iter().map(|d| d.id).collect();
        let mut inner = self.lock();
        for id in ids {
            inner.load(&id, self.device_id)?;
            inner.compact(&id)?;
        }
        Ok(())
    }
}

/// Writes a care plan's safety-plan view whole, in place of the one
/// stored and the items appended after it.
fn write_view(tx: &rusqlite::Transaction<'_>, id: &DocumentId, sealed: &[u8]) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO views (doc_id, name, blob) VALUES (?1, 'safety', ?2)
         ON CONFLICT (doc_id, name) DO UPDATE SET blob = excluded.blob",
    )?
    .execute(params![id.as_bytes(), sealed])?;
    tx.prepare_cached("DELETE FROM views WHERE doc_id = ?1 AND name LIKE 'safety+%'")?
        .execute([id.as_bytes()])?;
    Ok(())
}

/// The `views` row of the `n`th item appended after a safety-plan view
/// (from 1); the rows sort in the order they were appended.
fn appended_view_row(n: u32) -> String {
    format!("safety+{n:06}")
}

/// The associated data of the `n`th item appended after the safety-plan
/// view sealed under `view`'s nonce: a row opens only in its place, after
/// the view it was appended to.
fn appended_view_aad(id: &DocumentId, n: u32, view: &[u8; 24]) -> Vec<u8> {
    let mut aad = aad("view:safety+", id, Some(i64::from(n)));
    aad.extend_from_slice(view);
    aad
}

/// The rows of items appended after a stored safety-plan view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ViewRows {
    /// The nonce the view was sealed under.
    view: [u8; 24],
    /// How many rows follow it.
    count: u32,
}

impl ViewRows {
    /// None yet after the view `sealed`.
    fn after(sealed: &[u8]) -> Option<Self> {
        Some(Self {
            view: crate::crypto::sealed_nonce(sealed)?,
            count: 0,
        })
    }
}

/// What persisting a change writes of the safety-plan view.
enum ViewWrite {
    /// The view, whole, sealed.
    Whole {
        sealed: Vec<u8>,
        plain: Vec<u8>,
        plan: SafetyPlan,
    },
    /// An appended item, sealed, for the last of `rows` after the view.
    Item {
        rows: ViewRows,
        sealed: Vec<u8>,
        list: crate::SafetyList,
        item: crate::SafetyItem,
    },
}

fn commit_options(ctx: &EditContext, what: &'static str) -> CommitOptions {
    CommitOptions::default()
        .with_message(what)
        .with_time(ctx.now.timestamp())
}

/// Gives the database's free pages back to the file system.
/// `PRAGMA incremental_vacuum` frees one page per step (each step yields a
/// row), so it is stepped to the end: `execute_batch` would free only one.
fn incremental_vacuum(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

fn check_kind(id: &DocumentId, expected: DocumentKind, found: DocumentKind) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::WrongKind {
            id: *id,
            expected,
            found,
        })
    }
}

impl Inner {
    /// Makes every commit so far durable, before bytes that may carry this
    /// device's changes leave it. With [`Durability::Full`] they already are.
    /// With [`Durability::ProcessCrash`] the recent ones may be only in the
    /// OS's cache: losing a change another device has would let this device
    /// write a different change under the same Automerge sequence number
    /// later, and no replica would accept it. A WAL checkpoint syncs the WAL,
    /// copies it into the database and syncs that (no sync at all if nothing
    /// is new since the last one).
    fn sync_to_disk(&self) -> Result<(), Error> {
        if self.durability == Durability::Full {
            return Ok(());
        }
        let (busy, _, _): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
        if busy != 0 {
            // One connection holds the file exclusively: nothing can block it.
            return Err(Error::Storage(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("WAL checkpoint blocked".into()),
            )));
        }
        Ok(())
    }

    fn open_header(&self, id: &DocumentId, sealed: &[u8]) -> Result<DocumentKind, Error> {
        let plain = self
            .sealer
            .open(&aad("header", id, None), sealed)
            .map_err(|_| Error::Corrupt {
                what: "document header",
            })?;
        std::str::from_utf8(&plain)
            .ok()
            .and_then(DocumentKind::from_code)
            .ok_or(Error::Corrupt {
                what: "document header",
            })
    }

    /// The kind of a stored document, from its header (without loading it).
    fn stored_kind(&self, id: &DocumentId) -> Result<DocumentKind, Error> {
        let header: Vec<u8> = self
            .conn
            .prepare_cached("SELECT header FROM documents WHERE id = ?1")?
            .query_row([id.as_bytes()], |row| row.get(0))
            .optional()?
            .ok_or_else(|| Error::not_found("document", id))?;
        self.open_header(id, &header)
    }

    fn exists(&self, id: &DocumentId) -> Result<bool, Error> {
        if self.docs.contains_key(id) {
            return Ok(true);
        }
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?
            .exists([id.as_bytes()])?)
    }

    /// The document, from memory or from disk.
    fn load(&mut self, id: &DocumentId, device: DeviceId) -> Result<&mut Loaded, Error> {
        if !self.docs.contains_key(id) {
            let mut loaded = self.load_from_disk(id, device)?;
            // Current, since nothing changes a document without loading it.
            loaded.directory_index = self.unloaded_indexes.remove(id);
            self.docs.insert(*id, loaded);
        }
        self.docs
            .get_mut(id)
            .ok_or_else(|| Error::not_found("document", id))
    }

    fn load_from_disk(&self, id: &DocumentId, device: DeviceId) -> Result<Loaded, Error> {
        let kind = self.stored_kind(id)?;
        let corrupt = |_| Error::Corrupt { what: "document" };
        let snapshot: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT blob FROM snapshots WHERE doc_id = ?1")?
            .query_row([id.as_bytes()], |row| row.get(0))
            .optional()?;
        let (mut doc, snapshot_bytes) = match snapshot {
            Some(sealed) => {
                let bytes = self
                    .sealer
                    .open(&aad("snapshot", id, None), &sealed)
                    .map_err(|_| Error::Corrupt {
                        what: "document snapshot",
                    })?;
                (doc::decode(&bytes).map_err(corrupt)?, bytes.len())
            }
            None => (Automerge::new(), 0),
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, blob FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query([id.as_bytes()])?;
        let mut increments = Vec::new();
        let mut pending_changes = 0;
        let mut last_seq = 0;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let sealed: Vec<u8> = row.get(1)?;
            let bytes = self
                .sealer
                .open(&aad("change", id, Some(seq)), &sealed)
                .map_err(|_| Error::Corrupt {
                    what: "document change",
                })?;
            increments.extend_from_slice(&bytes);
            pending_changes += 1;
            last_seq = seq;
        }
        if !increments.is_empty() {
            doc::decode_into(&mut doc, &increments).map_err(corrupt)?;
        }
        let mut loaded = Loaded::new(id, doc.with_actor(device.actor()), kind, snapshot_bytes);
        loaded.next_seq = last_seq + 1;
        loaded.pending_changes = pending_changes;
        loaded.pending_bytes = increments.len();
        Ok(loaded)
    }

    /// Stores a new document — its sealed header, first snapshot and, for a
    /// care plan, its safety-plan view — stamped with the next clock value,
    /// in one transaction, and keeps it loaded.
    fn insert_document(
        &mut self,
        id: &DocumentId,
        kind: DocumentKind,
        doc: Automerge,
        signatures: &[AuthorSignature],
    ) -> Result<(), Error> {
        let saved = crate::access::save_applied(&doc);
        let header = self
            .sealer
            .seal(&aad("header", id, None), kind.code().as_bytes())?;
        let snapshot = self.sealer.seal(&aad("snapshot", id, None), &saved)?;
        let view = match kind {
            DocumentKind::CarePlan => {
                let plan = doc::safety_plan::read(&doc);
                let (sealed, plain) = self.seal_plan(id, &plan)?;
                Some((sealed, plain, plan))
            }
            _ => None,
        };
        let signatures = access::seal_signatures(&self.sealer, id, signatures)?;
        let tx = self.conn.transaction()?;
        let clock: i64 = tx.query_row(
            "UPDATE clock SET value = value + 1 RETURNING value",
            [],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO documents (id, header, clock) VALUES (?1, ?2, ?3)",
            params![id.as_bytes(), header, clock],
        )?;
        tx.execute(
            "INSERT INTO snapshots (doc_id, blob) VALUES (?1, ?2)",
            params![id.as_bytes(), snapshot],
        )?;
        if let Some((view, _, _)) = &view {
            write_view(&tx, id, view)?;
        }
        access::write_signatures(&tx, id, &signatures)?;
        tx.commit()?;
        self.changed.insert(*id);
        self.unloaded_indexes.remove(id);
        let mut loaded = Loaded::new(id, doc, kind, saved.len());
        if let Some((sealed, plain, plan)) = view {
            loaded.view_appended = ViewRows::after(&sealed);
            loaded.safety_view = Some(plain);
            loaded.safety_plan = Some(plan);
        }
        self.docs.insert(*id, loaded);
        Ok(())
    }

    /// A safety plan as its stored view: (sealed, plain).
    fn seal_plan(&self, id: &DocumentId, plan: &SafetyPlan) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let plain = serde_json::to_vec(plan)
            .map_err(|_| Error::InvalidDocument("the safety plan could not be encoded"))?;
        Ok((
            self.sealer.seal(&aad("view:safety", id, None), &plain)?,
            plain,
        ))
    }

    /// An item appended to a safety plan, sealed for the last of `rows`
    /// after its view: the list's code and the item, in JSON like the view.
    fn seal_appended(
        &self,
        id: &DocumentId,
        rows: &ViewRows,
        list: crate::SafetyList,
        item: &crate::SafetyItem,
    ) -> Result<Vec<u8>, Error> {
        let plain = serde_json::to_vec(&(list.code(), item))
            .map_err(|_| Error::InvalidDocument("the safety plan could not be encoded"))?;
        Ok(self
            .sealer
            .seal(&appended_view_aad(id, rows.count, &rows.view), &plain)?)
    }

    /// The stored safety-plan view of a document, if there is one, with the
    /// items appended after it: rows 1, 2, … with none missing, each bound
    /// to the view it follows by that view's nonce. (Taking away the last
    /// rows gives what an older copy of the file would: a view with fewer
    /// items appended.)
    fn read_view(&self, id: &DocumentId) -> Result<Option<SafetyPlan>, Error> {
        let corrupt = || Error::Corrupt {
            what: "safety plan view",
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, blob FROM views
             WHERE doc_id = ?1 AND (name = 'safety' OR name LIKE 'safety+%') ORDER BY name",
        )?;
        let mut rows = stmt.query([id.as_bytes()])?;
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        // The view itself sorts first; appended items without it are what
        // is left of one.
        if row.get_ref(0)?.as_str().ok() != Some("safety") {
            return Err(corrupt());
        }
        let sealed = row.get_ref(1)?.as_blob().map_err(|_| corrupt())?;
        let plain = self
            .sealer
            .open(&aad("view:safety", id, None), sealed)
            .map_err(|_| corrupt())?;
        let view = crate::crypto::sealed_nonce(sealed).ok_or_else(corrupt)?;
        let mut plan: SafetyPlan = serde_json::from_slice(&plain).map_err(|_| corrupt())?;
        let mut expected = 0u32;
        while let Some(row) = rows.next()? {
            // Rows 1, 2, … with none missing.
            expected += 1;
            if row.get_ref(0)?.as_str().ok() != Some(appended_view_row(expected).as_str()) {
                return Err(corrupt());
            }
            let sealed = row.get_ref(1)?.as_blob().map_err(|_| corrupt())?;
            let plain = self
                .sealer
                .open(&appended_view_aad(id, expected, &view), sealed)
                .map_err(|_| corrupt())?;
            let (list, item): (String, crate::SafetyItem) =
                serde_json::from_slice(&plain).map_err(|_| corrupt())?;
            let list = crate::SafetyList::from_code(&list).ok_or_else(corrupt)?;
            plan.list_mut(list).push(item);
        }
        Ok(Some(plan))
    }

    /// What persisting a change to the loaded care plan `loaded` writes of
    /// its safety-plan view, if anything.
    fn view_write(
        &self,
        id: &DocumentId,
        loaded: &Loaded,
        refresh_view: ViewRefresh,
    ) -> Result<Option<ViewWrite>, Error> {
        let plan = match (
            refresh_view.refresh(loaded.safety_plan.as_ref(), &loaded.doc),
            loaded.view_appended,
        ) {
            (None, _) => return Ok(None),
            // An appended item is stored in a row of its own after the
            // view, which is not written again.
            (Some(Refreshed::Item(list, item)), Some(rows))
                if rows.count < MAX_APPENDED_VIEW_ROWS =>
            {
                let rows = ViewRows {
                    count: rows.count + 1,
                    ..rows
                };
                let sealed = self.seal_appended(id, &rows, list, &item)?;
                return Ok(Some(ViewWrite::Item {
                    rows,
                    sealed,
                    list,
                    item,
                }));
            }
            (Some(Refreshed::Item(list, item)), _) => {
                let mut plan = loaded.safety_plan.clone().unwrap_or_default();
                plan.list_mut(list).push(item);
                plan
            }
            (Some(Refreshed::Plan(plan)), _) => plan,
        };
        let (sealed, plain) = self.seal_plan(id, &plan)?;
        // Unchanged, and no appended rows to fold in: nothing to write.
        let unchanged = loaded.view_appended.is_some_and(|r| r.count == 0)
            && loaded.safety_view.as_deref() == Some(plain.as_slice());
        Ok((!unchanged).then_some(ViewWrite::Whole {
            sealed,
            plain,
            plan,
        }))
    }

    /// Stores one increment of a loaded document, compacting if it is due.
    /// Unless `refresh_view` is `None`, a care plan's safety-plan view is
    /// rewritten in the same transaction if the change altered it.
    fn persist(
        &mut self,
        id: &DocumentId,
        increment: &[u8],
        refresh_view: ViewRefresh,
        signatures: &[AuthorSignature],
    ) -> Result<(), Error> {
        let view = match self.docs.get(id) {
            Some(loaded) if loaded.kind == DocumentKind::CarePlan => {
                self.view_write(id, loaded, refresh_view)?
            }
            _ => None,
        };
        let loaded = self
            .docs
            .get_mut(id)
            .ok_or_else(|| Error::not_found("document", id))?;
        let seq = loaded.next_seq;
        let sealed = self.sealer.seal(&aad("change", id, Some(seq)), increment)?;
        let signatures = access::seal_signatures(&self.sealer, id, signatures)?;
        let tx = self.conn.transaction()?;
        match &view {
            Some(ViewWrite::Whole { sealed, .. }) => write_view(&tx, id, sealed)?,
            Some(ViewWrite::Item { rows, sealed, .. }) => {
                tx.prepare_cached("INSERT INTO views (doc_id, name, blob) VALUES (?1, ?2, ?3)")?
                    .execute(params![
                        id.as_bytes(),
                        appended_view_row(rows.count),
                        sealed
                    ])?;
            }
            None => {}
        }
        let clock: i64 = tx
            .prepare_cached("UPDATE clock SET value = value + 1 RETURNING value")?
            .query_row([], |r| r.get(0))?;
        tx.prepare_cached("UPDATE documents SET clock = ?1 WHERE id = ?2")?
            .execute(params![clock, id.as_bytes()])?;
        tx.prepare_cached("INSERT INTO changes (doc_id, seq, blob) VALUES (?1, ?2, ?3)")?
            .execute(params![id.as_bytes(), seq, sealed])?;
        access::write_signatures(&tx, id, &signatures)?;
        tx.commit()?;
        self.changed.insert(*id);
        match view {
            Some(ViewWrite::Whole {
                sealed,
                plain,
                plan,
            }) => {
                loaded.view_appended = ViewRows::after(&sealed);
                loaded.safety_view = Some(plain);
                loaded.safety_plan = Some(plan);
            }
            Some(ViewWrite::Item {
                rows, list, item, ..
            }) => {
                if let Some(plan) = &mut loaded.safety_plan {
                    plan.list_mut(list).push(item);
                }
                loaded.view_appended = Some(rows);
            }
            None => {}
        }
        loaded.next_seq += 1;
        loaded.pending_changes += 1;
        loaded.pending_bytes += increment.len();
        let threshold = (loaded.snapshot_bytes / COMPACT_FRACTION).max(COMPACT_MIN_BYTES);
        if loaded.pending_changes >= COMPACT_AFTER_CHANGES || loaded.pending_bytes >= threshold {
            // The change is already durable; a failed compaction only leaves
            // the increments in place for next time.
            if let Err(e) = self.compact(id) {
                tracing::warn!(document = %id, error = %e, "compaction failed; increments kept");
            }
        }
        Ok(())
    }

    /// Replaces a document's snapshot and increments with one new snapshot,
    /// in one transaction.
    fn compact(&mut self, id: &DocumentId) -> Result<(), Error> {
        let loaded = self
            .docs
            .get_mut(id)
            .ok_or_else(|| Error::not_found("document", id))?;
        if loaded.pending_changes == 0 {
            return Ok(());
        }
        let bytes = crate::access::save_applied(&loaded.doc);
        let sealed = self.sealer.seal(&aad("snapshot", id, None), &bytes)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO snapshots (doc_id, blob) VALUES (?1, ?2)",
            params![id.as_bytes(), sealed],
        )?;
        tx.execute("DELETE FROM changes WHERE doc_id = ?1", [id.as_bytes()])?;
        tx.commit()?;
        loaded.pending_changes = 0;
        loaded.pending_bytes = 0;
        loaded.snapshot_bytes = bytes.len();
        incremental_vacuum(&self.conn)?;
        tracing::debug!(document = %id, bytes = bytes.len(), "document compacted");
        Ok(())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod sync_tests;

#[cfg(test)]
mod endorsement_tests;

#[cfg(test)]
mod directory_index_tests;
