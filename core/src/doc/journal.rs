//! Journal documents: the young person's check-ins and notes.
//!
//! Root keys: `check_ins` and `notes`, item maps keyed by item id. A note's
//! `body` is an Automerge text, so edits on two of the young person's devices
//! merge by character.

use automerge::{ObjId, ROOT, ReadDoc, transaction::Transactable};

use super::{
    EditContext, fields,
    items::{item, new_item, read_items, remove_item},
};
use crate::{
    DocumentId, Error, ItemId,
    model::{CheckIn, CheckInDetails, Journal, JournalNote},
};

const CHECK_INS: &str = "check_ins";
const NOTES: &str = "notes";

/// Lays out a new journal.
pub(crate) fn init<T: Transactable>(tx: &mut T) -> Result<(), Error> {
    fields::new_map(tx, &ROOT, CHECK_INS)?;
    fields::new_map(tx, &ROOT, NOTES)?;
    Ok(())
}

/// Reads the whole journal.
pub(crate) fn read<D: ReadDoc>(doc: &D, id: DocumentId) -> Journal {
    Journal {
        id,
        check_ins: read_items(doc, CHECK_INS, read_check_in),
        notes: read_items(doc, NOTES, read_note),
    }
}

fn read_check_in<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<CheckIn> {
    Some(CheckIn {
        id,
        at: fields::timestamp(doc, obj, "created_at"),
        details: CheckInDetails {
            mood: fields::small(doc, obj, "mood", 10)?,
            feelings: fields::strings(doc, obj, "feelings"),
            note: fields::string(doc, obj, "note"),
        },
    })
}

fn write_check_in<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    d: &CheckInDetails,
) -> Result<(), Error> {
    fields::put(tx, obj, "mood", i64::from(d.mood))?;
    fields::put_strings(tx, obj, "feelings", &d.feelings)?;
    fields::put(tx, obj, "note", d.note.as_str())
}

/// Adds a check-in, stamped now.
pub(crate) fn add_check_in<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    d: &CheckInDetails,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, CHECK_INS, ctx)?;
    write_check_in(tx, &obj, d)?;
    Ok(id)
}

/// Updates a check-in's changed fields.
pub(crate) fn update_check_in<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    d: &CheckInDetails,
) -> Result<(), Error> {
    let obj = item(tx, CHECK_INS, "check-in", id)?;
    write_check_in(tx, &obj, d)
}

/// Removes a check-in.
pub(crate) fn remove_check_in<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, CHECK_INS, "check-in", id)
}

fn read_note<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<JournalNote> {
    Some(JournalNote {
        id,
        at: fields::timestamp(doc, obj, "created_at"),
        title: fields::string(doc, obj, "title"),
        body: fields::text(doc, obj, "body"),
    })
}

/// Adds a note.
pub(crate) fn add_note<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    title: &str,
    body: &str,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, NOTES, ctx)?;
    fields::put(tx, &obj, "title", title)?;
    fields::put_text(tx, &obj, "body", body)?;
    Ok(id)
}

/// Changes a note's title and body (the body by the smallest splice).
pub(crate) fn update_note<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    title: &str,
    body: &str,
) -> Result<(), Error> {
    let obj = item(tx, NOTES, "journal note", id)?;
    fields::put(tx, &obj, "title", title)?;
    fields::put_text(tx, &obj, "body", body)
}

/// Removes a note.
pub(crate) fn remove_note<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, NOTES, "journal note", id)
}
