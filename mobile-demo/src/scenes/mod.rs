//! The week, one function per scene, in the order `main` plays them:
//! `appointment.rs` (Monday), `signposting.rs` (Tuesday's directory and
//! endorsements, and Friday's edit of an endorsed helpline), `offline.rs` (Tuesday evening to Thursday) and
//! `review.rs` (Friday). This file holds what they share: the days, the
//! crisis line's numbers, and what a scene hands on to later ones.
//!
//! Each scene makes real calls on the devices' stores and syncs through the
//! real relay; the timeline only prints what they did. What a scene creates
//! that later scenes need is returned in [`Records`] or [`Signposted`].

mod appointment;
mod offline;
mod review;
mod signposting;

use std::error::Error;

use chrono::NaiveDate;
use lynchpin_core::{CrisisContactDetails, DocumentId, ItemId, ResourceRef};

pub use self::{
    appointment::first_appointment,
    offline::{before_the_review, concurrent_safety_edits, offline_evening},
    review::{back_online, review_meeting},
    signposting::{endorse_and_signpost, endorsed_helpline_edited, publish_directory},
};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The days of the week the story covers (Monday 23 November 2026 onwards).
pub mod day {
    use chrono::NaiveDate;

    fn november(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap_or_default()
    }

    /// Monday: the first appointment.
    pub fn monday() -> NaiveDate {
        november(23)
    }
    /// Tuesday.
    pub fn tuesday() -> NaiveDate {
        november(24)
    }
    /// Wednesday.
    pub fn wednesday() -> NaiveDate {
        november(25)
    }
    /// Thursday.
    pub fn thursday() -> NaiveDate {
        november(26)
    }
    /// Friday: the review meeting.
    pub fn friday() -> NaiveDate {
        november(27)
    }
    /// Saturday.
    pub fn saturday() -> NaiveDate {
        november(28)
    }
}

/// The crisis line in Alex's safety plan, as set up on Monday.
pub(crate) const CRISIS_LINE: &str = "Testford CAMHS crisis line (fictional)";
pub(crate) const CRISIS_NUMBER_MONDAY: &str = "01632 960100";
/// The number the coordinator is given on Wednesday.
pub(crate) const CRISIS_NUMBER_COORDINATOR: &str = "01632 960111";
/// The number the psychologist is given on Wednesday: the right one.
pub(crate) const CRISIS_NUMBER_PSYCHOLOGIST: &str = "01632 960155";

/// What Monday's scene creates.
pub struct Records {
    /// Alex's care plan.
    pub plan: DocumentId,
    /// The crisis line in its safety plan.
    pub crisis_line: ItemId,
    /// Alex's goal.
    pub goal: ItemId,
    /// Friday's review meeting.
    pub review: ItemId,
    /// Alex's journal, on Alex's phone only.
    pub journal: DocumentId,
}

/// The organisation that certifies clinicians and that every device's app
/// trusts.
pub const ORGANISATION: &str = "Example NHS Foundation Trust (fictional)";

/// What the endorsement scene creates.
pub struct Signposted {
    /// The resources endorsed and signposted in the plan, in the region's
    /// directory: the peer group and the parents' course.
    pub resources: Vec<ResourceRef>,
    /// The endorsed helpline (not signposted), edited on Friday.
    pub helpline: ResourceRef,
    /// The plan's signposts of `resources`, in the same order.
    pub signposts: Vec<ItemId>,
}

pub(crate) fn crisis_line(number: &str, checked: NaiveDate) -> CrisisContactDetails {
    CrisisContactDetails {
        name: CRISIS_LINE.into(),
        phone: Some(number.into()),
        text_number: None,
        hours: "24/7".into(),
        region: "Testford".into(),
        last_checked: Some(checked),
    }
}
