//! Resource-directory documents: one organisation's resources.
//!
//! Root keys: `organisation`, `resources` (an item map keyed by item id),
//! and `endorsements` and `revocations`, the clinicians' signed statements
//! (layout in `endorsements.rs`). The two statement maps were laid out,
//! empty, from the first version of the schema, so filling them is not a
//! new schema version: an older build syncs and shows the directory and
//! ignores the statements. A resource's nested records (`contact`,
//! `assessment`) are maps of their own, so editing a phone number and an
//! ORCHA score on two devices merges cleanly.
//!
//! [`read_details`] and [`write_details`] also lay out the snapshot of a
//! resource that a care plan's signpost keeps.

use automerge::{ObjId, ObjType, ROOT, ReadDoc, transaction::Transactable};

use super::{
    EditContext,
    fields::{self, Entries},
    items::{item, new_item, remove_item},
};
use crate::{
    DocumentId, Error, ItemId,
    model::{
        Assessment, Audience, Cost, Resource, ResourceContact, ResourceDetails, ResourceDirectory,
        ResourceKind, ResourceStatus,
    },
};

pub(crate) const RESOURCES: &str = "resources";

/// Lays out a new directory.
pub(crate) fn init<T: Transactable>(tx: &mut T, organisation: &str) -> Result<(), Error> {
    fields::put(tx, &ROOT, "organisation", organisation)?;
    fields::new_map(tx, &ROOT, RESOURCES)?;
    fields::new_map(tx, &ROOT, "endorsements")?;
    fields::new_map(tx, &ROOT, "revocations")?;
    Ok(())
}

/// Reads the whole directory, resources by name (then id). Each resource's
/// map is read in one pass; the order is fully decided by name and id, so
/// the items' creation stamps are not read.
pub(crate) fn read<D: ReadDoc>(doc: &D, id: DocumentId) -> ResourceDirectory {
    let mut resources: Vec<Resource> = fields::object(doc, &ROOT, RESOURCES, ObjType::Map)
        .map(|map| {
            fields::item_maps(doc, &map)
                .into_iter()
                .map(|(id, obj)| Resource {
                    id,
                    details: read_details(doc, &obj),
                })
                .collect()
        })
        .unwrap_or_default();
    resources.sort_by(|a, b| a.details.name.cmp(&b.details.name).then(a.id.cmp(&b.id)));
    ResourceDirectory {
        id,
        organisation: organisation(doc),
        resources,
    }
}

/// The publishing organisation's name.
pub(crate) fn organisation<D: ReadDoc>(doc: &D) -> String {
    fields::string(doc, &ROOT, "organisation")
}

/// Reads one resource.
pub(crate) fn resource<D: ReadDoc>(doc: &D, id: &ItemId) -> Result<Resource, Error> {
    let obj = item(doc, RESOURCES, "resource", id)?;
    read_resource(doc, id.clone(), &obj).ok_or_else(|| Error::not_found("resource", id))
}

fn read_resource<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<Resource> {
    Some(Resource {
        id,
        details: read_details(doc, obj),
    })
}

/// Reads a resource's details from the map `obj`.
pub(crate) fn read_details<D: ReadDoc>(doc: &D, obj: &ObjId) -> ResourceDetails {
    // One pass over each map: a directory of 2,000 resources is read in
    // one go to build its index, and a `get` per field costs a search of
    // the whole document each.
    let e = Entries::read(doc, obj);
    let contact = e
        .object("contact", ObjType::Map)
        .map(|c| Entries::read(doc, &c));
    let assessment = e
        .object("assessment", ObjType::Map)
        .map(|a| Entries::read(doc, &a));
    ResourceDetails {
        name: e.string("name"),
        description: e.string("description"),
        kind: e.code("kind").unwrap_or(ResourceKind::LocalService),
        organisation: e.string("organisation"),
        status: e.code("status").unwrap_or(ResourceStatus::Active),
        thrive: e.codes(doc, "thrive"),
        audience: e.code("audience").unwrap_or(Audience::Both),
        min_age: e.small("min_age", 120),
        max_age: e.small("max_age", 120),
        regions: e.strings(doc, "regions"),
        cost: e.code("cost").unwrap_or(Cost::Free),
        languages: e.strings(doc, "languages"),
        contact: contact
            .map(|c| ResourceContact {
                phones: c.strings(doc, "phones"),
                text_numbers: c.strings(doc, "text_numbers"),
                email: c.opt_string("email"),
                url: c.opt_string("url"),
            })
            .unwrap_or_default(),
        opening_hours: e.string("opening_hours"),
        always_open: e.boolean("always_open"),
        works_offline: e.boolean("works_offline"),
        assessment: assessment
            .map(|a| Assessment {
                orcha_score: a.small("orcha_score", 100),
                orcha_date: a.date("orcha_date"),
                nice_tier: a.opt_string("nice_tier"),
                nhs_recommended: a.boolean("nhs_recommended"),
            })
            .unwrap_or_default(),
        last_checked: e.date("last_checked"),
        checked_by: e.string("checked_by"),
        review_due: e.date("review_due"),
    }
}

fn put_small<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    key: &str,
    v: Option<u8>,
) -> Result<(), Error> {
    match v {
        Some(v) => fields::put(tx, obj, key, i64::from(v)),
        None => fields::put(tx, obj, key, automerge::ScalarValue::Null),
    }
}

/// Writes a resource's details into the map `obj` (only the fields that
/// differ).
pub(crate) fn write_details<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    d: &ResourceDetails,
) -> Result<(), Error> {
    fields::put(tx, obj, "name", d.name.as_str())?;
    fields::put(tx, obj, "description", d.description.as_str())?;
    fields::put(tx, obj, "kind", d.kind.code())?;
    fields::put(tx, obj, "organisation", d.organisation.as_str())?;
    fields::put(tx, obj, "status", d.status.code())?;
    fields::put_codes(tx, obj, "thrive", &d.thrive)?;
    fields::put(tx, obj, "audience", d.audience.code())?;
    put_small(tx, obj, "min_age", d.min_age)?;
    put_small(tx, obj, "max_age", d.max_age)?;
    fields::put_strings(tx, obj, "regions", &d.regions)?;
    fields::put(tx, obj, "cost", d.cost.code())?;
    fields::put_strings(tx, obj, "languages", &d.languages)?;
    let contact = fields::ensure_map(tx, obj, "contact")?;
    fields::put_strings(tx, &contact, "phones", &d.contact.phones)?;
    fields::put_strings(tx, &contact, "text_numbers", &d.contact.text_numbers)?;
    fields::put_opt_str(tx, &contact, "email", d.contact.email.as_deref())?;
    fields::put_opt_str(tx, &contact, "url", d.contact.url.as_deref())?;
    fields::put(tx, obj, "opening_hours", d.opening_hours.as_str())?;
    fields::put(tx, obj, "always_open", d.always_open)?;
    fields::put(tx, obj, "works_offline", d.works_offline)?;
    let assessment = fields::ensure_map(tx, obj, "assessment")?;
    put_small(tx, &assessment, "orcha_score", d.assessment.orcha_score)?;
    fields::put_date(tx, &assessment, "orcha_date", d.assessment.orcha_date)?;
    fields::put_opt_str(
        tx,
        &assessment,
        "nice_tier",
        d.assessment.nice_tier.as_deref(),
    )?;
    fields::put(
        tx,
        &assessment,
        "nhs_recommended",
        d.assessment.nhs_recommended,
    )?;
    fields::put_date(tx, obj, "last_checked", d.last_checked)?;
    fields::put(tx, obj, "checked_by", d.checked_by.as_str())?;
    fields::put_date(tx, obj, "review_due", d.review_due)
}

/// Adds a resource.
pub(crate) fn add_resource<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    d: &ResourceDetails,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, RESOURCES, ctx)?;
    write_details(tx, &obj, d)?;
    Ok(id)
}

/// Updates a resource's changed fields.
pub(crate) fn update_resource<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    d: &ResourceDetails,
) -> Result<(), Error> {
    let obj = item(tx, RESOURCES, "resource", id)?;
    write_details(tx, &obj, d)
}

/// Removes a resource.
pub(crate) fn remove_resource<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, RESOURCES, "resource", id)
}
