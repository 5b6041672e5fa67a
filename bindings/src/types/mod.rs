//! The records and enums the bindings expose: thin mirrors of the core's
//! domain types, converted with `From` (read models) and `TryFrom` (what an
//! app passes in, whose ids and dates are checked on the way).
//!
//! Ids cross the boundary as text (UUIDs; a device id is 64 hex digits),
//! calendar dates as ISO 8601 text (`2025-03-01`), moments as timestamps.
//! One file per document kind, as in the core's `model`.

mod care_plan;
mod directory;
mod endorsements;
mod enums;
mod journal;
mod safety_plan;
mod store;

pub use care_plan::*;
pub use directory::*;
pub use endorsements::*;
pub use enums::*;
pub use journal::*;
pub use safety_plan::*;
pub use store::*;

use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};
use lynchpin_core as lc;

use crate::LynchpinError;

/// Parses a document id given as `field`.
pub(crate) fn document_id(field: &str, text: &str) -> Result<lc::DocumentId, LynchpinError> {
    text.parse()
        .map_err(|_| LynchpinError::invalid(field, "must be a document id (a UUID)"))
}

/// Parses an item id given as `field`.
pub(crate) fn item_id(field: &str, text: &str) -> Result<lc::ItemId, LynchpinError> {
    text.parse()
        .map_err(|_| LynchpinError::invalid(field, "must be an item id (a UUID)"))
}

/// Parses a device id (64 hex digits) given as `field`.
pub(crate) fn device_id(field: &str, text: &str) -> Result<lc::DeviceId, LynchpinError> {
    lc::DeviceId::parse(text)
        .ok_or_else(|| LynchpinError::invalid(field, "must be a device id (64 hex digits)"))
}

/// Parses a calendar date (`YYYY-MM-DD`) given as `field`.
pub(crate) fn date(field: &str, text: &str) -> Result<NaiveDate, LynchpinError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| LynchpinError::invalid(field, "must be a date (YYYY-MM-DD)"))
}

/// Parses an optional calendar date.
pub(crate) fn optional_date(
    field: &str,
    text: &Option<String>,
) -> Result<Option<NaiveDate>, LynchpinError> {
    text.as_deref().map(|t| date(field, t)).transpose()
}

/// A calendar date as ISO 8601 text.
pub(crate) fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A moment as a timestamp.
pub(crate) fn timestamp(at: DateTime<Utc>) -> SystemTime {
    at.into()
}

/// Converts every element.
pub(crate) fn all<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_dates_name_the_field() {
        let parsed = date("next_review", "2025-03-01").unwrap();
        assert_eq!(date_text(parsed), "2025-03-01");
        for bad in ["", "2025-02-30", "01/03/2025", "2025-3-1x"] {
            match date("next_review", bad) {
                Err(LynchpinError::InvalidInput { field, .. }) => assert_eq!(field, "next_review"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_ids_are_invalid_input() {
        assert!(matches!(
            document_id("plan", "not-an-id"),
            Err(LynchpinError::InvalidInput { .. })
        ));
        assert!(matches!(
            device_id("device", "abc"),
            Err(LynchpinError::InvalidInput { .. })
        ));
    }
}
