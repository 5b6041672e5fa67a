//! Safety plan calls, and the conflicts of its safety-critical fields.

use super::{Result, Store, item};
use crate::types::{Conflict, ConflictField, CrisisContactDetails, SafetyList, SafetyPlan, all};

#[uniffi::export]
impl Store {
    /// A care plan's safety plan (cheaper than the whole plan).
    pub fn safety_plan(&self, plan: String) -> Result<SafetyPlan> {
        Ok(self.inner.safety_plan(&Self::doc(&plan)?)?.into())
    }

    /// Adds an item to a safety-plan list; returns its id.
    pub fn add_safety_item(&self, plan: String, list: SafetyList, text: String) -> Result<String> {
        let id = self
            .inner
            .add_safety_item(&Self::doc(&plan)?, list.into(), &text)?;
        Ok(id.to_string())
    }

    /// Changes a safety-plan item's text.
    pub fn update_safety_item(&self, plan: String, item_id: String, text: String) -> Result<()> {
        Ok(self
            .inner
            .update_safety_item(&Self::doc(&plan)?, &item("item", &item_id)?, &text)?)
    }

    /// Removes a safety-plan item (it can be restored).
    pub fn remove_safety_item(&self, plan: String, item_id: String) -> Result<()> {
        Ok(self
            .inner
            .remove_safety_item(&Self::doc(&plan)?, &item("item", &item_id)?)?)
    }

    /// Restores a removed safety-plan item.
    pub fn restore_safety_item(&self, plan: String, item_id: String) -> Result<()> {
        Ok(self
            .inner
            .restore_safety_item(&Self::doc(&plan)?, &item("item", &item_id)?)?)
    }

    /// Sets (or, with `null`/`None`, clears) the "I need help" code word.
    pub fn set_code_word(&self, plan: String, word: Option<String>) -> Result<()> {
        Ok(self
            .inner
            .set_code_word(&Self::doc(&plan)?, word.as_deref())?)
    }

    /// Adds a crisis contact; returns its id.
    pub fn add_crisis_contact(
        &self,
        plan: String,
        details: CrisisContactDetails,
    ) -> Result<String> {
        let id = self
            .inner
            .add_crisis_contact(&Self::doc(&plan)?, &details.try_into()?)?;
        Ok(id.to_string())
    }

    /// Changes a crisis contact (only the fields that differ are written).
    pub fn update_crisis_contact(
        &self,
        plan: String,
        contact: String,
        details: CrisisContactDetails,
    ) -> Result<()> {
        Ok(self.inner.update_crisis_contact(
            &Self::doc(&plan)?,
            &item("contact", &contact)?,
            &details.try_into()?,
        )?)
    }

    /// Removes a crisis contact.
    pub fn remove_crisis_contact(&self, plan: String, contact: String) -> Result<()> {
        Ok(self
            .inner
            .remove_crisis_contact(&Self::doc(&plan)?, &item("contact", &contact)?)?)
    }

    /// The safety-critical fields that concurrent edits gave several
    /// values, each with every value and its author. Show them all; then
    /// `resolve_conflict`.
    pub fn conflicts(&self, plan: String) -> Result<Vec<Conflict>> {
        Ok(all(self.inner.conflicts(&Self::doc(&plan)?)?))
    }

    /// Settles a conflict with the value a person chose (`null`/`None`
    /// clears an optional field).
    pub fn resolve_conflict(
        &self,
        plan: String,
        field: ConflictField,
        value: Option<String>,
    ) -> Result<()> {
        Ok(self
            .inner
            .resolve_conflict(&Self::doc(&plan)?, &field.try_into()?, value.as_deref())?)
    }
}
