//! Concurrent values of safety-critical fields.
//!
//! Automerge keeps every value written concurrently to one map key and picks
//! a deterministic winner to show. For the safety plan that is not enough:
//! a crisis number must never be silently replaced. This module lists every
//! safety-critical field that holds more than one distinct value, with the
//! device that wrote each, and resolves one by writing the chosen value (a
//! write that has seen all the concurrent ones supersedes them).

use automerge::{ObjId, ReadDoc, ScalarValue, Value, transaction::Transactable};

use super::{
    fields::{self, Entries},
    safety_plan,
};
use crate::{
    DeviceId, Error,
    model::{Conflict, ConflictField, ConflictValue, ContactField},
};

fn contact_key(field: ContactField) -> &'static str {
    match field {
        ContactField::Name => "name",
        ContactField::Phone => "phone",
        ContactField::TextNumber => "text_number",
        ContactField::Hours => "hours",
        ContactField::Region => "region",
        ContactField::LastChecked => "last_checked",
    }
}

/// Every safety-critical field with more than one distinct current value.
pub(crate) fn safety_conflicts<D: ReadDoc>(doc: &D) -> Vec<Conflict> {
    safety_plan::Maps::read(doc).map_or_else(Vec::new, |maps| conflicts_in(doc, &maps))
}

/// [`safety_conflicts`] over the safety plan's maps, already read. Only the
/// keys that hold concurrent values are looked at more closely.
pub(crate) fn conflicts_in<D: ReadDoc>(doc: &D, maps: &safety_plan::Maps) -> Vec<Conflict> {
    let mut found = Vec::new();
    for (list, items) in &maps.lists {
        for (item, obj, entries) in items {
            let Some(item) = item else { continue };
            if let Some(values) = concurrent_values(doc, obj, entries, "text") {
                found.push(Conflict {
                    field: ConflictField::SafetyItem {
                        list: *list,
                        item: item.clone(),
                    },
                    values,
                });
            }
        }
    }
    for (contact, obj, entries) in &maps.contacts {
        for &field in ContactField::ALL {
            if let Some(values) = concurrent_values(doc, obj, entries, contact_key(field)) {
                found.push(Conflict {
                    field: ConflictField::CrisisContact {
                        contact: contact.clone(),
                        field,
                    },
                    values,
                });
            }
        }
    }
    let (safety, entries) = &maps.safety;
    if let Some(values) = concurrent_values(doc, safety, entries, safety_plan::CODE_WORD) {
        found.push(Conflict {
            field: ConflictField::CodeWord,
            values,
        });
    }
    found
}

/// The distinct values at `key` of `obj`, whose `entries` were read before,
/// if there is more than one, the shown one first.
fn concurrent_values<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    entries: &Entries,
    key: &str,
) -> Option<Vec<ConflictValue>> {
    if !entries.concurrent(key) {
        return None;
    }
    let all = doc.get_all(obj, key).ok()?;
    if all.len() < 2 {
        return None;
    }
    let mut values: Vec<ConflictValue> = Vec::with_capacity(all.len());
    // Automerge shows the value with the greatest op id, which get_all lists last.
    for (value, id) in all.iter().rev() {
        let value = match value {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(s) => Some(s.to_string()),
                ScalarValue::Null => None,
                other => Some(other.to_string()),
            },
            Value::Object(_) => None,
        };
        let author = match id {
            ObjId::Id(_, actor, _) => DeviceId::from_actor(actor),
            ObjId::Root => None,
        };
        if !values.iter().any(|v| v.value == value) {
            values.push(ConflictValue { value, author });
        }
    }
    (values.len() > 1).then_some(values)
}

fn scalar(value: Option<&str>) -> ScalarValue {
    value.map_or(ScalarValue::Null, ScalarValue::from)
}

/// Resolves a conflict by writing `value` over every concurrent value.
pub(crate) fn resolve<T: Transactable>(
    tx: &mut T,
    field: &ConflictField,
    value: Option<&str>,
) -> Result<(), Error> {
    match field {
        ConflictField::SafetyItem { item, .. } => {
            let (_, obj) = safety_plan::find_item(tx, item)?;
            fields::overwrite(tx, &obj, "text", value.unwrap_or_default())?;
        }
        ConflictField::CrisisContact { contact, field } => {
            let obj = safety_plan::contact(tx, contact)?;
            fields::overwrite(tx, &obj, contact_key(*field), scalar(value))?;
        }
        ConflictField::CodeWord => {
            let safety = fields::object(
                tx,
                &automerge::ROOT,
                safety_plan::SAFETY,
                automerge::ObjType::Map,
            )
            .ok_or(Error::InvalidDocument("the care plan has no safety plan"))?;
            fields::overwrite(tx, &safety, safety_plan::CODE_WORD, scalar(value))?;
        }
    }
    Ok(())
}
