//! A directory's index (`directory_index.rs`) saved in SQLite, sealed, so
//! that the first query after opening the store answers without loading
//! the directory into Automerge.
//!
//! ## Layout
//!
//! Table `directory_index` (schema version 6), per directory, one sealed
//! row per `entry` (a short opaque key):
//!
//! | entry | holds |
//! | --- | --- |
//! | `h` | the header: format version; a digest of the code tables (below); the document's change clock and heads when saved; the organisation's name; the directory's order, as each resource's bucket; the number of `m` and `v` rows and a digest of their authentication tags |
//! | `m` ‖ n, n < 64 | bucket n's match part: the text of its resources' entries (each one's name, and its name, description and regions in lower case), back to back in one string, with the bounds of each part; for each resource whose id's first byte, shifted right by two bits, is n, its index entry (id, content hash, how many parts of the text are its, the THRIVE groupings it serves as one byte of bits, audience, ages, kind, cost, status) and the authentication tag of its full part; and the endorsements filed under those ids, each with the verdict of its checks |
//! | `f` ‖ n | bucket n's full part: those resources in full, in the same order, each sealed on its own |
//! | `v` | every revocation whose signature verified |
//!
//! Each blob is sealed with the store key (`crypto.rs`), its associated
//! data naming the document and the entry; an `f` row is not sealed as a
//! whole, but each resource in it, its associated data naming the
//! document, the entry and the resource. The plain bytes use the
//! statements' primitive encodings (`endorse/encoding.rs`: big-endian
//! integers, `u32`-length-prefixed strings, tagged options); statements are
//! kept as their own encoded bytes. A coded value (a THRIVE grouping, an
//! audience, a kind, a cost, a status) is saved as its position in its
//! type's list of values; the header's digest of those lists makes a build
//! whose lists differ read the saved index as of another format. The text
//! of a bucket's entries is one string so that reading it back allocates
//! and checks one string per bucket rather than one per resource; the
//! entries read back share it. The statements read back from a row
//! likewise share one copy of the row's statement part. Buckets keep a
//! write small: after a local edit of one resource, a bucket of about 30
//! resources (its two rows) and the header are written, not the whole
//! index.
//!
//! A bucket is split in two rows so that opening opens and decodes only
//! what matching and ranking need: the `m` rows are read, opened and
//! decoded at once; a resource in full only when a caller needs it (a
//! query's matches, one resource, the whole directory; or its bucket is
//! about to be written again), and kept in memory after ([`Need`]). Its
//! `f` row is then read where SQLite holds it, without a copy, and only
//! the resources needed are copied out, opened and decoded: a
//! query that matches 300 of 2,000 resources opens 300 of them, although
//! they are spread over every bucket. Each resource in full is bound to
//! its entry by the tag the entry records, and the `m` rows to the header
//! by its digest, so a resource from another save is found out when it is
//! read. Sealing each resource costs 40 bytes (nonce and tag) and the
//! entry's copy of the tag 16.
//!
//! ## When it is read
//!
//! On the first read of a directory that is not loaded, the header alone
//! is read. If its clock is the document's `documents.clock` (every stored
//! change of a document stamps it with the next clock value, in the same
//! transaction, and the clock only grows), the document has not changed
//! since the index was saved: the other rows are decoded and the Automerge
//! document is not loaded at all (the `f` rows are read later, when
//! needed; see above). Otherwise, and whenever the document is
//! loaded with no index in memory (after a sync, say), the saved index is
//! read whatever its clock and brought up to date from the changes made
//! since its heads ([`DirectoryIndex::update`]), which costs in proportion
//! to those changes, not to the directory.
//!
//! ## When it is written
//!
//! After a sync or an import that changed a directory whose index is in
//! memory, at once: the index is brought up to date from the new changes
//! and the rows whose content changed are written, with the header (the
//! merge pays about a millisecond more for 2,000 resources, and the next
//! query nothing). Otherwise lazily: by the first read through the index
//! after it changed (a local edit; a merge while the index was not in
//! memory), again only the rows that changed; or whole, by the first read of a directory that has no
//! saved copy yet (as the safety-plan view of a plan stored before views
//! existed is written by its first read). A local edit of the directory
//! does not write it at all: the query after the edit pays for it (under
//! a millisecond for 2,000 resources, BENCHMARKS.md (e)). The write is one
//! transaction committed without an fsync even with
//! [`Durability::Full`](super::Durability::Full): the saved index is a
//! cache, and losing its last write to a power cut costs an update
//! from the document later, never a wrong answer. The header's clock then
//! no longer matches the document's, and since SQLite's WAL never keeps a
//! later commit without an earlier one, a saved index is never ahead of
//! the changes it reflects.
//!
//! ## Why its statements are not verified again, and are decoded late
//!
//! Endorsements and revocations are saved with the verdict of their
//! signature checks and read back without checking the signatures again
//! (or that their keys are curve points): each row was sealed by this
//! device, with the store key, after this device checked its statements.
//! Without the key nobody can make or alter a row (the seal is an AEAD),
//! and the associated data ties each row to its document and entry. The
//! header seals a digest of every other row's authentication tag, so rows
//! from different saves cannot be mixed either (each entry in an `m` row
//! records the tag of its resource in full in turn): the rows are read
//! only as
//! the set this device wrote together, as it wrote them. This is the trust
//! the safety-plan view already relies on (`views`), and a device that
//! holds the key could as well have changed the document itself. Whether
//! an endorsement is trusted (the app's trusted organisations) and whether
//! it is current (the time) are still worked out on every call.
//!
//! An endorsement read back stays in its encoded bytes until a call needs
//! it (a query decodes the endorsements of its matches, not of the whole
//! directory), and is then decoded once. One that does not decode then,
//! which only a bug could cause, is reported with a warning and counts as
//! malformed in this index, so its resource shows as not endorsed by it;
//! its bytes are saved again as they are (not as a malformed verdict), and
//! an index built from the document decodes and checks it afresh rather
//! than reuse the failure.
//!
//! ## Failure
//!
//! A saved index that cannot be read (a row that does not open or decode,
//! a digest that does not match, rows without a header, a format this
//! build does not know) is ignored with a warning that names no personal
//! data, and the index is built from the document: never an error to the
//! caller. A header of another format (the single-row buckets of format
//! 1, say) is not damage: it is ignored quietly and the index saved afresh
//! over it. A resource in full that is missing, does not carry the tag its
//! entry recorded, or does not open or decode is found when it is first
//! needed: the index read back is dropped then and built from the
//! document, and the call answered from that. The damaged rows are left as they are until the directory
//! next changes (the change writes to the file anyway; the next read then
//! saves the whole index afresh): a read never writes to a file found
//! damaged, which may hold the only copy of someone's work (DESIGN.md). A
//! failed write is a warning too; its rows stay unsaved and are written
//! next time.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use automerge::ChangeHash;
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{
    Durability, Inner, aad,
    directory_index::{DirectoryIndex, Entry, Need, SavedBytes, Slot, StoredEndorsement, Unsaved},
};
use crate::{
    DocumentId, Error, ItemId, Resource, ResourceDetails,
    crypto::Sealer,
    endorse::{
        ContentHash, EndorsementId, Revocation, StatementError,
        encoding::{Reader, Writer},
        statements::thrive_mask,
    },
    model::{
        Assessment, Audience, Code, Cost, ResourceContact, ResourceKind, ResourceStatus, Thrive,
    },
};

/// The version of the layout above; a saved index of any other is ignored.
const FORMAT: u8 = 4;
/// How many buckets the resources are spread over.
const BUCKETS: u8 = 64;
const HEADER: &[u8] = b"h";
const REVOCATIONS: &[u8] = b"v";
/// The length of a sealed blob's authentication tag (its last bytes).
pub(super) const TAG_LEN: usize = 16;
/// The domain prefix of the rows' digest.
const DIGEST_CONTEXT: &[u8] = b"lynchpin/directory-index-rows/v2";

/// The rows of a directory's saved index other than the header and the
/// `f` rows, by entry, each with its authentication tag: what the header's
/// digest covers.
#[derive(Debug, Default)]
pub(crate) struct SavedRows(BTreeMap<Vec<u8>, [u8; TAG_LEN]>);

impl SavedRows {
    fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(DIGEST_CONTEXT);
        for (entry, tag) in &self.0 {
            hasher.update(u32::try_from(entry.len()).unwrap_or(u32::MAX).to_be_bytes());
            hasher.update(entry);
            hasher.update(tag);
        }
        hasher.finalize().into()
    }

    fn insert(&mut self, entry: Vec<u8>, sealed: &[u8]) {
        if let Some(tag) = sealed.last_chunk::<TAG_LEN>() {
            self.0.insert(entry, *tag);
        }
    }
}

/// Which saved index [`Inner::read_saved_index`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wanted {
    /// Only one saved at the document's current clock.
    Current,
    /// Any, to be brought up to date from the document.
    Any,
}

/// The header row, plain.
struct Header {
    /// [`code_tables`] when saved.
    codes: [u8; 32],
    clock: i64,
    heads: Vec<ChangeHash>,
    organisation: String,
    /// Each resource's bucket, in the directory's order: the k-th time a
    /// bucket appears is the k-th resource of its row (a row lists its
    /// resources in the directory's order), so reading back needs no sort.
    order: Vec<u8>,
    rows: u32,
    digest: [u8; 32],
}

/// The bucket a resource's rows are in.
pub(super) fn bucket_of(id: &ItemId) -> u8 {
    bucket_of_uuid(&id.uuid_bytes())
}

/// The bucket of the resource with these id bytes.
pub(super) fn bucket_of_uuid(uuid: &[u8; 16]) -> u8 {
    uuid[0] >> 2
}

fn match_entry(bucket: u8) -> Vec<u8> {
    vec![b'm', bucket]
}

fn full_entry(bucket: u8) -> Vec<u8> {
    vec![b'f', bucket]
}

fn row_aad(id: &DocumentId, entry: &[u8]) -> Vec<u8> {
    let mut aad = aad("directory-index", id, None);
    aad.extend_from_slice(entry);
    aad
}

/// A resource in full in the `f` row of `bucket`.
fn item_aad(id: &DocumentId, bucket: u8, resource: &[u8; 16]) -> Vec<u8> {
    let mut aad = row_aad(id, &full_entry(bucket));
    aad.extend_from_slice(resource);
    aad
}

/// Why a saved index was not used (for the warning).
#[derive(Debug, Clone, Copy)]
enum Unusable {
    Storage,
    Unsealable,
    Undecodable,
    Format,
    Digest,
}

impl From<StatementError> for Unusable {
    fn from(_: StatementError) -> Self {
        Self::Undecodable
    }
}

impl From<rusqlite::Error> for Unusable {
    fn from(_: rusqlite::Error) -> Self {
        Self::Storage
    }
}

/// A saved index is there but cannot be read (reported when found).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Damaged;

impl Inner {
    /// The saved index of the directory `id`, if there is one that
    /// `wanted` accepts; see the module docs. [`Damaged`] if there is one
    /// but it cannot be read: that is reported here, and the caller builds
    /// the index from the document instead and leaves the damaged copy
    /// alone (see [`Unsaved::held`]).
    pub(super) fn read_saved_index(
        &self,
        id: &DocumentId,
        wanted: Wanted,
    ) -> Result<Option<DirectoryIndex>, Damaged> {
        self.try_read_saved_index(id, wanted).map_err(|reason| {
            tracing::warn!(
                directory = %id,
                ?reason,
                "saved directory index unreadable; the index is built from the document"
            );
            Damaged
        })
    }

    fn try_read_saved_index(
        &self,
        id: &DocumentId,
        wanted: Wanted,
    ) -> Result<Option<DirectoryIndex>, Unusable> {
        let found: Option<(i64, Option<Vec<u8>>)> = self
            .conn
            .prepare_cached(
                "SELECT d.clock, i.blob FROM documents d
                 LEFT JOIN directory_index i ON i.doc_id = d.id AND i.entry = ?2
                 WHERE d.id = ?1",
            )?
            .query_row(params![id.as_bytes(), HEADER], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let (clock, sealed) = match found {
            None => return Ok(None),
            Some((clock, Some(sealed))) => (clock, sealed),
            Some((_, None)) => {
                // Rows without their header are what is left of one.
                let orphans = self
                    .conn
                    .prepare_cached("SELECT 1 FROM directory_index WHERE doc_id = ?1")?
                    .exists([id.as_bytes()])?;
                return if orphans {
                    Err(Unusable::Format)
                } else {
                    Ok(None)
                };
            }
        };
        let header = match decode_header(&self.open_row(id, HEADER, &sealed)?) {
            // Saved by a build with another layout: not damage, just not
            // this build's to read; the index is built and saved afresh.
            Err(Unusable::Format) => {
                tracing::debug!(directory = %id, "saved directory index of another format ignored");
                return Ok(None);
            }
            header => header?,
        };
        if wanted == Wanted::Current && header.clock != clock {
            return Ok(None);
        }
        let mut saved = SavedRows::default();
        let mut buckets: Vec<Vec<(Entry, [u8; TAG_LEN])>> = Vec::new();
        buckets.resize_with(usize::from(BUCKETS), Vec::new);
        let mut endorsements = HashMap::new();
        let mut revocations: HashMap<EndorsementId, Vec<Revocation>> = HashMap::new();
        // The rows after the header in the entries' order: the `m` and `v`
        // rows, not the `f` rows (b'f' < b'h' < b'm' < b'v').
        let mut stmt = self.conn.prepare_cached(
            "SELECT entry, blob FROM directory_index WHERE doc_id = ?1 AND entry > ?2",
        )?;
        let mut rows = stmt.query(params![id.as_bytes(), HEADER])?;
        while let Some(row) = rows.next()? {
            let entry: Vec<u8> = row.get(0)?;
            // Opened where SQLite holds it: no copy of the sealed bytes.
            let sealed = row.get_ref(1)?.as_blob().map_err(|_| Unusable::Format)?;
            let plain = self.open_row(id, &entry, sealed)?;
            match entry.as_slice() {
                [b'm', bucket] if *bucket < BUCKETS => {
                    let (entries, filed) = decode_match(&plain)?;
                    *buckets
                        .get_mut(usize::from(*bucket))
                        .ok_or(Unusable::Format)? = entries;
                    endorsements.extend(filed);
                }
                REVOCATIONS => {
                    for r in decode_revocations(&plain)? {
                        revocations.entry(r.endorsement).or_default().push(r);
                    }
                }
                _ => return Err(Unusable::Format),
            }
            saved.insert(entry, sealed);
        }
        if usize::try_from(header.rows).ok() != Some(saved.0.len())
            || saved.digest() != header.digest
        {
            return Err(Unusable::Digest);
        }
        let (entries, slots) = in_order(buckets, &header.order)?;
        Ok(Some(DirectoryIndex::from_saved(
            *id,
            header.heads,
            header.organisation,
            entries,
            slots,
            endorsements,
            revocations,
            saved,
        )))
    }

    fn open_row(&self, id: &DocumentId, entry: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unusable> {
        open_row(&self.sealer, id, entry, sealed)
    }

    /// Reads the `f` rows of the buckets `index` still lacks that `need`
    /// touches (see the module docs); [`Damaged`] if one cannot be read,
    /// which is reported here.
    #[cfg(test)]
    pub(super) fn fill_index(
        &self,
        id: &DocumentId,
        index: &mut DirectoryIndex,
        need: &Need,
    ) -> Result<(), Damaged> {
        fill(&self.conn, &self.sealer, id, index, need)
    }

    /// After a merge (a sync, an import) stored new changes of a document:
    /// if it is a directory whose index is in memory, brings the index up
    /// to date from the changes and saves what changed, at once. The merge
    /// has just written to the WAL; the first write after the checkpoint
    /// that ends a sync would also sync the WAL's header (an fsync, even
    /// without [`Durability::Full`]), which the next query would pay.
    pub(super) fn refresh_directory_index(&mut self, id: &DocumentId) -> Result<(), Error> {
        let Some(loaded) = self.docs.get_mut(id) else {
            return Ok(());
        };
        let Some(mut index) = loaded.directory_index.take() else {
            return Ok(());
        };
        if !index.is_current(&loaded.doc.get_heads()) {
            index = index.update(&loaded.doc);
        }
        let saved = self.save_index(id, &mut index);
        if let Some(loaded) = self.docs.get_mut(id) {
            loaded.directory_index = Some(index);
        }
        saved
    }

    /// Writes what changed in `index` since it was last saved (see the
    /// module docs). A failed write is reported and left for next time;
    /// the error returned is only that the store could not go back to its
    /// own durability afterwards.
    pub(super) fn save_index(
        &mut self,
        id: &DocumentId,
        index: &mut DirectoryIndex,
    ) -> Result<(), Error> {
        if index.unsaved.is_empty() || index.unsaved.held {
            return Ok(());
        }
        // The buckets to write again need their resources in full.
        let need = if index.unsaved.all {
            Need::All
        } else {
            Need::Buckets(index.unsaved.resources.iter().map(bucket_of).collect())
        };
        if fill(&self.conn, &self.sealer, id, index, &need).is_err() {
            // Reported; the next read that needs those rows builds the
            // index from the document.
            index.unsaved.hold();
            return Ok(());
        }
        let full = self.durability == Durability::Full;
        if full {
            self.conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        }
        let written = self.write_index(id, index);
        if full {
            self.conn.execute_batch("PRAGMA synchronous = FULL")?;
        }
        match written {
            Ok((saved, rows)) => {
                index.saved = saved;
                index.unsaved = Unsaved::default();
                tracing::debug!(directory = %id, rows, "directory index saved");
            }
            Err(e) => {
                tracing::warn!(directory = %id, error = %e, "the directory index was not saved");
            }
        }
        Ok(())
    }

    /// Seals and writes the changed rows and the header in one
    /// transaction; returns the rows now saved and how many were written.
    fn write_index(
        &mut self,
        id: &DocumentId,
        index: &DirectoryIndex,
    ) -> Result<(SavedRows, usize), Error> {
        let unsaved = &index.unsaved;
        let buckets: BTreeSet<u8> = if unsaved.all {
            (0..BUCKETS).collect()
        } else {
            unsaved.resources.iter().map(bucket_of).collect()
        };
        let mut saved = SavedRows(if unsaved.all {
            BTreeMap::new()
        } else {
            index.saved.0.clone()
        });
        // Each changed row's new plain bytes; `None` deletes it. The `f`
        // rows are sealed resource by resource as they are encoded.
        let mut plain: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        let mut sealed = Vec::with_capacity(2 * buckets.len() + 1);
        for (bucket, (full, matching)) in encode_buckets(&self.sealer, id, index, &buckets)? {
            sealed.push((full_entry(bucket), full));
            plain.push((match_entry(bucket), matching));
        }
        if unsaved.all || unsaved.revocations {
            plain.push((REVOCATIONS.to_vec(), encode_revocations(index)));
        }
        for (entry, bytes) in plain {
            match bytes {
                Some(bytes) => {
                    let blob = self.sealer.seal(&row_aad(id, &entry), &bytes)?;
                    saved.insert(entry.clone(), &blob);
                    sealed.push((entry, Some(blob)));
                }
                None => {
                    saved.0.remove(&entry);
                    sealed.push((entry, None));
                }
            }
        }
        let clock: i64 = self
            .conn
            .prepare_cached("SELECT clock FROM documents WHERE id = ?1")?
            .query_row([id.as_bytes()], |row| row.get(0))?;
        let header = encode_header(&Header {
            codes: code_tables(),
            clock,
            heads: index.heads().to_vec(),
            organisation: index.organisation().to_owned(),
            order: index.rows().map(|(e, _)| e.bucket()).collect(),
            rows: u32::try_from(saved.0.len()).unwrap_or(u32::MAX),
            digest: saved.digest(),
        });
        let header = self.sealer.seal(&row_aad(id, HEADER), &header)?;
        let written = sealed.len() + 1;
        let tx = self.conn.transaction()?;
        if unsaved.all {
            tx.prepare_cached("DELETE FROM directory_index WHERE doc_id = ?1")?
                .execute([id.as_bytes()])?;
        }
        for (entry, blob) in sealed.iter().chain([&(HEADER.to_vec(), Some(header))]) {
            match blob {
                Some(blob) => tx
                    .prepare_cached(
                        "INSERT INTO directory_index (doc_id, entry, blob) VALUES (?1, ?2, ?3)
                         ON CONFLICT (doc_id, entry) DO UPDATE SET blob = excluded.blob",
                    )?
                    .execute(params![id.as_bytes(), entry, blob])?,
                None => tx
                    .prepare_cached("DELETE FROM directory_index WHERE doc_id = ?1 AND entry = ?2")?
                    .execute(params![id.as_bytes(), entry])?,
            };
        }
        tx.commit()?;
        Ok((saved, written))
    }
}

fn encode_header(h: &Header) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(
        128 + 32 * h.heads.len() + h.organisation.len(),
    ));
    w.u8(FORMAT);
    w.bytes(&h.codes);
    w.i64(h.clock);
    w.len(h.heads.len());
    for head in &h.heads {
        w.bytes(&head.0);
    }
    w.str(&h.organisation);
    w.len(h.order.len());
    w.bytes(&h.order);
    w.u32(h.rows);
    w.bytes(&h.digest);
    w.0
}

fn decode_header(bytes: &[u8]) -> Result<Header, Unusable> {
    let mut r = Reader(bytes);
    if r.u8()? != FORMAT || r.array::<32>()? != code_tables() {
        return Err(Unusable::Format);
    }
    let clock = r.i64()?;
    let count = r.u32()?;
    let mut heads = Vec::new();
    for _ in 0..count {
        heads.push(ChangeHash(r.array()?));
    }
    let organisation = r.str()?;
    let len = usize::try_from(r.u32()?).map_err(|_| Unusable::Undecodable)?;
    let header = Header {
        codes: code_tables(),
        clock,
        heads,
        organisation,
        order: r.take(len)?.to_vec(),
        rows: r.u32()?,
        digest: r.array()?,
    };
    if !r.is_empty() {
        return Err(Unusable::Undecodable);
    }
    Ok(header)
}

/// The buckets' entries in the directory's order (see [`Header`]),
/// which is checked, and beside them where each resource in full is.
fn in_order(
    buckets: Vec<Vec<(Entry, [u8; TAG_LEN])>>,
    order: &[u8],
) -> Result<(Vec<Entry>, Vec<Slot>), Unusable> {
    let mut buckets: Vec<_> = buckets.into_iter().map(Vec::into_iter).collect();
    let mut entries: Vec<Entry> = Vec::with_capacity(order.len());
    let mut slots = Vec::with_capacity(order.len());
    for &bucket in order {
        let (entry, tag) = buckets
            .get_mut(usize::from(bucket))
            .and_then(Iterator::next)
            .ok_or(Unusable::Undecodable)?;
        if let Some(last) = entries.last()
            && (last.name(), &last.uuid) >= (entry.name(), &entry.uuid)
        {
            return Err(Unusable::Undecodable);
        }
        entries.push(entry);
        slots.push(Slot::Saved(tag));
    }
    if buckets.iter_mut().any(|b| b.next().is_some()) {
        return Err(Unusable::Undecodable);
    }
    Ok((entries, slots))
}

fn open_row(
    sealer: &Sealer,
    id: &DocumentId,
    entry: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, Unusable> {
    sealer
        .open(&row_aad(id, entry), sealed)
        .map_err(|_| Unusable::Unsealable)
}

/// See [`Inner::fill_index`]; a free function so that it can borrow the
/// connection beside an index held in the same [`Inner`].
pub(super) fn fill(
    conn: &rusqlite::Connection,
    sealer: &Sealer,
    id: &DocumentId,
    index: &mut DirectoryIndex,
    need: &Need,
) -> Result<(), Damaged> {
    let missing = index.missing(need);
    if missing.is_empty() {
        return Ok(());
    }
    fill_buckets(conn, sealer, id, index, missing).map_err(|reason| {
        tracing::warn!(
            directory = %id,
            ?reason,
            "saved directory index unreadable; the index is built from the document"
        );
        Damaged
    })
}

/// Opens and decodes the resources at the positions `missing` lists by
/// bucket, all still sealed, from their buckets' `f` rows, each read where
/// SQLite holds it: only the resources needed are copied out.
fn fill_buckets(
    conn: &rusqlite::Connection,
    sealer: &Sealer,
    id: &DocumentId,
    index: &mut DirectoryIndex,
    missing: BTreeMap<u8, Vec<usize>>,
) -> Result<(), Unusable> {
    let mut opened = Vec::new();
    let mut open = |bucket: u8, row: rusqlite::types::ValueRef<'_>| -> Result<(), Unusable> {
        let positions = missing.get(&bucket).ok_or(Unusable::Format)?;
        let row = row.as_blob().map_err(|_| Unusable::Format)?;
        opened.extend(open_bucket(
            sealer,
            id,
            &index.entries,
            &index.resources,
            bucket,
            positions,
            row,
        )?);
        Ok(())
    };
    if missing.len() > usize::from(BUCKETS / 2) {
        // Most rows: one statement over all of them is cheaper than one
        // per row.
        let mut stmt = conn.prepare_cached(
            "SELECT entry, blob FROM directory_index WHERE doc_id = ?1 AND entry < ?2",
        )?;
        let mut rows = stmt.query(params![id.as_bytes(), HEADER])?;
        let mut read = 0;
        while let Some(row) = rows.next()? {
            if let [b'f', bucket] = row.get_ref(0)?.as_blob().map_err(|_| Unusable::Format)?
                && missing.contains_key(bucket)
            {
                open(*bucket, row.get_ref(1)?)?;
                read += 1;
            }
        }
        if read != missing.len() {
            return Err(Unusable::Digest);
        }
    } else {
        let mut stmt = conn
            .prepare_cached("SELECT blob FROM directory_index WHERE doc_id = ?1 AND entry = ?2")?;
        for &bucket in missing.keys() {
            let mut rows = stmt.query(params![id.as_bytes(), full_entry(bucket)])?;
            let row = rows.next()?.ok_or(Unusable::Digest)?;
            open(bucket, row.get_ref(0)?)?;
        }
    }
    for (i, resource) in opened {
        if let Some(slot) = index.resources.get_mut(i) {
            *slot = Slot::Full(Arc::new(resource));
        }
    }
    Ok(())
}

/// The resources at `positions` of `entries`, all in `bucket` and still
/// sealed in `slots`, opened and decoded from the bucket's `f` row.
fn open_bucket(
    sealer: &Sealer,
    id: &DocumentId,
    entries: &[Entry],
    slots: &[Slot],
    bucket: u8,
    positions: &[usize],
    row: &[u8],
) -> Result<Vec<(usize, Resource)>, Unusable> {
    // Where each resource's sealed bytes are in the row (a few dozen).
    let mut items: Vec<([u8; 16], &[u8])> = Vec::new();
    let mut r = Reader(row);
    for _ in 0..r.u32()? {
        let resource: [u8; 16] = r.array()?;
        let len = usize::try_from(r.u32()?).map_err(|_| Unusable::Undecodable)?;
        items.push((resource, r.take(len)?));
    }
    if !r.is_empty() {
        return Err(Unusable::Undecodable);
    }
    let mut out = Vec::with_capacity(positions.len());
    // The associated data of each: the row's, then the resource's id.
    let mut aad = row_aad(id, &full_entry(bucket));
    let common = aad.len();
    for &i in positions {
        let (Some(entry), Some(Slot::Saved(tag))) = (entries.get(i), slots.get(i)) else {
            continue;
        };
        let uuid = entry.uuid;
        let sealed = items
            .iter()
            .find(|(resource, _)| *resource == uuid)
            .map(|(_, sealed)| *sealed)
            .ok_or(Unusable::Digest)?;
        if sealed.last_chunk::<TAG_LEN>() != Some(tag) {
            return Err(Unusable::Digest);
        }
        aad.truncate(common);
        aad.extend_from_slice(&uuid);
        let plain = sealer
            .open(&aad, sealed)
            .map_err(|_| Unusable::Unsealable)?;
        let mut r = Reader(&plain);
        let details = decode_rest(&mut r, entry)?;
        // The groupings are in two places: they must agree.
        if !r.is_empty() || thrive_mask(&details.thrive) != entry.thrive {
            return Err(Unusable::Undecodable);
        }
        out.push((
            i,
            Resource {
                id: entry.id(),
                details,
            },
        ));
    }
    Ok(out)
}

/// The bytes of each bucket in `buckets`: its `f` row, its resources
/// sealed one by one, `None` if it holds no resource now; and its `m` row,
/// plain, `None` if it holds nothing now. Every resource of those buckets
/// must be in memory ([`fill`]).
#[allow(clippy::type_complexity)]
fn encode_buckets(
    sealer: &Sealer,
    id: &DocumentId,
    index: &DirectoryIndex,
    buckets: &BTreeSet<u8>,
) -> Result<BTreeMap<u8, (Option<Vec<u8>>, Option<Vec<u8>>)>, Error> {
    let mut resources: BTreeMap<u8, Vec<(&Entry, Option<&Resource>)>> = BTreeMap::new();
    for (entry, resource) in index.rows() {
        let bucket = entry.bucket();
        if buckets.contains(&bucket) {
            resources.entry(bucket).or_default().push((entry, resource));
        }
    }
    let mut filed: BTreeMap<u8, Vec<(&[u8; 16], &[StoredEndorsement])>> = BTreeMap::new();
    for (resource, list) in index.filed() {
        let bucket = bucket_of_uuid(resource);
        if buckets.contains(&bucket) && !list.is_empty() {
            filed.entry(bucket).or_default().push((resource, list));
        }
    }
    let mut out = BTreeMap::new();
    for &bucket in buckets {
        let resources = resources.remove(&bucket).unwrap_or_default();
        let mut filed = filed.remove(&bucket).unwrap_or_default();
        if resources.is_empty() && filed.is_empty() {
            out.insert(bucket, (None, None));
            continue;
        }
        filed.sort_by_key(|(id, _)| *id);
        let mut full = Writer(Vec::with_capacity(600 * resources.len()));
        full.len(resources.len());
        let mut w = Writer(Vec::with_capacity(200 * resources.len()));
        encode_texts(&mut w, resources.iter().map(|(entry, _)| *entry));
        w.len(resources.len());
        for (entry, resource) in &resources {
            let resource = resource.ok_or_else(|| Error::not_found("resource", entry.id()))?;
            let uuid = entry.uuid;
            let mut plain = Writer(Vec::with_capacity(512));
            encode_rest(&mut plain, &resource.details);
            let sealed = sealer.seal(&item_aad(id, bucket, &uuid), &plain.0)?;
            let tag = sealed
                .last_chunk::<TAG_LEN>()
                .copied()
                .unwrap_or([0; TAG_LEN]);
            full.bytes(&uuid);
            full.len(sealed.len());
            full.bytes(&sealed);
            encode_entry(&mut w, entry);
            w.bytes(&tag);
        }
        w.len(filed.len());
        for (resource, list) in filed {
            w.bytes(resource);
            w.len(list.len());
            for stored in list {
                w.bytes(&stored.id.0);
                match stored.encoded() {
                    Ok(bytes) => {
                        w.u8(0);
                        w.len(bytes.len());
                        w.bytes(&bytes);
                    }
                    Err(StatementError::Malformed) => w.u8(1),
                    Err(StatementError::TooLong) => w.u8(2),
                    Err(StatementError::BadSignature) => w.u8(3),
                }
            }
        }
        let full = (!resources.is_empty()).then_some(full.0);
        out.insert(bucket, (full, Some(w.0)));
    }
    Ok(out)
}

/// Decodes an `m` row: its entries, each with the tag of its resource in
/// full, and the endorsements filed in it.
#[allow(clippy::type_complexity)]
fn decode_match(
    bytes: &[u8],
) -> Result<
    (
        Vec<(Entry, [u8; TAG_LEN])>,
        Vec<([u8; 16], Vec<StoredEndorsement>)>,
    ),
    Unusable,
> {
    let mut r = Reader(bytes);
    let (text, bounds) = decode_texts(&mut r)?;
    let count = r.u32()?;
    // An entry takes well over 64 bytes.
    let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(r.0.len() / 64));
    let mut at = 0;
    for _ in 0..count {
        let entry = decode_entry(&mut r, &text, &bounds, &mut at)?;
        entries.push((entry, r.array()?));
    }
    // The entries' parts are the whole text, from its start to its end.
    if bounds.first() != Some(&0)
        || at as usize + 1 != bounds.len()
        || bounds.last().map(|&end| end as usize) != Some(text.len())
    {
        return Err(Unusable::Undecodable);
    }
    // The statements' bytes stay in one copy of the rest of the row.
    let rest: Arc<[u8]> = r.0.into();
    let mut r = Reader(&rest);
    let count = r.u32()?;
    // An endorsement takes well over 64 bytes.
    let mut filed = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(r.0.len() / 64));
    for _ in 0..count {
        let resource: [u8; 16] = r.array()?;
        let count = r.u32()?;
        let mut list = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(r.0.len() / 64));
        for _ in 0..count {
            let id = EndorsementId(r.array()?);
            let stored = match r.u8()? {
                0 => {
                    let len = usize::try_from(r.u32()?).map_err(|_| Unusable::Undecodable)?;
                    let start = rest.len() - r.0.len();
                    r.take(len)?;
                    let bytes =
                        SavedBytes::new(&rest, start..start + len).ok_or(Unusable::Undecodable)?;
                    StoredEndorsement::saved(id, bytes)
                }
                1 => StoredEndorsement::checked(id, Err(StatementError::Malformed)),
                2 => StoredEndorsement::checked(id, Err(StatementError::TooLong)),
                3 => StoredEndorsement::checked(id, Err(StatementError::BadSignature)),
                _ => return Err(Unusable::Undecodable),
            };
            list.push(stored);
        }
        filed.push((resource, list));
    }
    if !r.is_empty() {
        return Err(Unusable::Undecodable);
    }
    Ok((entries, filed))
}

/// An index entry less its text: what matching and ranking read.
fn encode_entry(w: &mut Writer, e: &Entry) {
    w.bytes(&e.uuid);
    w.bytes(&e.hash.0);
    w.u32(e.parts);
    w.u8(e.thrive);
    put_code(w, e.audience);
    w.opt_u8(e.min_age);
    w.opt_u8(e.max_age);
    put_code(w, e.kind);
    put_code(w, e.cost);
    put_code(w, e.status);
}

/// Writes the text of `entries`, back to back, and its bounds.
fn encode_texts<'a>(w: &mut Writer, entries: impl Iterator<Item = &'a Entry>) {
    let mut text = String::new();
    let mut bounds = vec![0u32];
    for entry in entries {
        for n in 0..entry.parts as usize {
            text.push_str(entry.part(n));
            bounds.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
    }
    w.str(&text);
    w.len(bounds.len());
    for bound in bounds {
        w.u32(bound);
    }
}

/// Reads what [`encode_texts`] wrote, checked.
fn decode_texts(r: &mut Reader<'_>) -> Result<(Arc<str>, Arc<[u32]>), Unusable> {
    let len = usize::try_from(r.u32()?).map_err(|_| Unusable::Undecodable)?;
    let text = std::str::from_utf8(r.take(len)?).map_err(|_| Unusable::Undecodable)?;
    let count = usize::try_from(r.u32()?).map_err(|_| Unusable::Undecodable)?;
    // Each bound takes four bytes.
    let mut bounds = Vec::with_capacity(count.min(r.0.len() / 4));
    let mut last = 0;
    for _ in 0..count {
        let bound = r.u32()?;
        if bound < last || !text.is_char_boundary(bound as usize) {
            return Err(Unusable::Undecodable);
        }
        bounds.push(bound);
        last = bound;
    }
    Ok((text.into(), bounds.into()))
}

/// Reads an entry whose parts start at bound `at` of `bounds`, and moves
/// `at` past them.
fn decode_entry(
    r: &mut Reader<'_>,
    text: &Arc<str>,
    bounds: &Arc<[u32]>,
    at: &mut u32,
) -> Result<Entry, Unusable> {
    let uuid = r.array()?;
    let hash = ContentHash(r.array()?);
    let parts = r.u32()?;
    let end = at.checked_add(parts).ok_or(Unusable::Undecodable)?;
    if parts < 3 || end as usize >= bounds.len() {
        return Err(Unusable::Undecodable);
    }
    let first = *at;
    *at = end;
    let thrive = r.u8()?;
    if u32::from(thrive) >> Thrive::ALL.len() != 0 {
        return Err(Unusable::Undecodable);
    }
    Ok(Entry {
        uuid,
        hash,
        text: Arc::clone(text),
        bounds: Arc::clone(bounds),
        at: first,
        parts,
        thrive,
        audience: code(r)?,
        min_age: optional(r, |r| r.u8())?,
        max_age: optional(r, |r| r.u8())?,
        kind: code(r)?,
        cost: code(r)?,
        status: code(r)?,
    })
}

/// The revocations row's plain bytes; `None` if there are none.
fn encode_revocations(index: &DirectoryIndex) -> Option<Vec<u8>> {
    let mut all: Vec<&Revocation> = index.all_revocations().collect();
    if all.is_empty() {
        return None;
    }
    all.sort_by_cached_key(|r| r.hash());
    let mut w = Writer::default();
    w.len(all.len());
    for revocation in all {
        let bytes = revocation.encode();
        w.len(bytes.len());
        w.bytes(&bytes);
    }
    Some(w.0)
}

fn decode_revocations(bytes: &[u8]) -> Result<Vec<Revocation>, Unusable> {
    let mut r = Reader(bytes);
    let count = r.u32()?;
    let mut out = Vec::new();
    for _ in 0..count {
        let len = usize::try_from(r.u32()?).map_err(|_| Unusable::Undecodable)?;
        out.push(Revocation::decode_trusted(r.take(len)?)?);
    }
    if !r.is_empty() {
        return Err(Unusable::Undecodable);
    }
    Ok(out)
}

/// A resource's details less what its entry holds (the name, the filter
/// fields; the THRIVE groupings are written here as listed, the entry
/// keeps only their bits): in declaration order, the description as the positions of
/// its capitals if it is ASCII (the entry has it in lower case), else as
/// written.
fn encode_rest(w: &mut Writer, d: &ResourceDetails) {
    if d.description.is_ascii() {
        w.u8(0);
        let capitals: Vec<usize> = d
            .description
            .bytes()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .map(|(i, _)| i)
            .collect();
        w.len(capitals.len());
        for i in capitals {
            w.len(i);
        }
    } else {
        w.u8(1);
        w.str(&d.description);
    }
    w.str(&d.organisation);
    put_codes(w, &d.thrive);
    w.strs(&d.regions);
    w.strs(&d.languages);
    w.strs(&d.contact.phones);
    w.strs(&d.contact.text_numbers);
    w.opt_str(d.contact.email.as_deref());
    w.opt_str(d.contact.url.as_deref());
    w.str(&d.opening_hours);
    w.bool(d.always_open);
    w.bool(d.works_offline);
    w.opt_u8(d.assessment.orcha_score);
    w.opt_date(d.assessment.orcha_date);
    w.opt_str(d.assessment.nice_tier.as_deref());
    w.bool(d.assessment.nhs_recommended);
    w.opt_date(d.last_checked);
    w.str(&d.checked_by);
    w.opt_date(d.review_due);
}

/// The details [`encode_rest`] wrote, with the rest from the entry.
fn decode_rest(r: &mut Reader<'_>, e: &Entry) -> Result<ResourceDetails, Unusable> {
    let description = match r.u8()? {
        0 => {
            let mut bytes = e.lower_description().as_bytes().to_vec();
            for _ in 0..r.u32()? {
                let i = usize::try_from(r.u32()?).map_err(|_| Unusable::Undecodable)?;
                match bytes.get_mut(i) {
                    Some(b) if b.is_ascii_lowercase() => b.make_ascii_uppercase(),
                    _ => return Err(Unusable::Undecodable),
                }
            }
            if !bytes.is_ascii() {
                return Err(Unusable::Undecodable);
            }
            String::from_utf8(bytes).map_err(|_| Unusable::Undecodable)?
        }
        1 => r.str()?,
        _ => return Err(Unusable::Undecodable),
    };
    let date =
        |r: &mut Reader<'_>| -> Result<Option<NaiveDate>, Unusable> { optional(r, |r| r.date()) };
    Ok(ResourceDetails {
        name: e.name().to_owned(),
        description,
        kind: e.kind,
        organisation: r.str()?,
        status: e.status,
        thrive: codes(r)?,
        audience: e.audience,
        min_age: e.min_age,
        max_age: e.max_age,
        regions: strings(r)?,
        cost: e.cost,
        languages: strings(r)?,
        contact: ResourceContact {
            phones: strings(r)?,
            text_numbers: strings(r)?,
            email: optional(r, |r| r.str())?,
            url: optional(r, |r| r.str())?,
        },
        opening_hours: r.str()?,
        always_open: flag(r)?,
        works_offline: flag(r)?,
        assessment: Assessment {
            orcha_score: optional(r, |r| r.u8())?,
            orcha_date: date(r)?,
            nice_tier: optional(r, |r| r.str())?,
            nhs_recommended: flag(r)?,
        },
        last_checked: date(r)?,
        checked_by: r.str()?,
        review_due: date(r)?,
    })
}

/// A digest of the code tables that entries are saved with: a coded
/// value is saved as its position in its type's [`Code::ALL`], so a build
/// whose tables differ (a value added, say) reads a saved index as of
/// another format, and builds it afresh.
fn code_tables() -> [u8; 32] {
    fn table<T: Code>(hasher: &mut Sha256) {
        hasher.update(
            u32::try_from(T::ALL.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        for value in T::ALL {
            hasher.update(value.code());
            hasher.update([0]);
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(b"lynchpin/directory-index-codes/v1");
    table::<Thrive>(&mut hasher);
    table::<Audience>(&mut hasher);
    table::<ResourceKind>(&mut hasher);
    table::<Cost>(&mut hasher);
    table::<ResourceStatus>(&mut hasher);
    hasher.finalize().into()
}

/// Writes a coded value as its position in [`Code::ALL`].
fn put_code<T: Code>(w: &mut Writer, value: T) {
    let at = T::ALL
        .iter()
        .position(|v| *v == value)
        .unwrap_or(usize::MAX);
    w.u8(u8::try_from(at).unwrap_or(u8::MAX));
}

fn code<T: Code>(r: &mut Reader<'_>) -> Result<T, Unusable> {
    T::ALL
        .get(usize::from(r.u8()?))
        .copied()
        .ok_or(Unusable::Undecodable)
}

/// Writes a list of coded values, each as [`put_code`] does.
fn put_codes<T: Code>(w: &mut Writer, values: &[T]) {
    w.len(values.len());
    for value in values {
        put_code(w, *value);
    }
}

/// Reads what [`put_codes`] wrote.
fn codes<T: Code>(r: &mut Reader<'_>) -> Result<Vec<T>, Unusable> {
    let count = r.u32()?;
    // Each takes a byte.
    let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(r.0.len()));
    for _ in 0..count {
        out.push(code(r)?);
    }
    Ok(out)
}

fn flag(r: &mut Reader<'_>) -> Result<bool, Unusable> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Unusable::Undecodable),
    }
}

fn optional<T>(
    r: &mut Reader<'_>,
    read: impl FnOnce(&mut Reader<'_>) -> Result<T, StatementError>,
) -> Result<Option<T>, Unusable> {
    Ok(if flag(r)? { Some(read(r)?) } else { None })
}

fn strings(r: &mut Reader<'_>) -> Result<Vec<String>, Unusable> {
    let count = r.u32()?;
    // Each string takes at least its four-byte length.
    let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(r.0.len() / 4));
    for _ in 0..count {
        out.push(r.str()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(codes: [u8; 32]) -> Header {
        Header {
            codes,
            clock: 7,
            heads: vec![ChangeHash([9; 32])],
            organisation: "Example".into(),
            order: vec![0, 3, 3],
            rows: 2,
            digest: [1; 32],
        }
    }

    #[test]
    fn a_header_saved_with_other_code_tables_is_of_another_format() {
        let read = decode_header(&encode_header(&header(code_tables()))).unwrap();
        assert_eq!((read.clock, read.order, read.rows), (7, vec![0, 3, 3], 2));
        assert!(matches!(
            decode_header(&encode_header(&header([0; 32]))),
            Err(Unusable::Format)
        ));
    }

    #[test]
    fn coded_values_are_saved_as_their_place_in_the_list() {
        for &kind in ResourceKind::ALL {
            let mut w = Writer::default();
            put_code(&mut w, kind);
            assert_eq!(w.0.len(), 1);
            assert_eq!(code::<ResourceKind>(&mut Reader(&w.0)).unwrap(), kind);
        }
        let past_the_end = [u8::try_from(Thrive::ALL.len()).unwrap()];
        assert!(matches!(
            code::<Thrive>(&mut Reader(&past_the_end)),
            Err(Unusable::Undecodable)
        ));
    }

    #[test]
    fn a_saved_endorsement_that_does_not_decode_counts_as_malformed_and_is_checked_again() {
        let junk: Arc<[u8]> = b"junk".as_slice().into();
        let bytes = SavedBytes::new(&junk, 0..junk.len()).expect("in range");
        let stored = StoredEndorsement::saved(EndorsementId([5; 32]), bytes);
        assert_eq!(stored.decoded().unwrap_err(), StatementError::Malformed);
        // Saved again as read, not as a verdict; not reused by a rebuild,
        // which checks the document's bytes afresh.
        assert_eq!(stored.encoded().unwrap().as_ref(), b"junk");
        assert!(stored.into_reusable().is_none());
    }
}
