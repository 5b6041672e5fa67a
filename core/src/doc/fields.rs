//! Typed reads and writes of single fields in an Automerge document.
//!
//! Reads are lenient: a field that is missing or holds an unexpected type
//! (a document from a newer or misbehaving peer) reads as its default, so a
//! device can always show what it has. Writes skip values that are already
//! there, so an update touches only what changed and concurrent edits of
//! different fields never conflict.
//!
//! Each `get` searches the document's whole op set, some microseconds on a
//! two-year care plan; code that reads several fields of one map, or every
//! item of a list, reads them in one pass instead ([`Entries`],
//! [`list_maps`], [`item_maps`]).

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ValueRef, transaction::Transactable};
use chrono::{DateTime, NaiveDate, Utc};

use crate::{DeviceId, Error, ItemId, model::Code};

/// The scalar at `key`, if the field holds one scalar.
pub(crate) fn scalar<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(value), _))) => Some(value.into_owned()),
        _ => None,
    }
}

/// The object of type `kind` at `key`.
pub(crate) fn object<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str, kind: ObjType) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(found), id))) if found == kind => Some(id),
        _ => None,
    }
}

/// The map at `key`, or `NotFound` naming `what` and `id`.
pub(crate) fn require_map<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
    what: &'static str,
) -> Result<ObjId, Error> {
    object(doc, obj, key, ObjType::Map).ok_or_else(|| Error::not_found(what, key))
}

/// A string field; empty if missing.
pub(crate) fn string<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> String {
    opt_string(doc, obj, key).unwrap_or_default()
}

/// A string field, `None` if missing or null.
pub(crate) fn opt_string<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<String> {
    as_string(scalar(doc, obj, key).as_ref())
}

fn as_string(value: Option<&ScalarValue>) -> Option<String> {
    match value {
        Some(ScalarValue::Str(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// A text object (or, leniently, a plain string).
pub(crate) fn text<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> String {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.text(&id).unwrap_or_default(),
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// The length of a text field in characters, without building the string.
pub(crate) fn text_len<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> usize {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.length(&id),
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => s.chars().count(),
            _ => 0,
        },
        _ => 0,
    }
}

/// A whole number field.
pub(crate) fn int<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<i64> {
    match scalar(doc, obj, key)? {
        ScalarValue::Int(i) => Some(i),
        ScalarValue::Uint(u) => i64::try_from(u).ok(),
        _ => None,
    }
}

/// A small whole number field (ages, scores) within `0..=max`.
pub(crate) fn small<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str, max: u8) -> Option<u8> {
    int(doc, obj, key)
        .and_then(|i| u8::try_from(i).ok())
        .filter(|v| *v <= max)
}

fn as_true(value: Option<&ScalarValue>) -> bool {
    matches!(value, Some(ScalarValue::Boolean(true)))
}

/// A calendar date stored as `YYYY-MM-DD`.
pub(crate) fn date<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<NaiveDate> {
    opt_string(doc, obj, key)?.parse().ok()
}

/// A UTC timestamp (milliseconds since the epoch).
pub(crate) fn timestamp<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<DateTime<Utc>> {
    as_timestamp(scalar(doc, obj, key).as_ref())
}

fn as_timestamp(value: Option<&ScalarValue>) -> Option<DateTime<Utc>> {
    match value? {
        ScalarValue::Timestamp(ms) | ScalarValue::Int(ms) => DateTime::from_timestamp_millis(*ms),
        _ => None,
    }
}

/// A coded value.
pub(crate) fn code<D: ReadDoc, C: Code>(doc: &D, obj: &ObjId, key: &str) -> Option<C> {
    C::from_code(&opt_string(doc, obj, key)?)
}

/// A device id stored as hex.
pub(crate) fn device<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<DeviceId> {
    DeviceId::parse(&opt_string(doc, obj, key)?)
}

/// An item id stored as text.
pub(crate) fn item_id<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<ItemId> {
    opt_string(doc, obj, key)?.parse().ok()
}

/// A list of strings; non-strings are skipped.
pub(crate) fn strings<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Vec<String> {
    let Some(list) = object(doc, obj, key, ObjType::List) else {
        return Vec::new();
    };
    (0..doc.length(&list))
        .filter_map(|i| match doc.get(&list, i) {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Str(s) => Some(s.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The maps in a list, in list order (one pass over the list).
pub(crate) fn list_maps<D: ReadDoc>(doc: &D, list: &ObjId) -> Vec<ObjId> {
    doc.list_range(list, ..)
        .filter(|item| matches!(item.value, ValueRef::Object(ObjType::Map)))
        .map(|item| item.id())
        .collect()
}

/// The entries of a map keyed by item id whose values are maps (one pass
/// over the map).
pub(crate) fn item_maps<D: ReadDoc>(doc: &D, map: &ObjId) -> Vec<(ItemId, ObjId)> {
    doc.map_range(map, ..)
        .filter(|entry| matches!(entry.value, ValueRef::Object(ObjType::Map)))
        .filter_map(|entry| Some((entry.key.parse().ok()?, entry.id())))
        .collect()
}

/// The current value at each key of one map, read in one pass: the typed
/// reads above, for a map whose fields are read together, at the cost of
/// about one `get` for all of them. Reads as of when it was taken.
pub(crate) struct Entries(Vec<Entry>);

struct Entry {
    key: String,
    /// The value shown (the winner, if values were written concurrently).
    value: Value<'static>,
    /// The object's id, if the value is an object.
    object: Option<ObjId>,
    /// Whether the key holds more than one value written concurrently.
    conflict: bool,
}

impl Entries {
    /// The entries of the map `obj`; none if it is not a map.
    pub(crate) fn read<D: ReadDoc>(doc: &D, obj: &ObjId) -> Self {
        Self(
            doc.map_range(obj, ..)
                .map(|entry| Entry {
                    object: matches!(entry.value, ValueRef::Object(_)).then(|| entry.id()),
                    key: entry.key.into_owned(),
                    value: entry.value.into_value(),
                    conflict: entry.conflict,
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&Entry> {
        self.0.iter().find(|entry| entry.key == key)
    }

    fn scalar(&self, key: &str) -> Option<&ScalarValue> {
        match &self.get(key)?.value {
            Value::Scalar(value) => Some(value.as_ref()),
            Value::Object(_) => None,
        }
    }

    /// See [`object`].
    pub(crate) fn object(&self, key: &str, kind: ObjType) -> Option<ObjId> {
        let entry = self.get(key)?;
        match entry.value {
            Value::Object(found) if found == kind => entry.object.clone(),
            _ => None,
        }
    }

    /// Whether `key` holds more than one value written concurrently (which
    /// may still all be equal).
    pub(crate) fn concurrent(&self, key: &str) -> bool {
        self.get(key).is_some_and(|entry| entry.conflict)
    }

    /// See [`string`].
    pub(crate) fn string(&self, key: &str) -> String {
        self.opt_string(key).unwrap_or_default()
    }

    /// See [`opt_string`].
    pub(crate) fn opt_string(&self, key: &str) -> Option<String> {
        as_string(self.scalar(key))
    }

    /// A boolean field; false if missing.
    pub(crate) fn boolean(&self, key: &str) -> bool {
        as_true(self.scalar(key))
    }

    /// See [`date`].
    pub(crate) fn date(&self, key: &str) -> Option<NaiveDate> {
        self.opt_string(key)?.parse().ok()
    }

    /// See [`timestamp`].
    pub(crate) fn timestamp(&self, key: &str) -> Option<DateTime<Utc>> {
        as_timestamp(self.scalar(key))
    }

    /// See [`device`].
    pub(crate) fn device(&self, key: &str) -> Option<DeviceId> {
        DeviceId::parse(&self.opt_string(key)?)
    }

    /// See [`item_id`].
    pub(crate) fn item_id(&self, key: &str) -> Option<ItemId> {
        self.opt_string(key)?.parse().ok()
    }

    /// See [`int`].
    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        match self.scalar(key)? {
            ScalarValue::Int(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// See [`small`].
    pub(crate) fn small(&self, key: &str, max: u8) -> Option<u8> {
        self.int(key)
            .and_then(|i| u8::try_from(i).ok())
            .filter(|v| *v <= max)
    }

    /// See [`code`].
    pub(crate) fn code<C: Code>(&self, key: &str) -> Option<C> {
        match self.scalar(key)? {
            ScalarValue::Str(s) => C::from_code(s),
            _ => None,
        }
    }

    /// See [`strings`] (one pass over the list).
    pub(crate) fn strings<D: ReadDoc>(&self, doc: &D, key: &str) -> Vec<String> {
        self.object(key, ObjType::List)
            .map(|list| list_strings(doc, &list))
            .unwrap_or_default()
    }

    /// A list of coded values; unknown codes are skipped.
    pub(crate) fn codes<D: ReadDoc, C: Code>(&self, doc: &D, key: &str) -> Vec<C> {
        self.strings(doc, key)
            .iter()
            .filter_map(|s| C::from_code(s))
            .collect()
    }
}

/// The strings in a list, in one pass; non-strings are skipped.
pub(crate) fn list_strings<D: ReadDoc>(doc: &D, list: &ObjId) -> Vec<String> {
    doc.list_range(list, ..)
        .filter_map(|item| match item.value {
            ValueRef::Scalar(automerge::ScalarValueRef::Str(s)) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

/// Sets a scalar unless the value shown now is already `value`. Writing the
/// shown value again would silently resolve a conflict in favour of it, so
/// a field passed back unchanged is left alone (conflicts are resolved only
/// on purpose, with [`overwrite`]). A new value written over concurrent ones
/// supersedes them all (see [`overwrite`]).
pub(crate) fn put<T: Transactable, V: Into<ScalarValue>>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    value: V,
) -> Result<(), Error> {
    let value = value.into();
    if let Some((Value::Scalar(shown), _)) = tx.get(obj, key)?
        && shown.as_ref() == &value
    {
        return Ok(());
    }
    overwrite(tx, obj, key, value)
}

/// Writes `value` over every current value of `key`, even one equal to it:
/// this is how a conflict is resolved.
///
/// Automerge, when given the value that is shown over concurrent values,
/// would only delete the others and keep the shown one's old op, so a
/// concurrent overwrite of that op would silently win over this write;
/// deleting first makes the write a value of its own.
pub(crate) fn overwrite<T: Transactable, V: Into<ScalarValue>>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    value: V,
) -> Result<(), Error> {
    let value = value.into();
    match tx.get_all(obj, key)?.as_slice() {
        [(Value::Scalar(existing), _)] if existing.as_ref() == &value => return Ok(()),
        [_, _, ..] => tx.delete(obj, key)?,
        _ => {}
    }
    tx.put(obj, key, value)?;
    Ok(())
}

/// Sets an optional string; `None` is stored as null.
pub(crate) fn put_opt_str<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    value: Option<&str>,
) -> Result<(), Error> {
    match value {
        Some(s) => put(tx, obj, key, s),
        None => put(tx, obj, key, ScalarValue::Null),
    }
}

/// Sets an optional date as `YYYY-MM-DD`.
pub(crate) fn put_date<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    value: Option<NaiveDate>,
) -> Result<(), Error> {
    put_opt_str(tx, obj, key, value.map(|d| d.to_string()).as_deref())
}

/// Sets a timestamp.
pub(crate) fn put_timestamp<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    value: DateTime<Utc>,
) -> Result<(), Error> {
    put(
        tx,
        obj,
        key,
        ScalarValue::Timestamp(value.timestamp_millis()),
    )
}

/// Sets a list of strings, replacing the list only if it differs.
pub(crate) fn put_strings<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    values: &[String],
) -> Result<(), Error> {
    if object(tx, obj, key, ObjType::List).is_some() && strings(tx, obj, key) == values {
        return Ok(());
    }
    let list = tx.put_object(obj, key, ObjType::List)?;
    for (i, value) in values.iter().enumerate() {
        tx.insert(&list, i, value.as_str())?;
    }
    Ok(())
}

/// Sets a list of coded values.
pub(crate) fn put_codes<T: Transactable, C: Code>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    values: &[C],
) -> Result<(), Error> {
    let codes: Vec<String> = values.iter().map(|c| c.code().to_owned()).collect();
    put_strings(tx, obj, key, &codes)
}

/// Sets a text object to `value`, creating it if needed. An existing text is
/// changed by the smallest splice, so concurrent typing merges by character.
pub(crate) fn put_text<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    value: &str,
) -> Result<(), Error> {
    let text = match object(tx, obj, key, ObjType::Text) {
        Some(text) => text,
        None => tx.put_object(obj, key, ObjType::Text)?,
    };
    tx.update_text(&text, value)?;
    Ok(())
}

/// Splices a text object: deletes `delete` characters at `index` and inserts
/// `insert` there. Positions count Unicode code points.
pub(crate) fn splice_text<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    index: usize,
    delete: usize,
    insert: &str,
) -> Result<(), Error> {
    let text = match object(tx, obj, key, ObjType::Text) {
        Some(text) => text,
        None => tx.put_object(obj, key, ObjType::Text)?,
    };
    let len = tx.length(&text);
    if index > len || delete > len - index {
        return Err(crate::InvalidInput::new(
            "splice",
            crate::Problem::OutOfRange {
                min: 0,
                max: i64::try_from(len).unwrap_or(i64::MAX),
            },
        )
        .into());
    }
    tx.splice_text(
        &text,
        index,
        isize::try_from(delete).unwrap_or(isize::MAX),
        insert,
    )?;
    Ok(())
}

/// Creates a fresh map at `key`.
pub(crate) fn new_map<T: Transactable>(tx: &mut T, obj: &ObjId, key: &str) -> Result<ObjId, Error> {
    Ok(tx.put_object(obj, key, ObjType::Map)?)
}

/// Creates a fresh list at `key`.
pub(crate) fn new_list<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
) -> Result<ObjId, Error> {
    Ok(tx.put_object(obj, key, ObjType::List)?)
}

/// The map at `key`, created if missing.
pub(crate) fn ensure_map<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
) -> Result<ObjId, Error> {
    match object(tx, obj, key, ObjType::Map) {
        Some(map) => Ok(map),
        None => new_map(tx, obj, key),
    }
}

/// The list at `key`, created if missing.
pub(crate) fn ensure_list<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
) -> Result<ObjId, Error> {
    match object(tx, obj, key, ObjType::List) {
        Some(list) => Ok(list),
        None => Ok(tx.put_object(obj, key, ObjType::List)?),
    }
}

/// Appends a new map holding `values` to a list, as one batch: Automerge
/// places a batch in its op set in two steps rather than one per op, and
/// those steps are most of what appending a record costs in a document with
/// a long history (a care plan's score or safety-plan item).
pub(crate) fn push_values<T: Transactable>(
    tx: &mut T,
    list: &ObjId,
    values: impl IntoIterator<Item = (&'static str, ScalarValue)>,
) -> Result<ObjId, Error> {
    let map: std::collections::HashMap<&str, automerge::hydrate::Value> =
        values.into_iter().map(|(k, v)| (k, v.into())).collect();
    let len = tx.length(list);
    Ok(tx.batch_create_object(list, len, &map.into(), true)?)
}
