//! The rules input must keep before it is written: one `validate` per
//! `…Details` type, plus checks for single values.

use super::{
    ActivityDetails, CarePlanDetails, CheckInDetails, CrisisContactDetails, GoalDetails,
    MeetingDetails, ResourceDetails, TeamMemberDetails,
};
use crate::{
    error::{InvalidInput, Problem},
    validate::{self as v, MAX_LIST, MAX_LONG_TEXT, MAX_SHORT_TEXT, MAX_TEXT},
};

type Result = std::result::Result<(), InvalidInput>;

impl CarePlanDetails {
    pub(crate) fn validate(&self) -> Result {
        v::required("subject_name", &self.subject_name, MAX_SHORT_TEXT)?;
        v::opt_date("period_start", self.period_start)?;
        v::opt_date("period_end", self.period_end)?;
        v::opt_date("next_review", self.next_review)?;
        v::ordered_dates("period_end", self.period_start, self.period_end)
    }
}

impl TeamMemberDetails {
    pub(crate) fn validate(&self) -> Result {
        v::required("display_name", &self.display_name, MAX_SHORT_TEXT)?;
        v::opt_date("since", self.since)?;
        v::opt_date("until", self.until)?;
        v::ordered_dates("until", self.since, self.until)
    }
}

impl GoalDetails {
    pub(crate) fn validate(&self) -> Result {
        v::required_multiline("description", &self.description, MAX_TEXT)?;
        v::optional("expressed_by", &self.expressed_by, MAX_SHORT_TEXT)?;
        v::opt_date("target_date", self.target_date)
    }
}

/// A goal score is 0–10.
pub(crate) fn score(value: u8) -> Result {
    v::range("score", value.into(), 0, 10)
}

impl ActivityDetails {
    pub(crate) fn validate(&self) -> Result {
        v::required_multiline("description", &self.description, MAX_TEXT)?;
        v::optional("performer", &self.performer, MAX_SHORT_TEXT)?;
        v::opt_date("scheduled", self.scheduled)
    }
}

impl MeetingDetails {
    pub(crate) fn validate(&self) -> Result {
        v::date("date", self.date)?;
        v::list("attendees", &self.attendees, MAX_SHORT_TEXT)
    }
}

/// Meeting notes, "my voice" and journal note bodies.
pub(crate) fn long_text(field: &'static str, value: &str) -> Result {
    v::free_text(field, value, MAX_LONG_TEXT)
}

/// A safety-plan item, decision, signpost reason or other short paragraph.
pub(crate) fn item_text(field: &'static str, value: &str) -> Result {
    v::required_multiline(field, value, MAX_TEXT)
}

/// A name, title or other one-line field.
pub(crate) fn short_text(field: &'static str, value: &str) -> Result {
    v::required(field, value, MAX_SHORT_TEXT)
}

/// The code word: one line, at most 50 characters.
pub(crate) fn code_word(value: &str) -> Result {
    v::required("code_word", value, 50)
}

impl CrisisContactDetails {
    pub(crate) fn validate(&self) -> Result {
        v::required("name", &self.name, MAX_SHORT_TEXT)?;
        if let Some(phone) = &self.phone {
            v::phone("phone", phone)?;
        }
        if let Some(number) = &self.text_number {
            v::phone("text_number", number)?;
        }
        if self.phone.is_none() && self.text_number.is_none() {
            return Err(InvalidInput::new(
                "phone",
                Problem::Inconsistent {
                    rule: "a crisis contact needs a phone or a text number",
                },
            ));
        }
        v::optional("hours", &self.hours, MAX_SHORT_TEXT)?;
        v::optional("region", &self.region, MAX_SHORT_TEXT)?;
        v::opt_date("last_checked", self.last_checked)
    }
}

impl CheckInDetails {
    pub(crate) fn validate(&self) -> Result {
        v::range("mood", self.mood.into(), 0, 10)?;
        v::list("feelings", &self.feelings, MAX_SHORT_TEXT)?;
        v::free_text("note", &self.note, MAX_TEXT)
    }
}

impl ResourceDetails {
    pub(crate) fn validate(&self) -> Result {
        v::required("name", &self.name, MAX_SHORT_TEXT)?;
        v::free_text("description", &self.description, MAX_TEXT)?;
        v::optional("organisation", &self.organisation, MAX_SHORT_TEXT)?;
        if self.thrive.len() > MAX_LIST {
            return Err(InvalidInput::new(
                "thrive",
                Problem::TooMany { max: MAX_LIST },
            ));
        }
        if let Some(min) = self.min_age {
            v::range("min_age", min.into(), 0, 120)?;
        }
        if let Some(max) = self.max_age {
            v::range("max_age", max.into(), 0, 120)?;
        }
        if let (Some(min), Some(max)) = (self.min_age, self.max_age)
            && max < min
        {
            return Err(InvalidInput::new(
                "max_age",
                Problem::Inconsistent {
                    rule: "the maximum age must not be below the minimum",
                },
            ));
        }
        v::list("regions", &self.regions, MAX_SHORT_TEXT)?;
        v::list("languages", &self.languages, MAX_SHORT_TEXT)?;
        v::phones("phones", &self.contact.phones)?;
        v::phones("text_numbers", &self.contact.text_numbers)?;
        if let Some(email) = &self.contact.email {
            v::email("email", email)?;
        }
        if let Some(url) = &self.contact.url {
            v::url("url", url)?;
        }
        v::optional("opening_hours", &self.opening_hours, MAX_SHORT_TEXT)?;
        if let Some(score) = self.assessment.orcha_score {
            v::range("orcha_score", score.into(), 0, 100)?;
        }
        v::opt_date("orcha_date", self.assessment.orcha_date)?;
        if let Some(tier) = &self.assessment.nice_tier {
            v::required("nice_tier", tier, 20)?;
        }
        v::opt_date("last_checked", self.last_checked)?;
        v::optional("checked_by", &self.checked_by, MAX_SHORT_TEXT)?;
        v::opt_date("review_due", self.review_due)
    }
}
