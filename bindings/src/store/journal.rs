//! Journal calls.

use super::{Result, Store, item};
use crate::types::{CheckInDetails, Journal};

#[uniffi::export]
impl Store {
    /// Creates a journal, private to this device until shared.
    pub fn create_journal(&self) -> Result<String> {
        Ok(self.inner.create_journal()?.to_string())
    }

    /// A journal.
    pub fn journal(&self, journal: String) -> Result<Journal> {
        Ok(self.inner.journal(&Self::doc(&journal)?)?.into())
    }

    /// Adds a check-in; returns its id.
    pub fn add_check_in(&self, journal: String, details: CheckInDetails) -> Result<String> {
        let id = self
            .inner
            .add_check_in(&Self::doc(&journal)?, &details.into())?;
        Ok(id.to_string())
    }

    /// Changes a check-in.
    pub fn update_check_in(
        &self,
        journal: String,
        check_in: String,
        details: CheckInDetails,
    ) -> Result<()> {
        Ok(self.inner.update_check_in(
            &Self::doc(&journal)?,
            &item("check_in", &check_in)?,
            &details.into(),
        )?)
    }

    /// Removes a check-in.
    pub fn remove_check_in(&self, journal: String, check_in: String) -> Result<()> {
        Ok(self
            .inner
            .remove_check_in(&Self::doc(&journal)?, &item("check_in", &check_in)?)?)
    }

    /// Adds a note; returns its id.
    pub fn add_journal_note(&self, journal: String, title: String, body: String) -> Result<String> {
        let id = self
            .inner
            .add_journal_note(&Self::doc(&journal)?, &title, &body)?;
        Ok(id.to_string())
    }

    /// Changes a note.
    pub fn update_journal_note(
        &self,
        journal: String,
        note: String,
        title: String,
        body: String,
    ) -> Result<()> {
        Ok(self.inner.update_journal_note(
            &Self::doc(&journal)?,
            &item("note", &note)?,
            &title,
            &body,
        )?)
    }

    /// Removes a note.
    pub fn remove_journal_note(&self, journal: String, note: String) -> Result<()> {
        Ok(self
            .inner
            .remove_journal_note(&Self::doc(&journal)?, &item("note", &note)?)?)
    }
}
