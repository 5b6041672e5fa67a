//! The store object: a thin wrapper around `lynchpin_core::Store` that
//! parses ids and dates, converts records and maps errors. Each document
//! kind's calls are in their own file; observers are in `observe.rs`, sync
//! in `sync.rs`.
//!
//! Every call here is synchronous and short, and safe from any thread: the
//! core store serialises them with its own lock. Only network I/O (`sync`,
//! `enroll` …) is async.

mod care_plan;
mod directory;
mod endorsements;
mod journal;
mod safety_plan;

use std::sync::Arc;

use lynchpin_core as lc;

use crate::{
    LynchpinError,
    types::{
        AccessEntry, DocumentKind, DocumentSummary, Durability, ImportOutcome, Role, all,
        device_id, document_id, item_id,
    },
};

/// A Lynchpin store on this device: one encrypted SQLite file holding
/// care plans, journals and resource directories.
#[derive(uniffi::Object)]
pub struct Store {
    pub(crate) inner: Arc<lc::Store>,
}

type Result<T> = std::result::Result<T, LynchpinError>;

impl Store {
    fn doc(id: &str) -> Result<lc::DocumentId> {
        document_id("document", id)
    }
}

fn key(bytes: &[u8]) -> Result<lc::StoreKey> {
    lc::StoreKey::from_slice(bytes).map_err(|_| LynchpinError::invalid("key", "must be 32 bytes"))
}

#[uniffi::export]
impl Store {
    /// Opens the store at `path` with the app's 32-byte key (from the
    /// Android Keystore or the iOS Keychain), creating it if the file does
    /// not exist. Every edit is on disk before its call returns.
    ///
    /// Throws `WrongKey` if the key does not open the store, `StoreLocked`
    /// if it is open elsewhere, `CorruptStore` if the file is damaged (it
    /// is never deleted or rewritten).
    #[uniffi::constructor]
    pub fn open(path: String, key: Vec<u8>) -> Result<Arc<Self>> {
        Self::open_with(path, key, Durability::Full)
    }

    /// `open`, choosing what an edit survives once its call has returned.
    #[uniffi::constructor]
    pub fn open_with(path: String, key: Vec<u8>, durability: Durability) -> Result<Arc<Self>> {
        let options = lc::StoreOptions {
            durability: durability.into(),
        };
        let store = lc::Store::open_with(path, &self::key(&key)?, options)?;
        Ok(Arc::new(Self {
            inner: Arc::new(store),
        }))
    }

    /// This device's id (64 hex digits): what other devices grant access to.
    pub fn device_id(&self) -> String {
        self.inner.device_id().to_string()
    }

    /// Every document on this device.
    pub fn documents(&self) -> Result<Vec<DocumentSummary>> {
        Ok(all(self.inner.documents()?))
    }

    /// The kind of a document.
    pub fn kind(&self, document: String) -> Result<DocumentKind> {
        Ok(self.inner.kind(&Self::doc(&document)?)?.into())
    }

    /// A document in Automerge's binary format, to give another device.
    pub fn export_document(&self, document: String) -> Result<Vec<u8>> {
        Ok(self.inner.export(&Self::doc(&document)?)?)
    }

    /// Merges another device's bytes of a document (from `export_document`)
    /// into the store. Importing the same bytes twice is harmless.
    pub fn import_document(&self, bytes: Vec<u8>) -> Result<ImportOutcome> {
        Ok(self.inner.import(&bytes)?.into())
    }

    /// Deletes a document from this device (not from anyone else's).
    pub fn delete_document(&self, document: String) -> Result<()> {
        Ok(self.inner.delete_document(&Self::doc(&document)?)?)
    }

    /// Compacts the stored documents now (for when the app is idle).
    pub fn compact(&self) -> Result<()> {
        Ok(self.inner.compact()?)
    }

    /// Gives `device` a role on a document. Documents are private to their
    /// creator until shared this way.
    pub fn grant(&self, document: String, device: String, role: Role) -> Result<()> {
        Ok(self.inner.grant(
            &Self::doc(&document)?,
            device_id("device", &device)?,
            role.into(),
        )?)
    }

    /// Takes a device's role on a document away.
    pub fn revoke(&self, document: String, device: String) -> Result<()> {
        Ok(self
            .inner
            .revoke(&Self::doc(&document)?, device_id("device", &device)?)?)
    }

    /// Who has access to a document, as this device knows it.
    pub fn access(&self, document: String) -> Result<Vec<AccessEntry>> {
        Ok(all(self.inner.access(&Self::doc(&document)?)?))
    }

    /// This device's role on a document (`null`/`None` if it has none).
    pub fn role(&self, document: String) -> Result<Option<Role>> {
        Ok(self.inner.role(&Self::doc(&document)?)?.map(Into::into))
    }
}

/// Parses an item id argument.
fn item(field: &str, id: &str) -> Result<lc::ItemId> {
    item_id(field, id)
}
