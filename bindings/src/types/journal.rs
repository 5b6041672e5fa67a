//! The young person's journal: check-ins and notes.

use std::time::SystemTime;

use lynchpin_core as lc;

use super::{all, timestamp};

/// A check-in, as given to add or update one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CheckInDetails {
    /// Mood, 0 (worst) to 10 (best).
    pub mood: u8,
    /// Feelings named.
    pub feelings: Vec<String>,
    /// A short note.
    pub note: String,
}

impl From<lc::CheckInDetails> for CheckInDetails {
    fn from(d: lc::CheckInDetails) -> Self {
        Self {
            mood: d.mood,
            feelings: d.feelings,
            note: d.note,
        }
    }
}

impl From<CheckInDetails> for lc::CheckInDetails {
    fn from(d: CheckInDetails) -> Self {
        Self {
            mood: d.mood,
            feelings: d.feelings,
            note: d.note,
        }
    }
}

/// A check-in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CheckIn {
    /// The check-in's id.
    pub id: String,
    /// When.
    pub at: Option<SystemTime>,
    /// Mood, feelings and note.
    pub details: CheckInDetails,
}

impl From<lc::CheckIn> for CheckIn {
    fn from(c: lc::CheckIn) -> Self {
        Self {
            id: c.id.to_string(),
            at: c.at.map(timestamp),
            details: c.details.into(),
        }
    }
}

/// A journal note.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JournalNote {
    /// The note's id.
    pub id: String,
    /// When.
    pub at: Option<SystemTime>,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
}

impl From<lc::JournalNote> for JournalNote {
    fn from(n: lc::JournalNote) -> Self {
        Self {
            id: n.id.to_string(),
            at: n.at.map(timestamp),
            title: n.title,
            body: n.body,
        }
    }
}

/// A journal: private to the young person unless they share it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Journal {
    /// The document id.
    pub id: String,
    /// Check-ins, oldest first.
    pub check_ins: Vec<CheckIn>,
    /// Notes, oldest first.
    pub notes: Vec<JournalNote>,
}

impl From<lc::Journal> for Journal {
    fn from(j: lc::Journal) -> Self {
        Self {
            id: j.id.to_string(),
            check_ins: all(j.check_ins),
            notes: all(j.notes),
        }
    }
}
