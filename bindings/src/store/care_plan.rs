//! Care plan calls: details, THRIVE, team, goals, activities, meetings and
//! signposts. The safety plan's calls are in `safety_plan.rs`.

use super::{Result, Store, item};
use crate::types::{
    ActivityDetails, CarePlan, CarePlanDetails, GoalDetails, MeetingDetails, MeetingText,
    ResourceRef, SignpostFeedback, TeamMemberDetails, Thrive, date,
};

#[uniffi::export]
impl Store {
    /// Creates a care plan, owned by this device; returns its id.
    pub fn create_care_plan(&self, details: CarePlanDetails) -> Result<String> {
        Ok(self
            .inner
            .create_care_plan(&details.try_into()?)?
            .to_string())
    }

    /// A whole care plan.
    pub fn care_plan(&self, plan: String) -> Result<CarePlan> {
        Ok(self.inner.care_plan(&Self::doc(&plan)?)?.into())
    }

    /// Changes a plan's details (only the fields that differ are written).
    pub fn update_care_plan(&self, plan: String, details: CarePlanDetails) -> Result<()> {
        Ok(self
            .inner
            .update_care_plan(&Self::doc(&plan)?, &details.try_into()?)?)
    }

    /// Records the plan's THRIVE grouping from a date (`YYYY-MM-DD`).
    pub fn set_thrive(&self, plan: String, grouping: Thrive, from_date: String) -> Result<()> {
        Ok(self.inner.set_thrive(
            &Self::doc(&plan)?,
            grouping.into(),
            date("from_date", &from_date)?,
        )?)
    }

    /// Makes a team member the plan's care coordinator.
    pub fn set_coordinator(&self, plan: String, member: String) -> Result<()> {
        Ok(self
            .inner
            .set_coordinator(&Self::doc(&plan)?, &item("member", &member)?)?)
    }

    /// Adds a care-team member; returns their id.
    pub fn add_team_member(&self, plan: String, details: TeamMemberDetails) -> Result<String> {
        let id = self
            .inner
            .add_team_member(&Self::doc(&plan)?, &details.try_into()?)?;
        Ok(id.to_string())
    }

    /// Changes a care-team member.
    pub fn update_team_member(
        &self,
        plan: String,
        member: String,
        details: TeamMemberDetails,
    ) -> Result<()> {
        Ok(self.inner.update_team_member(
            &Self::doc(&plan)?,
            &item("member", &member)?,
            &details.try_into()?,
        )?)
    }

    /// Removes a care-team member.
    pub fn remove_team_member(&self, plan: String, member: String) -> Result<()> {
        Ok(self
            .inner
            .remove_team_member(&Self::doc(&plan)?, &item("member", &member)?)?)
    }

    /// Adds a goal; returns its id.
    pub fn add_goal(&self, plan: String, details: GoalDetails) -> Result<String> {
        let id = self
            .inner
            .add_goal(&Self::doc(&plan)?, &details.try_into()?)?;
        Ok(id.to_string())
    }

    /// Changes a goal (only the fields that differ are written).
    pub fn update_goal(&self, plan: String, goal: String, details: GoalDetails) -> Result<()> {
        Ok(self.inner.update_goal(
            &Self::doc(&plan)?,
            &item("goal", &goal)?,
            &details.try_into()?,
        )?)
    }

    /// Removes a goal.
    pub fn remove_goal(&self, plan: String, goal: String) -> Result<()> {
        Ok(self
            .inner
            .remove_goal(&Self::doc(&plan)?, &item("goal", &goal)?)?)
    }

    /// Records a goal-based outcome score (0–10) on a date (`YYYY-MM-DD`).
    pub fn record_goal_score(
        &self,
        plan: String,
        goal: String,
        date: String,
        score: u8,
    ) -> Result<()> {
        Ok(self.inner.record_goal_score(
            &Self::doc(&plan)?,
            &item("goal", &goal)?,
            crate::types::date("date", &date)?,
            score,
        )?)
    }

    /// Adds an activity; returns its id.
    pub fn add_activity(&self, plan: String, details: ActivityDetails) -> Result<String> {
        let id = self
            .inner
            .add_activity(&Self::doc(&plan)?, &details.try_into()?)?;
        Ok(id.to_string())
    }

    /// Changes an activity.
    pub fn update_activity(
        &self,
        plan: String,
        activity: String,
        details: ActivityDetails,
    ) -> Result<()> {
        Ok(self.inner.update_activity(
            &Self::doc(&plan)?,
            &item("activity", &activity)?,
            &details.try_into()?,
        )?)
    }

    /// Removes an activity.
    pub fn remove_activity(&self, plan: String, activity: String) -> Result<()> {
        Ok(self
            .inner
            .remove_activity(&Self::doc(&plan)?, &item("activity", &activity)?)?)
    }

    /// Adds a review meeting; returns its id.
    pub fn add_meeting(&self, plan: String, details: MeetingDetails) -> Result<String> {
        let id = self
            .inner
            .add_meeting(&Self::doc(&plan)?, &details.try_into()?)?;
        Ok(id.to_string())
    }

    /// Changes a meeting's date and attendees.
    pub fn update_meeting(
        &self,
        plan: String,
        meeting: String,
        details: MeetingDetails,
    ) -> Result<()> {
        Ok(self.inner.update_meeting(
            &Self::doc(&plan)?,
            &item("meeting", &meeting)?,
            &details.try_into()?,
        )?)
    }

    /// Removes a meeting.
    pub fn remove_meeting(&self, plan: String, meeting: String) -> Result<()> {
        Ok(self
            .inner
            .remove_meeting(&Self::doc(&plan)?, &item("meeting", &meeting)?)?)
    }

    /// Replaces a meeting's "my voice" or notes text (as the smallest
    /// edit, so concurrent typing elsewhere merges).
    pub fn set_meeting_text(
        &self,
        plan: String,
        meeting: String,
        which: MeetingText,
        text: String,
    ) -> Result<()> {
        Ok(self.inner.set_meeting_text(
            &Self::doc(&plan)?,
            &item("meeting", &meeting)?,
            which.into(),
            &text,
        )?)
    }

    /// Edits a meeting text in place: deletes `delete` characters at
    /// `index` and inserts `insert` there.
    pub fn splice_meeting_text(
        &self,
        plan: String,
        meeting: String,
        which: MeetingText,
        index: u32,
        delete: u32,
        insert: String,
    ) -> Result<()> {
        Ok(self.inner.splice_meeting_text(
            &Self::doc(&plan)?,
            &item("meeting", &meeting)?,
            which.into(),
            index as usize,
            delete as usize,
            &insert,
        )?)
    }

    /// Records a decision made in a meeting; returns its id.
    pub fn add_decision(&self, plan: String, meeting: String, text: String) -> Result<String> {
        let id = self
            .inner
            .add_decision(&Self::doc(&plan)?, &item("meeting", &meeting)?, &text)?;
        Ok(id.to_string())
    }

    /// Adds an activity agreed in a meeting; returns the activity's id.
    pub fn add_meeting_action(
        &self,
        plan: String,
        meeting: String,
        details: ActivityDetails,
    ) -> Result<String> {
        let id = self.inner.add_meeting_action(
            &Self::doc(&plan)?,
            &item("meeting", &meeting)?,
            &details.try_into()?,
        )?;
        Ok(id.to_string())
    }

    /// Signposts a resource to the young person; returns the signpost's id.
    pub fn add_signpost(
        &self,
        plan: String,
        resource: ResourceRef,
        signposted_by: String,
        reason: String,
        date: String,
    ) -> Result<String> {
        let id = self.inner.add_signpost(
            &Self::doc(&plan)?,
            &resource.try_into()?,
            &signposted_by,
            &reason,
            crate::types::date("date", &date)?,
        )?;
        Ok(id.to_string())
    }

    /// Records the young person's feedback on a signpost.
    pub fn set_signpost_feedback(
        &self,
        plan: String,
        signpost: String,
        feedback: SignpostFeedback,
    ) -> Result<()> {
        Ok(self.inner.set_signpost_feedback(
            &Self::doc(&plan)?,
            &item("signpost", &signpost)?,
            feedback.into(),
        )?)
    }

    /// Removes a signpost.
    pub fn remove_signpost(&self, plan: String, signpost: String) -> Result<()> {
        Ok(self
            .inner
            .remove_signpost(&Self::doc(&plan)?, &item("signpost", &signpost)?)?)
    }
}
