//! Item maps: the maps under a document's root that hold items keyed by
//! [`ItemId`], each stamped with `created_at` and `created_by`.

use automerge::{ObjId, ROOT, ReadDoc, transaction::Transactable};

use super::{EditContext, fields, sort_by_created};
use crate::{Error, ItemId};

/// Reads the items of one item map, ordered by creation.
pub(crate) fn read_items<D: ReadDoc, T>(
    doc: &D,
    key: &str,
    read: fn(&D, ItemId, &ObjId) -> Option<T>,
) -> Vec<T> {
    let Some(map) = fields::object(doc, &ROOT, key, automerge::ObjType::Map) else {
        return Vec::new();
    };
    let mut items: Vec<_> = fields::item_maps(doc, &map)
        .into_iter()
        .map(|(id, obj)| (fields::timestamp(doc, &obj, "created_at"), id, obj))
        .collect();
    sort_by_created(&mut items);
    items
        .into_iter()
        .filter_map(|(_, id, obj)| read(doc, id, &obj))
        .collect()
}

/// The map of one item, or `NotFound`.
pub(crate) fn item<D: ReadDoc>(
    doc: &D,
    key: &'static str,
    what: &'static str,
    id: &ItemId,
) -> Result<ObjId, Error> {
    let map = fields::object(doc, &ROOT, key, automerge::ObjType::Map)
        .ok_or_else(|| Error::not_found(what, id))?;
    fields::object(doc, &map, id.as_str(), automerge::ObjType::Map)
        .ok_or_else(|| Error::not_found(what, id))
}

/// Creates a new item map stamped with its creation time.
pub(crate) fn new_item<T: Transactable>(
    tx: &mut T,
    key: &str,
    ctx: &EditContext,
) -> Result<(ItemId, ObjId), Error> {
    let map = fields::ensure_map(tx, &ROOT, key)?;
    let id = ItemId::random();
    let obj = fields::new_map(tx, &map, id.as_str())?;
    fields::put_timestamp(tx, &obj, "created_at", ctx.now)?;
    fields::put(tx, &obj, "created_by", ctx.device.to_string())?;
    Ok((id, obj))
}

/// Deletes an item, or `NotFound`.
pub(crate) fn remove_item<T: Transactable>(
    tx: &mut T,
    key: &'static str,
    what: &'static str,
    id: &ItemId,
) -> Result<(), Error> {
    item(tx, key, what, id)?;
    let map = fields::require_map(tx, &ROOT, key, what)?;
    tx.delete(&map, id.as_str())?;
    Ok(())
}
