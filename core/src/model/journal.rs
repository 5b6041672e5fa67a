//! The young person's journal: check-ins and notes. A journal is its own
//! document so that it can stay private while the care plan is shared.

use chrono::{DateTime, Utc};

use crate::{DocumentId, ItemId};

/// A journal as the device holds it now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Journal {
    /// The journal's document id.
    pub id: DocumentId,
    /// Check-ins, oldest first.
    pub check_ins: Vec<CheckIn>,
    /// Notes, oldest first.
    pub notes: Vec<JournalNote>,
}

/// What a caller records in a check-in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckInDetails {
    /// How they feel overall, 0 (worst) to 10 (best).
    pub mood: u8,
    /// Words for how they feel.
    pub feelings: Vec<String>,
    /// A short note.
    pub note: String,
}

/// A check-in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckIn {
    /// The check-in's id.
    pub id: ItemId,
    /// When it was made.
    pub at: Option<DateTime<Utc>>,
    /// What was recorded.
    pub details: CheckInDetails,
}

/// A free-text note, merged by character if edited on two devices.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JournalNote {
    /// The note's id.
    pub id: ItemId,
    /// When it was started.
    pub at: Option<DateTime<Utc>>,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
}
