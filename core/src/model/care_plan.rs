//! Care plans (FHIR CarePlan, Goal, CareTeam): the team, goals and their
//! scores, activities, review meetings and signposts. The safety plan is in
//! `safety_plan.rs`.

use chrono::{DateTime, NaiveDate, Utc};

use super::{SafetyPlan, Thrive, coded_enum};
use crate::{DeviceId, DocumentId, ItemId};

coded_enum! {
    /// FHIR CarePlan.status.
    pub enum PlanStatus {
        /// Being written; not yet in use.
        Draft = "draft",
        /// In use.
        Active = "active",
        /// Paused.
        OnHold = "on-hold",
        /// Stopped before completion.
        Revoked = "revoked",
        /// Finished.
        Completed = "completed",
        /// Created by mistake.
        EnteredInError = "entered-in-error",
    }
}

coded_enum! {
    /// FHIR Goal.lifecycleStatus.
    pub enum GoalLifecycle {
        /// Suggested, not yet agreed.
        Proposed = "proposed",
        /// Agreed, to start later.
        Planned = "planned",
        /// Agreed.
        Accepted = "accepted",
        /// Being worked on.
        Active = "active",
        /// Paused.
        OnHold = "on-hold",
        /// Finished.
        Completed = "completed",
        /// Abandoned.
        Cancelled = "cancelled",
        /// Recorded by mistake.
        EnteredInError = "entered-in-error",
        /// Not agreed.
        Rejected = "rejected",
    }
}

coded_enum! {
    /// FHIR Goal.achievementStatus.
    pub enum GoalAchievement {
        /// Under way.
        InProgress = "in-progress",
        /// Getting better.
        Improving = "improving",
        /// Getting worse.
        Worsening = "worsening",
        /// No change.
        NoChange = "no-change",
        /// Reached.
        Achieved = "achieved",
        /// Reached and holding.
        Sustaining = "sustaining",
        /// Not reached.
        NotAchieved = "not-achieved",
        /// No progress.
        NoProgress = "no-progress",
        /// Cannot be reached.
        NotAttainable = "not-attainable",
    }
}

coded_enum! {
    /// FHIR CarePlan.activity.detail.status.
    pub enum ActivityStatus {
        /// Not started.
        NotStarted = "not-started",
        /// Booked.
        Scheduled = "scheduled",
        /// Under way.
        InProgress = "in-progress",
        /// Paused.
        OnHold = "on-hold",
        /// Done.
        Completed = "completed",
        /// Will not happen.
        Cancelled = "cancelled",
        /// Stopped part-way.
        Stopped = "stopped",
    }
}

coded_enum! {
    /// A team member's role on the plan.
    pub enum TeamRole {
        /// The subject of the plan.
        YoungPerson = "young-person",
        /// A parent, carer or sibling (FHIR RelatedPerson).
        FamilyMember = "family-member",
        /// The named clinician who holds the plan.
        CareCoordinator = "care-coordinator",
        /// Another member of the multi-professional team.
        Clinician = "clinician",
    }
}

coded_enum! {
    /// The young person's feedback on a signposted resource.
    pub enum SignpostFeedback {
        /// Signposted; not tried yet.
        Suggested = "suggested",
        /// Tried.
        Tried = "tried",
        /// Tried and found helpful.
        Helpful = "helpful",
        /// Not for them.
        NotForMe = "not-for-me",
    }
}

/// The plan-level fields a caller sets when creating or updating a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CarePlanDetails {
    /// The name the young person goes by (minimised: no surname needed).
    pub subject_name: String,
    /// FHIR CarePlan.status.
    pub status: PlanStatus,
    /// Start of the plan's period.
    pub period_start: Option<NaiveDate>,
    /// End of the plan's period.
    pub period_end: Option<NaiveDate>,
    /// When the plan is next reviewed.
    pub next_review: Option<NaiveDate>,
}

/// A care plan as the device holds it now.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CarePlan {
    /// The plan's document id.
    pub id: DocumentId,
    /// Plan-level fields.
    pub details: CarePlanDetails,
    /// The current THRIVE grouping.
    pub thrive: Option<Thrive>,
    /// Every THRIVE grouping recorded, oldest first.
    pub thrive_history: Vec<ThriveRecord>,
    /// The team member who coordinates care.
    pub coordinator: Option<ItemId>,
    /// The care team, in the order members were added.
    pub team: Vec<TeamMember>,
    /// Goals, in the order they were added.
    pub goals: Vec<Goal>,
    /// Activities, in the order they were added.
    pub activities: Vec<Activity>,
    /// The safety plan.
    pub safety_plan: SafetyPlan,
    /// Review meetings, by date.
    pub meetings: Vec<Meeting>,
    /// Resources signposted to the young person, in the order given.
    pub signposts: Vec<Signpost>,
}

/// One THRIVE grouping and when it applied from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ThriveRecord {
    /// The grouping.
    pub grouping: Thrive,
    /// The date it applies from.
    pub from: NaiveDate,
    /// The device that recorded it.
    pub recorded_by: Option<DeviceId>,
}

/// What a caller sets on a team member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TeamMemberDetails {
    /// How the member is shown.
    pub display_name: String,
    /// Their role on the plan.
    pub role: TeamRole,
    /// Their device, once known.
    pub device: Option<DeviceId>,
    /// Member since.
    pub since: Option<NaiveDate>,
    /// Member until.
    pub until: Option<NaiveDate>,
}

/// A member of the care team.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TeamMember {
    /// The member's id in the plan.
    pub id: ItemId,
    /// What is recorded about them.
    pub details: TeamMemberDetails,
}

/// What a caller sets on a goal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoalDetails {
    /// The goal in the young person's words.
    pub description: String,
    /// Who expressed it (a name or a role).
    pub expressed_by: String,
    /// FHIR Goal.lifecycleStatus.
    pub lifecycle: GoalLifecycle,
    /// FHIR Goal.achievementStatus.
    pub achievement: Option<GoalAchievement>,
    /// When it should be reached.
    pub target_date: Option<NaiveDate>,
}

/// A goal (Goal Based Outcomes) with its scores over time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Goal {
    /// The goal's id in the plan.
    pub id: ItemId,
    /// What is recorded about it.
    pub details: GoalDetails,
    /// Scores, oldest first.
    pub scores: Vec<GoalScore>,
}

/// A 0–10 score towards a goal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoalScore {
    /// The date the score applies to.
    pub date: NaiveDate,
    /// 0 (not at all) to 10 (goal reached).
    pub score: u8,
    /// The device that recorded it.
    pub recorded_by: Option<DeviceId>,
}

/// A pointer to a resource in a directory document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ResourceRef {
    /// The directory document.
    pub directory: DocumentId,
    /// The resource inside it.
    pub resource: ItemId,
}

/// What a caller sets on an activity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActivityDetails {
    /// What support is given.
    pub description: String,
    /// FHIR activity status.
    pub status: ActivityStatus,
    /// Who gives it (a name or a role).
    pub performer: String,
    /// When it is scheduled.
    pub scheduled: Option<NaiveDate>,
    /// The goal it serves.
    pub goal: Option<ItemId>,
    /// The resource it uses.
    pub resource: Option<ResourceRef>,
}

/// An activity: support given, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Activity {
    /// The activity's id in the plan.
    pub id: ItemId,
    /// What is recorded about it.
    pub details: ActivityDetails,
}

/// What a caller sets on a review meeting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MeetingDetails {
    /// The meeting's date.
    pub date: NaiveDate,
    /// Who attended (names or roles).
    pub attendees: Vec<String>,
}

/// The two free-text fields of a meeting that several people type into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MeetingText {
    /// The young person's own input before the meeting.
    MyVoice,
    /// The meeting's notes.
    Notes,
}

/// A review meeting (care programme approach).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Meeting {
    /// The meeting's id in the plan.
    pub id: ItemId,
    /// Date and attendees.
    pub details: MeetingDetails,
    /// "My voice": the young person's input, merged by character.
    pub my_voice: String,
    /// Notes, typed by several people and merged by character.
    pub notes: String,
    /// Decisions taken, in order.
    pub decisions: Vec<Decision>,
    /// Activities created as actions of this meeting.
    pub actions: Vec<ItemId>,
}

/// A decision recorded at a meeting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// The decision's id.
    pub id: ItemId,
    /// What was decided.
    pub text: String,
    /// The device that recorded it.
    pub recorded_by: Option<DeviceId>,
    /// When it was recorded.
    pub recorded_at: Option<DateTime<Utc>>,
}

/// A resource signposted to the young person, with their feedback.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signpost {
    /// The signpost's id in the plan.
    pub id: ItemId,
    /// The resource.
    pub resource: ResourceRef,
    /// Who signposted it (a name or a role).
    pub signposted_by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub date: NaiveDate,
    /// The young person's feedback.
    pub feedback: SignpostFeedback,
    /// When the feedback was last given.
    pub feedback_at: Option<DateTime<Utc>>,
    /// What the resource was and who endorsed it when it was signposted,
    /// so that a device without the directory can show and check it.
    /// `None` for a signpost made with [`Store::add_signpost`](crate::Store::add_signpost).
    pub evidence: Option<SignpostEvidence>,
}

/// A signposted resource as it was when signposted: its content and the
/// endorsement statements of that version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignpostEvidence {
    /// The resource's details at the time.
    pub snapshot: super::ResourceDetails,
    /// Their content hash, as the signposting device computed it. Status
    /// checks recompute it from `snapshot`; this copy is for display.
    pub content_hash: crate::ContentHash,
    /// The encoded endorsements of that version (each an
    /// [`Endorsement`](crate::Endorsement)), verified by whoever reads them.
    pub endorsements: Vec<Vec<u8>>,
}
