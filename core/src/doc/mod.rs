//! The Automerge layer: how each kind of document is laid out, read into
//! the domain model and edited.
//!
//! Functions here work on an `Automerge` document or an open transaction and
//! never touch SQLite; the store wraps each edit in one transaction (one
//! Automerge change) and persists it. Every document starts with a header:
//!
//! | key | value |
//! | --- | --- |
//! | `@kind` | `care-plan`, `journal` or `resource-directory` |
//! | `@schema` | the layout version, an unsigned integer |
//! | `@id` | the document id, hyphenated UUID |
//! | `@access` | signed grant statements, keyed by their hash ([`access`]) |
//!
//! Items inside a document live in maps keyed by their [`ItemId`]
//! (`goals`, `meetings`, `resources` …) so that concurrent additions never
//! collide; ordered things (safety-plan steps, scores) are lists.

pub(crate) mod access;
pub(crate) mod care_plan;
pub(crate) mod conflicts;
pub(crate) mod directory;
pub(crate) mod endorsements;
pub(crate) mod fields;
pub(crate) mod items;
pub(crate) mod journal;
pub(crate) mod safety_plan;

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{Automerge, LoadOptions, ROOT, ReadDoc, TextEncoding, transaction::Transactable};
use chrono::{DateTime, Utc};

use crate::{DeviceId, DocumentId, DocumentKind, Error, ItemId};

/// The document layout version this build writes.
pub const SCHEMA_VERSION: u64 = 1;

/// Who is editing and when: stamped on items an edit creates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EditContext {
    pub(crate) device: DeviceId,
    pub(crate) now: DateTime<Utc>,
}

/// Writes the header of a new document.
pub(crate) fn init_header<T: Transactable>(
    tx: &mut T,
    id: DocumentId,
    kind: DocumentKind,
) -> Result<(), Error> {
    tx.put(ROOT, "@kind", kind.code())?;
    tx.put(ROOT, "@schema", SCHEMA_VERSION)?;
    tx.put(ROOT, "@id", id.to_string())?;
    Ok(())
}

/// What a document's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The document's id.
    pub id: DocumentId,
    /// What it holds.
    pub kind: DocumentKind,
    /// Its layout version.
    pub schema: u64,
}

/// Reads and checks a document's header.
pub fn read_header<D: ReadDoc>(doc: &D) -> Result<Header, Error> {
    let kind = fields::opt_string(doc, &ROOT, "@kind")
        .and_then(|code| DocumentKind::from_code(&code))
        .ok_or(Error::InvalidDocument("no known document kind"))?;
    let id = fields::opt_string(doc, &ROOT, "@id")
        .and_then(|id| id.parse().ok())
        .ok_or(Error::InvalidDocument("no document id"))?;
    let schema = fields::int(doc, &ROOT, "@schema")
        .and_then(|s| u64::try_from(s).ok())
        .ok_or(Error::InvalidDocument("no schema version"))?;
    Ok(Header { id, kind, schema })
}

/// Decodes document bytes (a `save()` or changes), checking the heads. A
/// decoder panic on hostile bytes is turned into an error.
pub fn decode(bytes: &[u8]) -> Result<Automerge, Error> {
    let options = LoadOptions::new().text_encoding(TextEncoding::UnicodeCodePoint);
    match catch_unwind(AssertUnwindSafe(|| {
        Automerge::load_with_options(bytes, options)
    })) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(_)) => Err(Error::InvalidDocument(
            "bytes are not an Automerge document",
        )),
        Err(_) => Err(Error::InvalidDocument("bytes could not be decoded")),
    }
}

/// Applies more document bytes (changes or a save) to `doc`.
pub fn decode_into(doc: &mut Automerge, bytes: &[u8]) -> Result<(), Error> {
    match catch_unwind(AssertUnwindSafe(|| doc.load_incremental(bytes))) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => Err(Error::InvalidDocument("bytes are not Automerge changes")),
        Err(_) => Err(Error::InvalidDocument("bytes could not be decoded")),
    }
}

/// A new, empty document that writes as `device`.
pub(crate) fn empty(device: DeviceId) -> Automerge {
    Automerge::new().with_actor(device.actor())
}

/// Sorts items by their `created_at` stamp, then by id, so every device lists
/// them in the same order.
pub(crate) fn sort_by_created<T>(items: &mut [(Option<DateTime<Utc>>, ItemId, T)]) {
    items.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_bytes_are_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x85\x6f\x4a\x83",
            b"not automerge at all",
            &[0xff; 64],
        ] {
            match decode(bytes) {
                Ok(doc) => assert!(read_header(&doc).is_err()),
                Err(e) => assert!(matches!(e, Error::InvalidDocument(_))),
            }
        }
    }

    #[test]
    fn header_round_trips() {
        let device = crate::crypto::DeviceKey::generate().unwrap().device_id();
        let mut doc = empty(device);
        let id = DocumentId::random();
        doc.transact(|tx| init_header(tx, id, DocumentKind::Journal))
            .unwrap();
        let header = read_header(&doc).unwrap();
        assert_eq!(
            header,
            Header {
                id,
                kind: DocumentKind::Journal,
                schema: SCHEMA_VERSION
            }
        );
        let copy = decode(&doc.save()).unwrap();
        assert_eq!(read_header(&copy).unwrap(), header);
    }
}
