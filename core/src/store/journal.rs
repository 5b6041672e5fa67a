//! Journal operations on the store. A journal is private to the young
//! person's devices until they share it.

use super::Store;
use crate::{
    DocumentId, DocumentKind, Error, ItemId,
    doc::journal,
    model::{CheckInDetails, Journal, rules},
};

const KIND: DocumentKind = DocumentKind::Journal;

impl Store {
    /// Creates an empty journal.
    pub fn create_journal(&self) -> Result<DocumentId, Error> {
        self.create(KIND, |tx, _| journal::init(tx))
    }

    /// The whole journal.
    pub fn journal(&self, id: &DocumentId) -> Result<Journal, Error> {
        self.read(id, KIND, |doc| journal::read(doc, *id))
    }

    /// Adds a check-in, stamped now.
    pub fn add_check_in(&self, id: &DocumentId, details: &CheckInDetails) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit(id, KIND, "add check-in", |tx, ctx| {
            journal::add_check_in(tx, ctx, details)
        })
    }

    /// Updates a check-in's changed fields.
    pub fn update_check_in(
        &self,
        id: &DocumentId,
        check_in: &ItemId,
        details: &CheckInDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit(id, KIND, "update check-in", |tx, _| {
            journal::update_check_in(tx, check_in, details)
        })
    }

    /// Removes a check-in.
    pub fn remove_check_in(&self, id: &DocumentId, check_in: &ItemId) -> Result<(), Error> {
        self.edit(id, KIND, "remove check-in", |tx, _| {
            journal::remove_check_in(tx, check_in)
        })
    }

    /// Adds a note.
    pub fn add_journal_note(
        &self,
        id: &DocumentId,
        title: &str,
        body: &str,
    ) -> Result<ItemId, Error> {
        rules::short_text("title", title)?;
        rules::long_text("body", body)?;
        self.edit(id, KIND, "add journal note", |tx, ctx| {
            journal::add_note(tx, ctx, title, body)
        })
    }

    /// Changes a note's title and body; the body by the smallest splice.
    pub fn update_journal_note(
        &self,
        id: &DocumentId,
        note: &ItemId,
        title: &str,
        body: &str,
    ) -> Result<(), Error> {
        rules::short_text("title", title)?;
        rules::long_text("body", body)?;
        self.edit(id, KIND, "update journal note", |tx, _| {
            journal::update_note(tx, note, title, body)
        })
    }

    /// Removes a note.
    pub fn remove_journal_note(&self, id: &DocumentId, note: &ItemId) -> Result<(), Error> {
        self.edit(id, KIND, "remove journal note", |tx, _| {
            journal::remove_note(tx, note)
        })
    }
}
