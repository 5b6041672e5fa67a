//! The safety plan, its crisis contacts and its conflicts.

use std::time::SystemTime;

use lynchpin_core as lc;

use super::{ContactField, SafetyList, all, date_text, item_id, optional_date, timestamp};
use crate::LynchpinError;

/// One entry of a safety-plan list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SafetyItem {
    /// The item's id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// The device that added it.
    pub added_by: Option<String>,
    /// When.
    pub added_at: Option<SystemTime>,
}

impl From<lc::SafetyItem> for SafetyItem {
    fn from(i: lc::SafetyItem) -> Self {
        Self {
            id: i.id.to_string(),
            text: i.text,
            added_by: i.added_by.map(|d| d.to_string()),
            added_at: i.added_at.map(timestamp),
        }
    }
}

/// A crisis contact, as given to add or update one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CrisisContactDetails {
    /// Name of the person or service.
    pub name: String,
    /// Phone number.
    #[uniffi(default = None)]
    pub phone: Option<String>,
    /// Number to text.
    #[uniffi(default = None)]
    pub text_number: Option<String>,
    /// When they can be reached.
    pub hours: String,
    /// Where the service works.
    pub region: String,
    /// When the details were last checked (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub last_checked: Option<String>,
}

impl From<lc::CrisisContactDetails> for CrisisContactDetails {
    fn from(d: lc::CrisisContactDetails) -> Self {
        Self {
            name: d.name,
            phone: d.phone,
            text_number: d.text_number,
            hours: d.hours,
            region: d.region,
            last_checked: d.last_checked.map(date_text),
        }
    }
}

impl TryFrom<CrisisContactDetails> for lc::CrisisContactDetails {
    type Error = LynchpinError;

    fn try_from(d: CrisisContactDetails) -> Result<Self, Self::Error> {
        Ok(Self {
            last_checked: optional_date("last_checked", &d.last_checked)?,
            name: d.name,
            phone: d.phone,
            text_number: d.text_number,
            hours: d.hours,
            region: d.region,
        })
    }
}

/// A crisis contact of the safety plan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CrisisContact {
    /// The contact's id.
    pub id: String,
    /// Who and how to reach them.
    pub details: CrisisContactDetails,
    /// The device that added it.
    pub added_by: Option<String>,
    /// When.
    pub added_at: Option<SystemTime>,
}

impl From<lc::CrisisContact> for CrisisContact {
    fn from(c: lc::CrisisContact) -> Self {
        Self {
            id: c.id.to_string(),
            details: c.details.into(),
            added_by: c.added_by.map(|d| d.to_string()),
            added_at: c.added_at.map(timestamp),
        }
    }
}

/// The safety plan (Stanley–Brown steps, reasons for living, crisis
/// contacts and the "I need help" code word).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SafetyPlan {
    /// Signs that a crisis may be coming.
    pub warning_signs: Vec<SafetyItem>,
    /// Things to do on one's own.
    pub coping_strategies: Vec<SafetyItem>,
    /// People and places that distract.
    pub distractions: Vec<SafetyItem>,
    /// People to ask for help.
    pub people_to_ask: Vec<SafetyItem>,
    /// Professionals to contact.
    pub professionals: Vec<SafetyItem>,
    /// Crisis lines and services.
    pub crisis_contacts: Vec<CrisisContact>,
    /// Making the surroundings safe.
    pub safe_surroundings: Vec<SafetyItem>,
    /// Reasons for living.
    pub reasons_for_living: Vec<SafetyItem>,
    /// The code word that means "I need help now".
    pub code_word: Option<String>,
    /// Whether concurrent edits await resolution (see `conflicts`).
    pub has_conflicts: bool,
}

impl From<lc::SafetyPlan> for SafetyPlan {
    fn from(p: lc::SafetyPlan) -> Self {
        Self {
            warning_signs: all(p.warning_signs),
            coping_strategies: all(p.coping_strategies),
            distractions: all(p.distractions),
            people_to_ask: all(p.people_to_ask),
            professionals: all(p.professionals),
            crisis_contacts: all(p.crisis_contacts),
            safe_surroundings: all(p.safe_surroundings),
            reasons_for_living: all(p.reasons_for_living),
            code_word: p.code_word,
            has_conflicts: p.has_conflicts,
        }
    }
}

/// A safety-critical field that concurrent edits gave several values.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ConflictField {
    /// The text of a safety-plan item.
    SafetyItem {
        /// Its list.
        list: SafetyList,
        /// The item's id.
        item: String,
    },
    /// A field of a crisis contact.
    CrisisContact {
        /// The contact's id.
        contact: String,
        /// The field.
        field: ContactField,
    },
    /// The code word.
    CodeWord,
}

impl From<lc::ConflictField> for ConflictField {
    fn from(f: lc::ConflictField) -> Self {
        match f {
            lc::ConflictField::SafetyItem { list, item } => Self::SafetyItem {
                list: list.into(),
                item: item.to_string(),
            },
            lc::ConflictField::CrisisContact { contact, field } => Self::CrisisContact {
                contact: contact.to_string(),
                field: field.into(),
            },
            lc::ConflictField::CodeWord => Self::CodeWord,
        }
    }
}

impl TryFrom<ConflictField> for lc::ConflictField {
    type Error = LynchpinError;

    fn try_from(f: ConflictField) -> Result<Self, Self::Error> {
        Ok(match f {
            ConflictField::SafetyItem { list, item } => Self::SafetyItem {
                list: list.into(),
                item: item_id("item", &item)?,
            },
            ConflictField::CrisisContact { contact, field } => Self::CrisisContact {
                contact: item_id("contact", &contact)?,
                field: field.into(),
            },
            ConflictField::CodeWord => Self::CodeWord,
        })
    }
}

/// One of the values a conflicting field holds, with its author.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConflictValue {
    /// The value (`None`: the field was cleared).
    pub value: Option<String>,
    /// The device that wrote it.
    pub author: Option<String>,
}

impl From<lc::ConflictValue> for ConflictValue {
    fn from(v: lc::ConflictValue) -> Self {
        Self {
            value: v.value,
            author: v.author.map(|d| d.to_string()),
        }
    }
}

/// A safety-critical field with every concurrent value, none hidden.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Conflict {
    /// The field.
    pub field: ConflictField,
    /// Every value, with its author.
    pub values: Vec<ConflictValue>,
}

impl From<lc::Conflict> for Conflict {
    fn from(c: lc::Conflict) -> Self {
        Self {
            field: c.field.into(),
            values: all(c.values),
        }
    }
}
