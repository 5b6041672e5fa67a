//! Endorsement and revocation statements inside a resource directory.
//!
//! Two root maps hold statement bytes, only ever added to:
//!
//! | map | key | value |
//! | --- | --- | --- |
//! | `endorsements` | `<resource item id>/<endorsement id, 64 hex digits>` | the encoded [`Endorsement`] |
//! | `revocations` | `<SHA-256 of the revocation, 64 hex digits>` | the encoded [`Revocation`] |
//!
//! A key names its statement, so two devices adding the same statement
//! write the same key and value, and different statements never collide.
//! Reading is lenient: values that are not statements are returned as
//! bytes for the caller to report as not trusted, never an error.

use automerge::{ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};

use super::fields;
use crate::{
    Error, ItemId,
    endorse::{Endorsement, Revocation},
};

pub(crate) const ENDORSEMENTS: &str = "endorsements";
pub(crate) const REVOCATIONS: &str = "revocations";

/// The most statement values read from one map; a directory past it (only
/// a misbehaving writer could make one) shows the first ones.
pub(crate) const MAX_READ: usize = 100_000;

/// The statement values a directory holds, unchecked.
#[derive(Debug, Default)]
pub(crate) struct RawStatements {
    /// Each endorsement value with the resource its key names (if it
    /// names one).
    pub(crate) endorsements: Vec<(Option<ItemId>, Vec<u8>)>,
    /// Each revocation value.
    pub(crate) revocations: Vec<Vec<u8>>,
    /// Values that are not bytes at all.
    pub(crate) junk: usize,
}

/// Adds an endorsement.
pub(crate) fn add_endorsement<T: Transactable>(tx: &mut T, e: &Endorsement) -> Result<(), Error> {
    let map = fields::ensure_map(tx, &ROOT, ENDORSEMENTS)?;
    let key = format!("{}/{}", e.resource, e.id());
    tx.put(&map, key, ScalarValue::Bytes(e.encode()))?;
    Ok(())
}

/// Adds a revocation.
pub(crate) fn add_revocation<T: Transactable>(tx: &mut T, r: &Revocation) -> Result<(), Error> {
    let map = fields::ensure_map(tx, &ROOT, REVOCATIONS)?;
    tx.put(&map, hex::encode(r.hash()), ScalarValue::Bytes(r.encode()))?;
    Ok(())
}

/// Every value of both maps, including values hidden by a concurrent write
/// to the same key.
pub(crate) fn read<D: ReadDoc>(doc: &D) -> RawStatements {
    let mut out = RawStatements::default();
    read_map(doc, ENDORSEMENTS, &mut out.junk, |key, bytes| {
        let resource = key.split_once('/').and_then(|(r, _)| r.parse().ok());
        out.endorsements.push((resource, bytes));
    });
    read_map(doc, REVOCATIONS, &mut out.junk, |_, bytes| {
        out.revocations.push(bytes);
    });
    out
}

fn read_map<D: ReadDoc>(doc: &D, key: &str, junk: &mut usize, mut each: impl FnMut(&str, Vec<u8>)) {
    let Some(map) = fields::object(doc, &ROOT, key, ObjType::Map) else {
        return;
    };
    let mut count = 0;
    for entry in doc.map_range(&map, ..) {
        let values = if entry.conflict {
            doc.get_all(&map, entry.key.as_ref())
                .map(|all| all.into_iter().map(|(v, _)| v).collect())
                .unwrap_or_default()
        } else {
            vec![entry.value.clone().into_value()]
        };
        for value in values {
            count += 1;
            if count > MAX_READ {
                tracing::warn!(map = key, "too many statements; the rest are not read");
                return;
            }
            match value {
                Value::Scalar(scalar) => match scalar.as_ref() {
                    ScalarValue::Bytes(bytes) => each(entry.key.as_ref(), bytes.clone()),
                    _ => *junk += 1,
                },
                Value::Object(_) => *junk += 1,
            }
        }
    }
}
