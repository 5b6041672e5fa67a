//! The safety plan inside a care-plan document.
//!
//! Layout: the root key `safety` holds a map with one list per
//! [`SafetyList`] (keyed by the list's code), a `contacts` map of crisis
//! contacts keyed by item id, and `code_word`. List items are maps
//! `{id, text, added_by, added_at, removed}`.
//!
//! Nothing in a safety plan is deleted: removing an item sets `removed`, so
//! an edit made concurrently on another device is kept and can be restored.
//! Concurrent writes to an item's text, a contact's fields or the code word
//! are kept side by side and reported by `conflicts.rs`.

use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue, transaction::Transactable};

use super::{
    EditContext, conflicts,
    fields::{self, Entries},
    sort_by_created,
};
use crate::{
    Error, ItemId,
    model::{CrisisContact, CrisisContactDetails, SafetyItem, SafetyList, SafetyPlan},
};

pub(crate) const SAFETY: &str = "safety";
pub(crate) const CONTACTS: &str = "contacts";
pub(crate) const CODE_WORD: &str = "code_word";

/// Lays out an empty safety plan.
pub(crate) fn init<T: Transactable>(tx: &mut T) -> Result<(), Error> {
    let safety = fields::new_map(tx, &ROOT, SAFETY)?;
    for list in SafetyList::ALL {
        fields::new_list(tx, &safety, list.code())?;
    }
    fields::new_map(tx, &safety, CONTACTS)?;
    Ok(())
}

fn safety_map<D: ReadDoc>(doc: &D) -> Option<ObjId> {
    fields::object(doc, &ROOT, SAFETY, ObjType::Map)
}

/// A list's item maps: each one's id (if it has a valid one), object and entries.
pub(crate) type ListItems = Vec<(Option<ItemId>, ObjId, Entries)>;

/// Every map of the safety plan, each read in one pass: what [`read`] and
/// `conflicts::safety_conflicts` walk. The store reads the safety plan after
/// every change to it, to keep its stored view in step, so this is on the
/// edit path; a `get` per field made that most of an edit's time.
pub(crate) struct Maps {
    /// The `safety` map (the lists, the contacts, the code word).
    pub(crate) safety: (ObjId, Entries),
    /// Each list's item maps in order, removed ones included, with their ids.
    pub(crate) lists: Vec<(SafetyList, ListItems)>,
    /// The crisis-contact maps, ordered by when they were added, removed
    /// ones included.
    pub(crate) contacts: Vec<(ItemId, ObjId, Entries)>,
}

impl Maps {
    /// `None` if the document has no safety plan.
    pub(crate) fn read<D: ReadDoc>(doc: &D) -> Option<Self> {
        let safety = safety_map(doc)?;
        let entries = Entries::read(doc, &safety);
        let lists = SafetyList::ALL
            .iter()
            .map(|&list| {
                let items = entries
                    .object(list.code(), ObjType::List)
                    .map(|list| {
                        fields::list_maps(doc, &list)
                            .into_iter()
                            .map(|obj| {
                                let item = Entries::read(doc, &obj);
                                (item.item_id("id"), obj, item)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (list, items)
            })
            .collect();
        let contacts = entries
            .object(CONTACTS, ObjType::Map)
            .map(|map| {
                let mut contacts: Vec<_> = fields::item_maps(doc, &map)
                    .into_iter()
                    .map(|(id, obj)| {
                        let contact = Entries::read(doc, &obj);
                        (contact.timestamp("added_at"), id, (obj, contact))
                    })
                    .collect();
                sort_by_created(&mut contacts);
                contacts
                    .into_iter()
                    .map(|(_, id, (obj, contact))| (id, obj, contact))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            safety: (safety, entries),
            lists,
            contacts,
        })
    }
}

/// Reads the safety plan, leaving out removed items.
pub(crate) fn read<D: ReadDoc>(doc: &D) -> SafetyPlan {
    let mut plan = SafetyPlan::default();
    let Some(maps) = Maps::read(doc) else {
        return plan;
    };
    plan.has_conflicts = !conflicts::conflicts_in(doc, &maps).is_empty();
    plan.code_word = maps
        .safety
        .1
        .opt_string(CODE_WORD)
        .filter(|w| !w.is_empty());
    for (list, items) in maps.lists {
        *plan.list_mut(list) = items
            .into_iter()
            .filter(|(_, _, item)| !item.boolean("removed"))
            .filter_map(|(id, _, item)| {
                Some(SafetyItem {
                    id: id?,
                    text: item.string("text"),
                    added_by: item.device("added_by"),
                    added_at: item.timestamp("added_at"),
                })
            })
            .collect();
    }
    plan.crisis_contacts = maps
        .contacts
        .into_iter()
        .filter(|(_, _, contact)| !contact.boolean("removed"))
        .map(|(id, _, contact)| read_contact(id, &contact))
        .collect();
    plan
}

/// The last item of a list, as [`read`] gives it (`None` if the list is
/// empty or its last item is removed): after [`add_item`] on this device,
/// the item just added, read without reading the rest of the plan.
pub(crate) fn read_last_item<D: ReadDoc>(doc: &D, list: SafetyList) -> Option<SafetyItem> {
    let safety = safety_map(doc)?;
    let list = fields::object(doc, &safety, list.code(), ObjType::List)?;
    let last = doc.length(&list).checked_sub(1)?;
    let (value, obj) = doc.get(&list, last).ok()??;
    if !matches!(value, automerge::Value::Object(ObjType::Map)) {
        return None;
    }
    let item = Entries::read(doc, &obj);
    if item.boolean("removed") {
        return None;
    }
    Some(SafetyItem {
        id: item.item_id("id")?,
        text: item.string("text"),
        added_by: item.device("added_by"),
        added_at: item.timestamp("added_at"),
    })
}

/// The item maps of one list, with their ids, removed ones included.
pub(crate) fn items<D: ReadDoc>(
    doc: &D,
    safety: &ObjId,
    list: SafetyList,
) -> Vec<(Option<ItemId>, ObjId)> {
    let Some(list) = fields::object(doc, safety, list.code(), ObjType::List) else {
        return Vec::new();
    };
    fields::list_maps(doc, &list)
        .into_iter()
        .map(|obj| (fields::item_id(doc, &obj, "id"), obj))
        .collect()
}

fn read_contact(id: ItemId, contact: &Entries) -> CrisisContact {
    CrisisContact {
        id,
        details: CrisisContactDetails {
            name: contact.string("name"),
            phone: contact.opt_string("phone"),
            text_number: contact.opt_string("text_number"),
            hours: contact.string("hours"),
            region: contact.string("region"),
            last_checked: contact.date("last_checked"),
        },
        added_by: contact.device("added_by"),
        added_at: contact.timestamp("added_at"),
    }
}

fn require_safety<D: ReadDoc>(doc: &D) -> Result<ObjId, Error> {
    safety_map(doc).ok_or(Error::InvalidDocument("the care plan has no safety plan"))
}

/// Finds a list item by id in any list.
pub(crate) fn find_item<D: ReadDoc>(doc: &D, id: &ItemId) -> Result<(SafetyList, ObjId), Error> {
    let safety = require_safety(doc)?;
    SafetyList::ALL
        .iter()
        .find_map(|&list| {
            items(doc, &safety, list)
                .into_iter()
                .find(|(item, _)| item.as_ref() == Some(id))
                .map(|(_, obj)| (list, obj))
        })
        .ok_or_else(|| Error::not_found("safety-plan item", id))
}

/// Appends an item to a list.
pub(crate) fn add_item<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    list: SafetyList,
    text: &str,
) -> Result<ItemId, Error> {
    let safety = require_safety(tx)?;
    let list = fields::ensure_list(tx, &safety, list.code())?;
    let id = ItemId::random();
    fields::push_values(
        tx,
        &list,
        [
            ("id", id.as_str().into()),
            ("text", text.into()),
            ("added_by", ctx.device.to_string().into()),
            (
                "added_at",
                ScalarValue::Timestamp(ctx.now.timestamp_millis()),
            ),
        ],
    )?;
    Ok(id)
}

/// Changes an item's text.
pub(crate) fn update_item<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    text: &str,
) -> Result<(), Error> {
    let (_, obj) = find_item(tx, id)?;
    fields::put(tx, &obj, "text", text)
}

/// Marks an item removed (it stays in the document and can be restored).
pub(crate) fn remove_item<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    id: &ItemId,
) -> Result<(), Error> {
    let (_, obj) = find_item(tx, id)?;
    set_removed(tx, ctx, &obj, true)
}

/// Brings back a removed item.
pub(crate) fn restore_item<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    id: &ItemId,
) -> Result<(), Error> {
    let (_, obj) = find_item(tx, id)?;
    set_removed(tx, ctx, &obj, false)
}

fn set_removed<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    obj: &ObjId,
    removed: bool,
) -> Result<(), Error> {
    fields::put(tx, obj, "removed", removed)?;
    fields::put(tx, obj, "removed_by", ctx.device.to_string())?;
    fields::put_timestamp(tx, obj, "removed_at", ctx.now)
}

/// Sets the code word.
pub(crate) fn set_code_word<T: Transactable>(tx: &mut T, word: Option<&str>) -> Result<(), Error> {
    let safety = require_safety(tx)?;
    fields::put_opt_str(tx, &safety, CODE_WORD, word)
}

fn write_contact<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    d: &CrisisContactDetails,
) -> Result<(), Error> {
    fields::put(tx, obj, "name", d.name.as_str())?;
    fields::put_opt_str(tx, obj, "phone", d.phone.as_deref())?;
    fields::put_opt_str(tx, obj, "text_number", d.text_number.as_deref())?;
    fields::put(tx, obj, "hours", d.hours.as_str())?;
    fields::put(tx, obj, "region", d.region.as_str())?;
    fields::put_date(tx, obj, "last_checked", d.last_checked)
}

/// The map of a crisis contact, or `NotFound`.
pub(crate) fn contact<D: ReadDoc>(doc: &D, id: &ItemId) -> Result<ObjId, Error> {
    let safety = require_safety(doc)?;
    let map = fields::object(doc, &safety, CONTACTS, ObjType::Map)
        .ok_or_else(|| Error::not_found("crisis contact", id))?;
    fields::object(doc, &map, id.as_str(), ObjType::Map)
        .ok_or_else(|| Error::not_found("crisis contact", id))
}

/// Adds a crisis contact.
pub(crate) fn add_contact<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    d: &CrisisContactDetails,
) -> Result<ItemId, Error> {
    let safety = require_safety(tx)?;
    let map = fields::ensure_map(tx, &safety, CONTACTS)?;
    let id = ItemId::random();
    let obj = fields::new_map(tx, &map, id.as_str())?;
    write_contact(tx, &obj, d)?;
    fields::put(tx, &obj, "added_by", ctx.device.to_string())?;
    fields::put_timestamp(tx, &obj, "added_at", ctx.now)?;
    Ok(id)
}

/// Updates a crisis contact's fields that differ from what it shows. A field
/// passed back as shown is not written, so a conflict in it stays until
/// someone resolves it.
pub(crate) fn update_contact<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    d: &CrisisContactDetails,
) -> Result<(), Error> {
    let obj = contact(tx, id)?;
    write_contact(tx, &obj, d)
}

/// Marks a crisis contact removed.
pub(crate) fn remove_contact<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    id: &ItemId,
) -> Result<(), Error> {
    let obj = contact(tx, id)?;
    set_removed(tx, ctx, &obj, true)
}
