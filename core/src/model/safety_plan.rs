//! The safety plan: the Stanley–Brown steps, reasons for living, crisis
//! contacts and the "I need help" code word.
//!
//! Items are never deleted outright: removing one marks it removed, so a
//! concurrent edit on another device is not lost with it.

use chrono::{DateTime, NaiveDate, Utc};

use super::coded_enum;
use crate::{DeviceId, ItemId};

coded_enum! {
    /// The ordered lists of a safety plan: the six steps and reasons for living.
    pub enum SafetyList {
        /// Step 1: warning signs.
        WarningSigns = "warning-signs",
        /// Step 2: my own ways of coping.
        CopingStrategies = "coping-strategies",
        /// Step 3: people and places that take my mind off things.
        Distractions = "distractions",
        /// Step 4: people I can ask for help.
        PeopleToAsk = "people-to-ask",
        /// Step 5: professionals and services (crisis contacts are kept apart).
        Professionals = "professionals",
        /// Step 6: making my surroundings safe.
        SafeSurroundings = "safe-surroundings",
        /// Reasons for living.
        ReasonsForLiving = "reasons-for-living",
    }
}

/// One entry in a safety-plan list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SafetyItem {
    /// The item's id.
    pub id: ItemId,
    /// The item's text; if devices wrote it concurrently, one of the values
    /// (see [`Store::conflicts`](crate::Store::conflicts) for all of them).
    pub text: String,
    /// The device that added it.
    pub added_by: Option<DeviceId>,
    /// When it was added.
    pub added_at: Option<DateTime<Utc>>,
}

/// What a caller sets on a crisis contact.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrisisContactDetails {
    /// The service or person.
    pub name: String,
    /// A number to call.
    pub phone: Option<String>,
    /// A number to text.
    pub text_number: Option<String>,
    /// When it answers ("24/7", "Mon–Fri 9–5").
    pub hours: String,
    /// Where it serves.
    pub region: String,
    /// When the details were last checked.
    pub last_checked: Option<NaiveDate>,
}

/// A crisis contact in step 5 of the safety plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrisisContact {
    /// The contact's id.
    pub id: ItemId,
    /// What is recorded about it.
    pub details: CrisisContactDetails,
    /// The device that added it.
    pub added_by: Option<DeviceId>,
    /// When it was added.
    pub added_at: Option<DateTime<Utc>>,
}

/// A safety plan, always readable offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SafetyPlan {
    /// Step 1.
    pub warning_signs: Vec<SafetyItem>,
    /// Step 2.
    pub coping_strategies: Vec<SafetyItem>,
    /// Step 3.
    pub distractions: Vec<SafetyItem>,
    /// Step 4.
    pub people_to_ask: Vec<SafetyItem>,
    /// Step 5 (besides the crisis contacts).
    pub professionals: Vec<SafetyItem>,
    /// Step 5: crisis contacts.
    pub crisis_contacts: Vec<CrisisContact>,
    /// Step 6.
    pub safe_surroundings: Vec<SafetyItem>,
    /// Reasons for living.
    pub reasons_for_living: Vec<SafetyItem>,
    /// The agreed "I need help" code word.
    pub code_word: Option<String>,
    /// Whether any field has concurrent values waiting to be resolved.
    pub has_conflicts: bool,
}

impl SafetyPlan {
    /// The items of one list.
    pub fn list(&self, list: SafetyList) -> &[SafetyItem] {
        match list {
            SafetyList::WarningSigns => &self.warning_signs,
            SafetyList::CopingStrategies => &self.coping_strategies,
            SafetyList::Distractions => &self.distractions,
            SafetyList::PeopleToAsk => &self.people_to_ask,
            SafetyList::Professionals => &self.professionals,
            SafetyList::SafeSurroundings => &self.safe_surroundings,
            SafetyList::ReasonsForLiving => &self.reasons_for_living,
        }
    }

    pub(crate) fn list_mut(&mut self, list: SafetyList) -> &mut Vec<SafetyItem> {
        match list {
            SafetyList::WarningSigns => &mut self.warning_signs,
            SafetyList::CopingStrategies => &mut self.coping_strategies,
            SafetyList::Distractions => &mut self.distractions,
            SafetyList::PeopleToAsk => &mut self.people_to_ask,
            SafetyList::Professionals => &mut self.professionals,
            SafetyList::SafeSurroundings => &mut self.safe_surroundings,
            SafetyList::ReasonsForLiving => &mut self.reasons_for_living,
        }
    }
}

/// A crisis-contact field that can hold concurrent values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ContactField {
    /// [`CrisisContactDetails::name`].
    Name,
    /// [`CrisisContactDetails::phone`].
    Phone,
    /// [`CrisisContactDetails::text_number`].
    TextNumber,
    /// [`CrisisContactDetails::hours`].
    Hours,
    /// [`CrisisContactDetails::region`].
    Region,
    /// [`CrisisContactDetails::last_checked`].
    LastChecked,
}

impl ContactField {
    /// Every field, in display order.
    pub const ALL: &'static [ContactField] = &[
        Self::Name,
        Self::Phone,
        Self::TextNumber,
        Self::Hours,
        Self::Region,
        Self::LastChecked,
    ];
}

/// A safety-critical field that devices wrote concurrently.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ConflictField {
    /// The text of a safety-plan item.
    SafetyItem {
        /// The list the item is in.
        list: SafetyList,
        /// The item.
        item: ItemId,
    },
    /// A field of a crisis contact.
    CrisisContact {
        /// The contact.
        contact: ItemId,
        /// The field.
        field: ContactField,
    },
    /// The "I need help" code word.
    CodeWord,
}

/// One of the concurrent values of a field, with the device that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConflictValue {
    /// The value (`None` where a device cleared the field).
    pub value: Option<String>,
    /// The device that wrote it.
    pub author: Option<DeviceId>,
}

/// A field with more than one current value. Every value stays visible until
/// someone resolves it with [`Store::resolve_conflict`](crate::Store::resolve_conflict).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// Which field.
    pub field: ConflictField,
    /// Its concurrent values; the one the plan shows meanwhile is first.
    pub values: Vec<ConflictValue>,
}
