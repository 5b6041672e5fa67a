//! Resource-directory operations on the store.

use super::{
    Store,
    directory_index::{Need, Touched},
};
use crate::{
    DocumentId, DocumentKind, Error, ItemId,
    doc::directory,
    model::{Resource, ResourceDetails, ResourceDirectory, rules},
};

const KIND: DocumentKind = DocumentKind::ResourceDirectory;

impl Store {
    /// Creates an empty directory for a publishing organisation.
    pub fn create_directory(&self, organisation: &str) -> Result<DocumentId, Error> {
        rules::short_text("organisation", organisation)?;
        self.create(KIND, |tx, _| directory::init(tx, organisation))
    }

    /// The whole directory, resources by name (from the directory's index,
    /// which later queries reuse).
    pub fn directory(&self, id: &DocumentId) -> Result<ResourceDirectory, Error> {
        self.with_directory_needing(id, |_, _| ((), Need::All), |index, _, ()| index.directory())
    }

    /// One resource.
    pub fn resource(&self, id: &DocumentId, resource: &ItemId) -> Result<Resource, Error> {
        self.with_directory_needing(
            id,
            |index, _| ((), index.need_resource(resource)),
            |index, _, ()| index.resource(resource).cloned(),
        )?
        .ok_or_else(|| Error::not_found("resource", resource))
    }

    /// Adds a resource.
    pub fn add_resource(
        &self,
        id: &DocumentId,
        details: &ResourceDetails,
    ) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit_directory(
            id,
            "add resource",
            |added: &ItemId| Touched::resource(added.clone()),
            |tx, ctx| directory::add_resource(tx, ctx, details),
        )
    }

    /// Updates a resource's changed fields.
    pub fn update_resource(
        &self,
        id: &DocumentId,
        resource: &ItemId,
        details: &ResourceDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit_directory(
            id,
            "update resource",
            |_| Touched::resource(resource.clone()),
            |tx, _| directory::update_resource(tx, resource, details),
        )
    }

    /// Removes a resource.
    pub fn remove_resource(&self, id: &DocumentId, resource: &ItemId) -> Result<(), Error> {
        self.edit_directory(
            id,
            "remove resource",
            |_| Touched::resource(resource.clone()),
            |tx, _| directory::remove_resource(tx, resource),
        )
    }
}
