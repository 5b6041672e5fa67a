//! Resource directory calls.

use super::{Result, Store, item};
use crate::types::{Resource, ResourceDetails, ResourceDirectory};

#[uniffi::export]
impl Store {
    /// Creates an organisation's resource directory; returns its id.
    pub fn create_directory(&self, organisation: String) -> Result<String> {
        Ok(self.inner.create_directory(&organisation)?.to_string())
    }

    /// A resource directory.
    pub fn directory(&self, directory: String) -> Result<ResourceDirectory> {
        Ok(self.inner.directory(&Self::doc(&directory)?)?.into())
    }

    /// One resource of a directory.
    pub fn resource(&self, directory: String, resource: String) -> Result<Resource> {
        Ok(self
            .inner
            .resource(&Self::doc(&directory)?, &item("resource", &resource)?)?
            .into())
    }

    /// Adds a resource; returns its id.
    pub fn add_resource(&self, directory: String, details: ResourceDetails) -> Result<String> {
        let id = self
            .inner
            .add_resource(&Self::doc(&directory)?, &details.try_into()?)?;
        Ok(id.to_string())
    }

    /// Changes a resource (only the fields that differ are written).
    pub fn update_resource(
        &self,
        directory: String,
        resource: String,
        details: ResourceDetails,
    ) -> Result<()> {
        Ok(self.inner.update_resource(
            &Self::doc(&directory)?,
            &item("resource", &resource)?,
            &details.try_into()?,
        )?)
    }

    /// Removes a resource.
    pub fn remove_resource(&self, directory: String, resource: String) -> Result<()> {
        Ok(self
            .inner
            .remove_resource(&Self::doc(&directory)?, &item("resource", &resource)?)?)
    }
}
