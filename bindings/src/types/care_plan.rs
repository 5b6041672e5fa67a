//! Care plans: details, team, goals and scores, activities, meetings and
//! signposts. The safety plan is in `safety_plan.rs`.

use std::time::SystemTime;

use lynchpin_core as lc;

use super::{
    ActivityStatus, GoalAchievement, GoalLifecycle, PlanStatus, SafetyPlan, SignpostFeedback,
    TeamRole, Thrive, all, date_text, device_id, document_id, item_id, optional_date, timestamp,
};
use crate::LynchpinError;

/// What a care plan is about: the fields set when it is created and updated
/// together.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CarePlanDetails {
    /// The young person's name as they want it shown.
    pub subject_name: String,
    /// The plan's status.
    pub status: PlanStatus,
    /// When the plan starts (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub period_start: Option<String>,
    /// When the plan ends (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub period_end: Option<String>,
    /// When the plan is next reviewed (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub next_review: Option<String>,
}

impl From<lc::CarePlanDetails> for CarePlanDetails {
    fn from(d: lc::CarePlanDetails) -> Self {
        Self {
            subject_name: d.subject_name,
            status: d.status.into(),
            period_start: d.period_start.map(date_text),
            period_end: d.period_end.map(date_text),
            next_review: d.next_review.map(date_text),
        }
    }
}

impl TryFrom<CarePlanDetails> for lc::CarePlanDetails {
    type Error = LynchpinError;

    fn try_from(d: CarePlanDetails) -> Result<Self, Self::Error> {
        Ok(Self {
            period_start: optional_date("period_start", &d.period_start)?,
            period_end: optional_date("period_end", &d.period_end)?,
            next_review: optional_date("next_review", &d.next_review)?,
            subject_name: d.subject_name,
            status: d.status.into(),
        })
    }
}

/// A whole care plan, as this device holds it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CarePlan {
    /// The document id.
    pub id: String,
    /// Name, status and dates.
    pub details: CarePlanDetails,
    /// The current THRIVE grouping.
    pub thrive: Option<Thrive>,
    /// Every THRIVE grouping recorded, oldest first.
    pub thrive_history: Vec<ThriveRecord>,
    /// The team member who coordinates care.
    pub coordinator: Option<String>,
    /// The care team.
    pub team: Vec<TeamMember>,
    /// Goals, with their scores.
    pub goals: Vec<Goal>,
    /// Activities.
    pub activities: Vec<Activity>,
    /// The safety plan.
    pub safety_plan: SafetyPlan,
    /// Review meetings.
    pub meetings: Vec<Meeting>,
    /// Resources signposted to the young person.
    pub signposts: Vec<Signpost>,
}

impl From<lc::CarePlan> for CarePlan {
    fn from(p: lc::CarePlan) -> Self {
        Self {
            id: p.id.to_string(),
            details: p.details.into(),
            thrive: p.thrive.map(Into::into),
            thrive_history: all(p.thrive_history),
            coordinator: p.coordinator.map(|c| c.to_string()),
            team: all(p.team),
            goals: all(p.goals),
            activities: all(p.activities),
            safety_plan: p.safety_plan.into(),
            meetings: all(p.meetings),
            signposts: all(p.signposts),
        }
    }
}

/// One THRIVE grouping, from a date.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ThriveRecord {
    /// The grouping.
    pub grouping: Thrive,
    /// From when (`YYYY-MM-DD`).
    pub from_date: String,
    /// The device that recorded it.
    pub recorded_by: Option<String>,
}

impl From<lc::ThriveRecord> for ThriveRecord {
    fn from(r: lc::ThriveRecord) -> Self {
        Self {
            grouping: r.grouping.into(),
            from_date: date_text(r.from),
            recorded_by: r.recorded_by.map(|d| d.to_string()),
        }
    }
}

/// A member of the care team, as given to add or update one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TeamMemberDetails {
    /// The name shown.
    pub display_name: String,
    /// Their role.
    pub role: TeamRole,
    /// Their device, if they use Lynchpin (64 hex digits).
    #[uniffi(default = None)]
    pub device: Option<String>,
    /// Member since (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub since: Option<String>,
    /// Member until (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub until: Option<String>,
}

impl From<lc::TeamMemberDetails> for TeamMemberDetails {
    fn from(d: lc::TeamMemberDetails) -> Self {
        Self {
            display_name: d.display_name,
            role: d.role.into(),
            device: d.device.map(|d| d.to_string()),
            since: d.since.map(date_text),
            until: d.until.map(date_text),
        }
    }
}

impl TryFrom<TeamMemberDetails> for lc::TeamMemberDetails {
    type Error = LynchpinError;

    fn try_from(d: TeamMemberDetails) -> Result<Self, Self::Error> {
        Ok(Self {
            device: d
                .device
                .as_deref()
                .map(|t| device_id("device", t))
                .transpose()?,
            since: optional_date("since", &d.since)?,
            until: optional_date("until", &d.until)?,
            display_name: d.display_name,
            role: d.role.into(),
        })
    }
}

/// A member of the care team.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TeamMember {
    /// The member's id in the plan.
    pub id: String,
    /// Name, role and dates.
    pub details: TeamMemberDetails,
}

impl From<lc::TeamMember> for TeamMember {
    fn from(m: lc::TeamMember) -> Self {
        Self {
            id: m.id.to_string(),
            details: m.details.into(),
        }
    }
}

/// A goal, as given to add or update one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GoalDetails {
    /// The goal in the young person's words.
    pub description: String,
    /// Who expressed it.
    pub expressed_by: String,
    /// Its lifecycle status.
    pub lifecycle: GoalLifecycle,
    /// How it is going.
    #[uniffi(default = None)]
    pub achievement: Option<GoalAchievement>,
    /// When it should be reached (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub target_date: Option<String>,
}

impl From<lc::GoalDetails> for GoalDetails {
    fn from(d: lc::GoalDetails) -> Self {
        Self {
            description: d.description,
            expressed_by: d.expressed_by,
            lifecycle: d.lifecycle.into(),
            achievement: d.achievement.map(Into::into),
            target_date: d.target_date.map(date_text),
        }
    }
}

impl TryFrom<GoalDetails> for lc::GoalDetails {
    type Error = LynchpinError;

    fn try_from(d: GoalDetails) -> Result<Self, Self::Error> {
        Ok(Self {
            target_date: optional_date("target_date", &d.target_date)?,
            description: d.description,
            expressed_by: d.expressed_by,
            lifecycle: d.lifecycle.into(),
            achievement: d.achievement.map(Into::into),
        })
    }
}

/// A goal and its scores.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Goal {
    /// The goal's id.
    pub id: String,
    /// What the goal is.
    pub details: GoalDetails,
    /// Scores recorded, oldest first.
    pub scores: Vec<GoalScore>,
}

impl From<lc::Goal> for Goal {
    fn from(g: lc::Goal) -> Self {
        Self {
            id: g.id.to_string(),
            details: g.details.into(),
            scores: all(g.scores),
        }
    }
}

/// A goal-based outcome score (0–10) on a date.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GoalScore {
    /// The date (`YYYY-MM-DD`).
    pub date: String,
    /// The score, 0 to 10.
    pub score: u8,
    /// The device that recorded it.
    pub recorded_by: Option<String>,
}

impl From<lc::GoalScore> for GoalScore {
    fn from(s: lc::GoalScore) -> Self {
        Self {
            date: date_text(s.date),
            score: s.score,
            recorded_by: s.recorded_by.map(|d| d.to_string()),
        }
    }
}

/// A resource in a directory, referred to from a care plan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResourceRef {
    /// The directory's document id.
    pub directory: String,
    /// The resource's id in it.
    pub resource: String,
}

impl From<lc::ResourceRef> for ResourceRef {
    fn from(r: lc::ResourceRef) -> Self {
        Self {
            directory: r.directory.to_string(),
            resource: r.resource.to_string(),
        }
    }
}

impl TryFrom<ResourceRef> for lc::ResourceRef {
    type Error = LynchpinError;

    fn try_from(r: ResourceRef) -> Result<Self, Self::Error> {
        Ok(Self {
            directory: document_id("directory", &r.directory)?,
            resource: item_id("resource", &r.resource)?,
        })
    }
}

/// An activity, as given to add or update one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ActivityDetails {
    /// What is to be done.
    pub description: String,
    /// Its status.
    pub status: ActivityStatus,
    /// Who does it.
    pub performer: String,
    /// When (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub scheduled: Option<String>,
    /// The goal it serves.
    #[uniffi(default = None)]
    pub goal: Option<String>,
    /// The resource it uses.
    #[uniffi(default = None)]
    pub resource: Option<ResourceRef>,
}

impl From<lc::ActivityDetails> for ActivityDetails {
    fn from(d: lc::ActivityDetails) -> Self {
        Self {
            description: d.description,
            status: d.status.into(),
            performer: d.performer,
            scheduled: d.scheduled.map(date_text),
            goal: d.goal.map(|g| g.to_string()),
            resource: d.resource.map(Into::into),
        }
    }
}

impl TryFrom<ActivityDetails> for lc::ActivityDetails {
    type Error = LynchpinError;

    fn try_from(d: ActivityDetails) -> Result<Self, Self::Error> {
        Ok(Self {
            scheduled: optional_date("scheduled", &d.scheduled)?,
            goal: d.goal.as_deref().map(|g| item_id("goal", g)).transpose()?,
            resource: d.resource.map(TryInto::try_into).transpose()?,
            description: d.description,
            status: d.status.into(),
            performer: d.performer,
        })
    }
}

/// An activity of the plan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Activity {
    /// The activity's id.
    pub id: String,
    /// What it is.
    pub details: ActivityDetails,
}

impl From<lc::Activity> for Activity {
    fn from(a: lc::Activity) -> Self {
        Self {
            id: a.id.to_string(),
            details: a.details.into(),
        }
    }
}

/// A review meeting, as given to add or update one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MeetingDetails {
    /// The date (`YYYY-MM-DD`).
    pub date: String,
    /// Who attended.
    pub attendees: Vec<String>,
}

impl From<lc::MeetingDetails> for MeetingDetails {
    fn from(d: lc::MeetingDetails) -> Self {
        Self {
            date: date_text(d.date),
            attendees: d.attendees,
        }
    }
}

impl TryFrom<MeetingDetails> for lc::MeetingDetails {
    type Error = LynchpinError;

    fn try_from(d: MeetingDetails) -> Result<Self, Self::Error> {
        Ok(Self {
            date: super::date("date", &d.date)?,
            attendees: d.attendees,
        })
    }
}

/// A review meeting.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Meeting {
    /// The meeting's id.
    pub id: String,
    /// Date and attendees.
    pub details: MeetingDetails,
    /// The young person's own words ("my voice").
    pub my_voice: String,
    /// Notes.
    pub notes: String,
    /// Decisions made.
    pub decisions: Vec<Decision>,
    /// Activities agreed (their ids).
    pub actions: Vec<String>,
}

impl From<lc::Meeting> for Meeting {
    fn from(m: lc::Meeting) -> Self {
        Self {
            id: m.id.to_string(),
            details: m.details.into(),
            my_voice: m.my_voice,
            notes: m.notes,
            decisions: all(m.decisions),
            actions: m.actions.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A decision made in a meeting.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Decision {
    /// The decision's id.
    pub id: String,
    /// What was decided.
    pub text: String,
    /// The device that recorded it.
    pub recorded_by: Option<String>,
    /// When.
    pub recorded_at: Option<SystemTime>,
}

impl From<lc::Decision> for Decision {
    fn from(d: lc::Decision) -> Self {
        Self {
            id: d.id.to_string(),
            text: d.text,
            recorded_by: d.recorded_by.map(|d| d.to_string()),
            recorded_at: d.recorded_at.map(timestamp),
        }
    }
}

/// A resource signposted to the young person.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Signpost {
    /// The signpost's id.
    pub id: String,
    /// The resource.
    pub resource: ResourceRef,
    /// Who signposted it.
    pub signposted_by: String,
    /// Why.
    pub reason: String,
    /// When (`YYYY-MM-DD`).
    pub date: String,
    /// The young person's feedback.
    pub feedback: SignpostFeedback,
    /// When the feedback was given.
    pub feedback_at: Option<SystemTime>,
}

impl From<lc::Signpost> for Signpost {
    fn from(s: lc::Signpost) -> Self {
        Self {
            id: s.id.to_string(),
            resource: s.resource.into(),
            signposted_by: s.signposted_by,
            reason: s.reason,
            date: date_text(s.date),
            feedback: s.feedback.into(),
            feedback_at: s.feedback_at.map(timestamp),
        }
    }
}
