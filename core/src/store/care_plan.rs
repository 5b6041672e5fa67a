//! Care-plan operations on the store: the plan, its team, goals,
//! activities, meetings, signposts, safety plan and conflicts.
//!
//! Each call validates its input, then runs as one Automerge change that is
//! on disk when the call returns.

use chrono::NaiveDate;

use super::{Store, ViewRefresh};
use crate::{
    DocumentId, DocumentKind, Error, ItemId,
    doc::{care_plan, conflicts, safety_plan},
    model::{
        ActivityDetails, CarePlan, CarePlanDetails, Conflict, ConflictField, CrisisContactDetails,
        GoalDetails, MeetingDetails, MeetingText, ResourceRef, SafetyList, SafetyPlan,
        SignpostEvidence, SignpostFeedback, TeamMemberDetails, Thrive, rules,
    },
    validate,
};

const KIND: DocumentKind = DocumentKind::CarePlan;

impl Store {
    /// Creates a care plan with an empty team, safety plan and meeting list.
    pub fn create_care_plan(&self, details: &CarePlanDetails) -> Result<DocumentId, Error> {
        details.validate()?;
        self.create(KIND, |tx, _| care_plan::init(tx, details))
    }

    /// The whole care plan.
    pub fn care_plan(&self, plan: &DocumentId) -> Result<CarePlan, Error> {
        self.read(plan, KIND, |doc| care_plan::read(doc, *plan))
    }

    /// Updates the plan-level fields that differ from the stored ones.
    pub fn update_care_plan(
        &self,
        plan: &DocumentId,
        details: &CarePlanDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit(plan, KIND, "update care plan", |tx, _| {
            care_plan::set_details(tx, details)
        })
    }

    /// Records the plan's THRIVE grouping from a date; the history keeps every one.
    pub fn set_thrive(
        &self,
        plan: &DocumentId,
        grouping: Thrive,
        from: NaiveDate,
    ) -> Result<(), Error> {
        validate::date("from", from)?;
        self.edit(plan, KIND, "set thrive grouping", |tx, ctx| {
            care_plan::set_thrive(tx, ctx, grouping, from)
        })
    }

    /// Names the team member who coordinates care.
    pub fn set_coordinator(&self, plan: &DocumentId, member: &ItemId) -> Result<(), Error> {
        self.edit(plan, KIND, "set coordinator", |tx, _| {
            care_plan::set_coordinator(tx, member)
        })
    }

    /// Adds a member to the care team.
    pub fn add_team_member(
        &self,
        plan: &DocumentId,
        details: &TeamMemberDetails,
    ) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit(plan, KIND, "add team member", |tx, ctx| {
            care_plan::add_member(tx, ctx, details)
        })
    }

    /// Updates a team member's changed fields.
    pub fn update_team_member(
        &self,
        plan: &DocumentId,
        member: &ItemId,
        details: &TeamMemberDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit(plan, KIND, "update team member", |tx, _| {
            care_plan::update_member(tx, member, details)
        })
    }

    /// Removes a member from the care team.
    pub fn remove_team_member(&self, plan: &DocumentId, member: &ItemId) -> Result<(), Error> {
        self.edit(plan, KIND, "remove team member", |tx, _| {
            care_plan::remove_member(tx, member)
        })
    }

    /// Adds a goal.
    pub fn add_goal(&self, plan: &DocumentId, details: &GoalDetails) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit(plan, KIND, "add goal", |tx, ctx| {
            care_plan::add_goal(tx, ctx, details)
        })
    }

    /// Updates a goal's changed fields.
    pub fn update_goal(
        &self,
        plan: &DocumentId,
        goal: &ItemId,
        details: &GoalDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit(plan, KIND, "update goal", |tx, _| {
            care_plan::update_goal(tx, goal, details)
        })
    }

    /// Removes a goal.
    pub fn remove_goal(&self, plan: &DocumentId, goal: &ItemId) -> Result<(), Error> {
        self.edit(plan, KIND, "remove goal", |tx, _| {
            care_plan::remove_goal(tx, goal)
        })
    }

    /// Records a 0–10 score towards a goal on a date.
    pub fn record_goal_score(
        &self,
        plan: &DocumentId,
        goal: &ItemId,
        date: NaiveDate,
        score: u8,
    ) -> Result<(), Error> {
        rules::score(score)?;
        validate::date("date", date)?;
        self.edit(plan, KIND, "record goal score", |tx, ctx| {
            care_plan::record_score(tx, ctx, goal, date, score)
        })
    }

    /// Adds an activity.
    pub fn add_activity(
        &self,
        plan: &DocumentId,
        details: &ActivityDetails,
    ) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit(plan, KIND, "add activity", |tx, ctx| {
            care_plan::add_activity(tx, ctx, details)
        })
    }

    /// Updates an activity's changed fields.
    pub fn update_activity(
        &self,
        plan: &DocumentId,
        activity: &ItemId,
        details: &ActivityDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit(plan, KIND, "update activity", |tx, _| {
            care_plan::update_activity(tx, activity, details)
        })
    }

    /// Removes an activity.
    pub fn remove_activity(&self, plan: &DocumentId, activity: &ItemId) -> Result<(), Error> {
        self.edit(plan, KIND, "remove activity", |tx, _| {
            care_plan::remove_activity(tx, activity)
        })
    }

    /// Adds a review meeting.
    pub fn add_meeting(
        &self,
        plan: &DocumentId,
        details: &MeetingDetails,
    ) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit(plan, KIND, "add meeting", |tx, ctx| {
            care_plan::add_meeting(tx, ctx, details)
        })
    }

    /// Updates a meeting's date and attendees.
    pub fn update_meeting(
        &self,
        plan: &DocumentId,
        meeting: &ItemId,
        details: &MeetingDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit(plan, KIND, "update meeting", |tx, _| {
            care_plan::update_meeting(tx, meeting, details)
        })
    }

    /// Removes a meeting.
    pub fn remove_meeting(&self, plan: &DocumentId, meeting: &ItemId) -> Result<(), Error> {
        self.edit(plan, KIND, "remove meeting", |tx, _| {
            care_plan::remove_meeting(tx, meeting)
        })
    }

    /// Sets a meeting's "my voice" or notes to `text`. The stored text is
    /// changed by the smallest splice, so two people typing at once both keep
    /// their words.
    pub fn set_meeting_text(
        &self,
        plan: &DocumentId,
        meeting: &ItemId,
        which: MeetingText,
        text: &str,
    ) -> Result<(), Error> {
        rules::long_text(text_field(which), text)?;
        self.edit(plan, KIND, "edit meeting text", |tx, _| {
            care_plan::set_meeting_text(tx, meeting, which, text)
        })
    }

    /// Splices a meeting's text: deletes `delete` characters at `index`
    /// (counted in Unicode code points) and inserts `insert` there.
    pub fn splice_meeting_text(
        &self,
        plan: &DocumentId,
        meeting: &ItemId,
        which: MeetingText,
        index: usize,
        delete: usize,
        insert: &str,
    ) -> Result<(), Error> {
        rules::long_text(text_field(which), insert)?;
        self.edit(plan, KIND, "edit meeting text", |tx, _| {
            let current = care_plan::meeting_text_len(tx, meeting, which)?;
            let after = current.saturating_sub(delete) + insert.chars().count();
            if after > validate::MAX_LONG_TEXT {
                return Err(crate::InvalidInput::new(
                    text_field(which),
                    crate::Problem::TooLong {
                        max: validate::MAX_LONG_TEXT,
                    },
                )
                .into());
            }
            care_plan::splice_meeting_text(tx, meeting, which, index, delete, insert)
        })
    }

    /// Records a decision taken at a meeting.
    pub fn add_decision(
        &self,
        plan: &DocumentId,
        meeting: &ItemId,
        text: &str,
    ) -> Result<ItemId, Error> {
        rules::item_text("text", text)?;
        self.edit(plan, KIND, "add decision", |tx, ctx| {
            care_plan::add_decision(tx, ctx, meeting, text)
        })
    }

    /// Records an action from a meeting; it becomes an activity of the plan.
    pub fn add_meeting_action(
        &self,
        plan: &DocumentId,
        meeting: &ItemId,
        details: &ActivityDetails,
    ) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit(plan, KIND, "add meeting action", |tx, ctx| {
            care_plan::add_action(tx, ctx, meeting, details)
        })
    }

    /// Signposts a resource to the young person, with a reason.
    pub fn add_signpost(
        &self,
        plan: &DocumentId,
        resource: &ResourceRef,
        signposted_by: &str,
        reason: &str,
        date: NaiveDate,
    ) -> Result<ItemId, Error> {
        check_signpost(signposted_by, reason, date)?;
        self.insert_signpost(plan, resource, signposted_by, reason, date, None)
    }

    /// Adds a signpost whose fields [`check_signpost`] accepted.
    pub(super) fn insert_signpost(
        &self,
        plan: &DocumentId,
        resource: &ResourceRef,
        signposted_by: &str,
        reason: &str,
        date: NaiveDate,
        evidence: Option<&SignpostEvidence>,
    ) -> Result<ItemId, Error> {
        self.edit(plan, KIND, "add signpost", |tx, ctx| {
            care_plan::add_signpost(tx, ctx, resource, signposted_by, reason, date, evidence)
        })
    }

    /// Records the young person's feedback on a signposted resource.
    pub fn set_signpost_feedback(
        &self,
        plan: &DocumentId,
        signpost: &ItemId,
        feedback: SignpostFeedback,
    ) -> Result<(), Error> {
        self.edit(plan, KIND, "set signpost feedback", |tx, ctx| {
            care_plan::set_signpost_feedback(tx, ctx, signpost, feedback)
        })
    }

    /// Removes a signpost.
    pub fn remove_signpost(&self, plan: &DocumentId, signpost: &ItemId) -> Result<(), Error> {
        self.edit(plan, KIND, "remove signpost", |tx, _| {
            care_plan::remove_signpost(tx, signpost)
        })
    }

    /// The safety plan alone. On a cold start it comes from the stored view,
    /// without loading the whole care plan, so it shows at once.
    pub fn safety_plan(&self, plan: &DocumentId) -> Result<SafetyPlan, Error> {
        self.read_safety_plan(plan)
    }

    /// Appends an item to one of the safety plan's lists.
    pub fn add_safety_item(
        &self,
        plan: &DocumentId,
        list: SafetyList,
        text: &str,
    ) -> Result<ItemId, Error> {
        rules::item_text("text", text)?;
        self.edit_safety_append(plan, list, "add safety-plan item", |tx, ctx| {
            safety_plan::add_item(tx, ctx, list, text)
        })
    }

    /// Changes a safety-plan item's text.
    pub fn update_safety_item(
        &self,
        plan: &DocumentId,
        item: &ItemId,
        text: &str,
    ) -> Result<(), Error> {
        rules::item_text("text", text)?;
        let refresh = ViewRefresh::ItemText(item.clone(), text.to_owned());
        self.edit_safety_value(plan, "update safety-plan item", refresh, |tx, _| {
            safety_plan::update_item(tx, item, text)
        })
    }

    /// Removes a safety-plan item. It stays in the document, marked removed,
    /// and [`Store::restore_safety_item`] brings it back.
    pub fn remove_safety_item(&self, plan: &DocumentId, item: &ItemId) -> Result<(), Error> {
        self.edit_safety(plan, "remove safety-plan item", |tx, ctx| {
            safety_plan::remove_item(tx, ctx, item)
        })
    }

    /// Brings back a removed safety-plan item.
    pub fn restore_safety_item(&self, plan: &DocumentId, item: &ItemId) -> Result<(), Error> {
        self.edit_safety(plan, "restore safety-plan item", |tx, ctx| {
            safety_plan::restore_item(tx, ctx, item)
        })
    }

    /// Sets or clears the "I need help" code word.
    pub fn set_code_word(&self, plan: &DocumentId, word: Option<&str>) -> Result<(), Error> {
        if let Some(word) = word {
            rules::code_word(word)?;
        }
        let refresh = ViewRefresh::CodeWord(word.map(str::to_owned));
        self.edit_safety_value(plan, "set code word", refresh, |tx, _| {
            safety_plan::set_code_word(tx, word)
        })
    }

    /// Adds a crisis contact to step 5 of the safety plan.
    pub fn add_crisis_contact(
        &self,
        plan: &DocumentId,
        details: &CrisisContactDetails,
    ) -> Result<ItemId, Error> {
        details.validate()?;
        self.edit_safety(plan, "add crisis contact", |tx, ctx| {
            safety_plan::add_contact(tx, ctx, details)
        })
    }

    /// Updates a crisis contact's changed fields.
    pub fn update_crisis_contact(
        &self,
        plan: &DocumentId,
        contact: &ItemId,
        details: &CrisisContactDetails,
    ) -> Result<(), Error> {
        details.validate()?;
        self.edit_safety(plan, "update crisis contact", |tx, _| {
            safety_plan::update_contact(tx, contact, details)
        })
    }

    /// Removes a crisis contact (kept in the document, marked removed).
    pub fn remove_crisis_contact(&self, plan: &DocumentId, contact: &ItemId) -> Result<(), Error> {
        self.edit_safety(plan, "remove crisis contact", |tx, ctx| {
            safety_plan::remove_contact(tx, ctx, contact)
        })
    }

    /// Every safety-critical field that devices wrote concurrently, with each
    /// value and its author. Nothing is resolved until someone calls
    /// [`Store::resolve_conflict`].
    pub fn conflicts(&self, plan: &DocumentId) -> Result<Vec<Conflict>, Error> {
        self.read(plan, KIND, conflicts::safety_conflicts)
    }

    /// Resolves a conflict by choosing `value` (one of the concurrent values,
    /// or a new one); it replaces every concurrent value.
    pub fn resolve_conflict(
        &self,
        plan: &DocumentId,
        field: &ConflictField,
        value: Option<&str>,
    ) -> Result<(), Error> {
        validate_conflict_value(field, value)?;
        self.edit_safety(plan, "resolve conflict", |tx, _| {
            conflicts::resolve(tx, field, value)
        })
    }
}

fn text_field(which: MeetingText) -> &'static str {
    match which {
        MeetingText::MyVoice => "my_voice",
        MeetingText::Notes => "notes",
    }
}

fn validate_conflict_value(field: &ConflictField, value: Option<&str>) -> Result<(), Error> {
    use crate::model::ContactField;
    match (field, value) {
        (ConflictField::SafetyItem { .. }, Some(text)) => rules::item_text("text", text)?,
        (ConflictField::SafetyItem { .. }, None) => {
            return Err(crate::InvalidInput::new("text", crate::Problem::Empty).into());
        }
        (ConflictField::CodeWord, Some(word)) => rules::code_word(word)?,
        (ConflictField::CodeWord, None) => {}
        (ConflictField::CrisisContact { field, .. }, value) => match (field, value) {
            (ContactField::Name, Some(v)) => rules::short_text("name", v)?,
            (ContactField::Name, None) => {
                return Err(crate::InvalidInput::new("name", crate::Problem::Empty).into());
            }
            (ContactField::Phone, Some(v)) => validate::phone("phone", v)?,
            (ContactField::TextNumber, Some(v)) => validate::phone("text_number", v)?,
            (ContactField::Hours | ContactField::Region, Some(v)) => {
                validate::optional("value", v, validate::MAX_SHORT_TEXT)?;
            }
            (ContactField::LastChecked, Some(v)) => {
                let date: NaiveDate = v.parse().map_err(|_| {
                    crate::InvalidInput::new(
                        "last_checked",
                        crate::Problem::Format {
                            expected: "a date (YYYY-MM-DD)",
                        },
                    )
                })?;
                validate::date("last_checked", date)?;
            }
            (_, None) => {}
        },
    }
    Ok(())
}

/// Checks the fields of a new signpost.
pub(super) fn check_signpost(
    signposted_by: &str,
    reason: &str,
    date: NaiveDate,
) -> Result<(), Error> {
    rules::short_text("signposted_by", signposted_by)?;
    rules::item_text("reason", reason)?;
    validate::date("date", date)?;
    Ok(())
}
