//! Care-plan documents: layout, reading and edits (the safety plan has its
//! own file).
//!
//! Root keys: `subject_name`, `status`, `period_start`, `period_end`,
//! `next_review`, `thrive`, `thrive_history` (list), `coordinator`, and the
//! item maps `team`, `goals`, `activities`, `meetings`, `signposts`, plus the
//! `safety` map. A signpost may hold an `evidence` map (see
//! `read_evidence`). Each item map holds maps keyed by item id, each with a
//! `created_at` timestamp that orders them.

use automerge::{ObjId, ROOT, ReadDoc, transaction::Transactable};

use super::{
    EditContext, directory, fields,
    items::{item, new_item, read_items, remove_item},
    safety_plan,
};
use crate::{
    ContentHash, DocumentId, Error, ItemId, SignpostEvidence,
    model::{
        Activity, ActivityDetails, ActivityStatus, CarePlan, CarePlanDetails, Decision, Goal,
        GoalDetails, GoalLifecycle, GoalScore, Meeting, MeetingDetails, MeetingText, PlanStatus,
        ResourceRef, Signpost, SignpostFeedback, TeamMember, TeamMemberDetails, TeamRole, Thrive,
        ThriveRecord,
    },
};

const TEAM: &str = "team";
const GOALS: &str = "goals";
const ACTIVITIES: &str = "activities";
const MEETINGS: &str = "meetings";
const SIGNPOSTS: &str = "signposts";

/// Lays out a new care plan.
pub(crate) fn init<T: Transactable>(tx: &mut T, details: &CarePlanDetails) -> Result<(), Error> {
    set_details(tx, details)?;
    for key in [TEAM, GOALS, ACTIVITIES, MEETINGS, SIGNPOSTS] {
        fields::new_map(tx, &ROOT, key)?;
    }
    fields::new_list(tx, &ROOT, "thrive_history")?;
    safety_plan::init(tx)?;
    Ok(())
}

/// Reads the whole plan.
pub(crate) fn read<D: ReadDoc>(doc: &D, id: DocumentId) -> CarePlan {
    CarePlan {
        id,
        details: read_details(doc),
        thrive: fields::code(doc, &ROOT, "thrive"),
        thrive_history: read_thrive_history(doc),
        coordinator: fields::item_id(doc, &ROOT, "coordinator"),
        team: read_items(doc, TEAM, read_member),
        goals: read_items(doc, GOALS, read_goal),
        activities: read_items(doc, ACTIVITIES, read_activity),
        safety_plan: safety_plan::read(doc),
        meetings: {
            let mut meetings = read_items(doc, MEETINGS, read_meeting);
            meetings.sort_by_key(|a| a.details.date);
            meetings
        },
        signposts: read_items(doc, SIGNPOSTS, read_signpost),
    }
}

fn read_details<D: ReadDoc>(doc: &D) -> CarePlanDetails {
    CarePlanDetails {
        subject_name: fields::string(doc, &ROOT, "subject_name"),
        status: fields::code(doc, &ROOT, "status").unwrap_or(PlanStatus::Draft),
        period_start: fields::date(doc, &ROOT, "period_start"),
        period_end: fields::date(doc, &ROOT, "period_end"),
        next_review: fields::date(doc, &ROOT, "next_review"),
    }
}

/// Writes the plan-level fields that changed.
pub(crate) fn set_details<T: Transactable>(tx: &mut T, d: &CarePlanDetails) -> Result<(), Error> {
    fields::put(tx, &ROOT, "subject_name", d.subject_name.as_str())?;
    fields::put(tx, &ROOT, "status", d.status.code())?;
    fields::put_date(tx, &ROOT, "period_start", d.period_start)?;
    fields::put_date(tx, &ROOT, "period_end", d.period_end)?;
    fields::put_date(tx, &ROOT, "next_review", d.next_review)?;
    Ok(())
}

fn read_thrive_history<D: ReadDoc>(doc: &D) -> Vec<ThriveRecord> {
    let Some(list) = fields::object(doc, &ROOT, "thrive_history", automerge::ObjType::List) else {
        return Vec::new();
    };
    let mut history: Vec<ThriveRecord> = fields::list_maps(doc, &list)
        .iter()
        .filter_map(|obj| {
            Some(ThriveRecord {
                grouping: fields::code(doc, obj, "grouping")?,
                from: fields::date(doc, obj, "from")?,
                recorded_by: fields::device(doc, obj, "recorded_by"),
            })
        })
        .collect();
    history.sort_by_key(|r| r.from);
    history
}

/// Records a THRIVE grouping from a date; the newest date is the current one.
pub(crate) fn set_thrive<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    grouping: Thrive,
    from: chrono::NaiveDate,
) -> Result<(), Error> {
    let list = fields::ensure_list(tx, &ROOT, "thrive_history")?;
    fields::push_values(
        tx,
        &list,
        [
            ("grouping", grouping.code().into()),
            ("from", from.to_string().into()),
            ("recorded_by", ctx.device.to_string().into()),
        ],
    )?;
    let current = read_thrive_history(tx).last().map(|r| r.grouping);
    fields::put_opt_str(tx, &ROOT, "thrive", current.map(Thrive::code))?;
    Ok(())
}

/// Names the team member who coordinates care.
pub(crate) fn set_coordinator<T: Transactable>(tx: &mut T, member: &ItemId) -> Result<(), Error> {
    item(tx, TEAM, "team member", member)?;
    fields::put(tx, &ROOT, "coordinator", member.as_str())
}

fn read_member<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<TeamMember> {
    Some(TeamMember {
        id,
        details: TeamMemberDetails {
            display_name: fields::string(doc, obj, "display_name"),
            role: fields::code(doc, obj, "role").unwrap_or(TeamRole::Clinician),
            device: fields::device(doc, obj, "device"),
            since: fields::date(doc, obj, "since"),
            until: fields::date(doc, obj, "until"),
        },
    })
}

fn write_member<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    d: &TeamMemberDetails,
) -> Result<(), Error> {
    fields::put(tx, obj, "display_name", d.display_name.as_str())?;
    fields::put(tx, obj, "role", d.role.code())?;
    fields::put_opt_str(
        tx,
        obj,
        "device",
        d.device.map(|d| d.to_string()).as_deref(),
    )?;
    fields::put_date(tx, obj, "since", d.since)?;
    fields::put_date(tx, obj, "until", d.until)
}

/// Adds a team member.
pub(crate) fn add_member<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    d: &TeamMemberDetails,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, TEAM, ctx)?;
    write_member(tx, &obj, d)?;
    Ok(id)
}

/// Updates a team member's changed fields.
pub(crate) fn update_member<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    d: &TeamMemberDetails,
) -> Result<(), Error> {
    let obj = item(tx, TEAM, "team member", id)?;
    write_member(tx, &obj, d)
}

/// Removes a team member (and clears them as coordinator).
pub(crate) fn remove_member<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, TEAM, "team member", id)?;
    if fields::item_id(tx, &ROOT, "coordinator").as_ref() == Some(id) {
        fields::put_opt_str(tx, &ROOT, "coordinator", None)?;
    }
    Ok(())
}

fn read_goal<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<Goal> {
    let scores = fields::object(doc, obj, "scores", automerge::ObjType::List)
        .map(|list| {
            let mut scores: Vec<GoalScore> = fields::list_maps(doc, &list)
                .iter()
                .filter_map(|s| {
                    Some(GoalScore {
                        date: fields::date(doc, s, "date")?,
                        score: fields::small(doc, s, "score", 10)?,
                        recorded_by: fields::device(doc, s, "recorded_by"),
                    })
                })
                .collect();
            scores.sort_by_key(|s| s.date);
            scores
        })
        .unwrap_or_default();
    Some(Goal {
        id,
        details: GoalDetails {
            description: fields::string(doc, obj, "description"),
            expressed_by: fields::string(doc, obj, "expressed_by"),
            lifecycle: fields::code(doc, obj, "lifecycle").unwrap_or(GoalLifecycle::Proposed),
            achievement: fields::code(doc, obj, "achievement"),
            target_date: fields::date(doc, obj, "target_date"),
        },
        scores,
    })
}

fn write_goal<T: Transactable>(tx: &mut T, obj: &ObjId, d: &GoalDetails) -> Result<(), Error> {
    fields::put(tx, obj, "description", d.description.as_str())?;
    fields::put(tx, obj, "expressed_by", d.expressed_by.as_str())?;
    fields::put(tx, obj, "lifecycle", d.lifecycle.code())?;
    fields::put_opt_str(tx, obj, "achievement", d.achievement.map(|a| a.code()))?;
    fields::put_date(tx, obj, "target_date", d.target_date)
}

/// Adds a goal.
pub(crate) fn add_goal<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    d: &GoalDetails,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, GOALS, ctx)?;
    write_goal(tx, &obj, d)?;
    fields::new_list(tx, &obj, "scores")?;
    Ok(id)
}

/// Updates a goal's changed fields.
pub(crate) fn update_goal<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    d: &GoalDetails,
) -> Result<(), Error> {
    let obj = item(tx, GOALS, "goal", id)?;
    write_goal(tx, &obj, d)
}

/// Removes a goal.
pub(crate) fn remove_goal<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, GOALS, "goal", id)
}

/// Records a 0–10 score for a goal.
pub(crate) fn record_score<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    id: &ItemId,
    date: chrono::NaiveDate,
    score: u8,
) -> Result<(), Error> {
    let goal = item(tx, GOALS, "goal", id)?;
    let list = fields::ensure_list(tx, &goal, "scores")?;
    fields::push_values(
        tx,
        &list,
        [
            ("date", date.to_string().into()),
            ("score", i64::from(score).into()),
            ("recorded_by", ctx.device.to_string().into()),
        ],
    )?;
    Ok(())
}

fn read_activity<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<Activity> {
    Some(Activity {
        id,
        details: ActivityDetails {
            description: fields::string(doc, obj, "description"),
            status: fields::code(doc, obj, "status").unwrap_or(ActivityStatus::NotStarted),
            performer: fields::string(doc, obj, "performer"),
            scheduled: fields::date(doc, obj, "scheduled"),
            goal: fields::item_id(doc, obj, "goal"),
            resource: read_resource_ref(doc, obj),
        },
    })
}

fn read_resource_ref<D: ReadDoc>(doc: &D, obj: &ObjId) -> Option<ResourceRef> {
    Some(ResourceRef {
        directory: fields::opt_string(doc, obj, "resource_directory")?
            .parse()
            .ok()?,
        resource: fields::item_id(doc, obj, "resource")?,
    })
}

fn write_resource_ref<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    r: Option<&ResourceRef>,
) -> Result<(), Error> {
    let directory = r.map(|r| r.directory.to_string());
    fields::put_opt_str(tx, obj, "resource_directory", directory.as_deref())?;
    fields::put_opt_str(tx, obj, "resource", r.map(|r| r.resource.as_str()))
}

fn write_activity<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    d: &ActivityDetails,
) -> Result<(), Error> {
    if let Some(goal) = &d.goal {
        item(tx, GOALS, "goal", goal)?;
    }
    fields::put(tx, obj, "description", d.description.as_str())?;
    fields::put(tx, obj, "status", d.status.code())?;
    fields::put(tx, obj, "performer", d.performer.as_str())?;
    fields::put_date(tx, obj, "scheduled", d.scheduled)?;
    fields::put_opt_str(tx, obj, "goal", d.goal.as_ref().map(ItemId::as_str))?;
    write_resource_ref(tx, obj, d.resource.as_ref())
}

/// Adds an activity.
pub(crate) fn add_activity<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    d: &ActivityDetails,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, ACTIVITIES, ctx)?;
    write_activity(tx, &obj, d)?;
    Ok(id)
}

/// Updates an activity's changed fields.
pub(crate) fn update_activity<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    d: &ActivityDetails,
) -> Result<(), Error> {
    let obj = item(tx, ACTIVITIES, "activity", id)?;
    write_activity(tx, &obj, d)
}

/// Removes an activity.
pub(crate) fn remove_activity<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, ACTIVITIES, "activity", id)
}

fn read_meeting<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<Meeting> {
    let decisions = fields::object(doc, obj, "decisions", automerge::ObjType::List)
        .map(|list| {
            fields::list_maps(doc, &list)
                .iter()
                .filter_map(|d| {
                    Some(Decision {
                        id: fields::item_id(doc, d, "id")?,
                        text: fields::string(doc, d, "text"),
                        recorded_by: fields::device(doc, d, "recorded_by"),
                        recorded_at: fields::timestamp(doc, d, "recorded_at"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let actions = fields::strings(doc, obj, "actions")
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect();
    Some(Meeting {
        id,
        details: MeetingDetails {
            date: fields::date(doc, obj, "date")?,
            attendees: fields::strings(doc, obj, "attendees"),
        },
        my_voice: fields::text(doc, obj, "my_voice"),
        notes: fields::text(doc, obj, "notes"),
        decisions,
        actions,
    })
}

fn write_meeting<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    d: &MeetingDetails,
) -> Result<(), Error> {
    fields::put_date(tx, obj, "date", Some(d.date))?;
    fields::put_strings(tx, obj, "attendees", &d.attendees)
}

/// Adds a review meeting with empty "my voice" and notes.
pub(crate) fn add_meeting<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    d: &MeetingDetails,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, MEETINGS, ctx)?;
    write_meeting(tx, &obj, d)?;
    fields::put_text(tx, &obj, "my_voice", "")?;
    fields::put_text(tx, &obj, "notes", "")?;
    fields::new_list(tx, &obj, "decisions")?;
    fields::new_list(tx, &obj, "actions")?;
    Ok(id)
}

/// Updates a meeting's date and attendees.
pub(crate) fn update_meeting<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    d: &MeetingDetails,
) -> Result<(), Error> {
    let obj = item(tx, MEETINGS, "meeting", id)?;
    write_meeting(tx, &obj, d)
}

/// Removes a meeting.
pub(crate) fn remove_meeting<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, MEETINGS, "meeting", id)
}

fn text_key(which: MeetingText) -> &'static str {
    match which {
        MeetingText::MyVoice => "my_voice",
        MeetingText::Notes => "notes",
    }
}

/// The current length, in characters, of a meeting's text.
pub(crate) fn meeting_text_len<D: ReadDoc>(
    doc: &D,
    id: &ItemId,
    which: MeetingText,
) -> Result<usize, Error> {
    let obj = item(doc, MEETINGS, "meeting", id)?;
    Ok(fields::text_len(doc, &obj, text_key(which)))
}

/// Replaces a meeting's text with `value`, by the smallest splice.
pub(crate) fn set_meeting_text<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    which: MeetingText,
    value: &str,
) -> Result<(), Error> {
    let obj = item(tx, MEETINGS, "meeting", id)?;
    fields::put_text(tx, &obj, text_key(which), value)
}

/// Splices a meeting's text at a character position.
pub(crate) fn splice_meeting_text<T: Transactable>(
    tx: &mut T,
    id: &ItemId,
    which: MeetingText,
    index: usize,
    delete: usize,
    insert: &str,
) -> Result<(), Error> {
    let obj = item(tx, MEETINGS, "meeting", id)?;
    fields::splice_text(tx, &obj, text_key(which), index, delete, insert)
}

/// Records a decision at a meeting.
pub(crate) fn add_decision<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    meeting: &ItemId,
    text: &str,
) -> Result<ItemId, Error> {
    let obj = item(tx, MEETINGS, "meeting", meeting)?;
    let list = fields::ensure_list(tx, &obj, "decisions")?;
    let id = ItemId::random();
    fields::push_values(
        tx,
        &list,
        [
            ("id", id.as_str().into()),
            ("text", text.into()),
            ("recorded_by", ctx.device.to_string().into()),
            (
                "recorded_at",
                automerge::ScalarValue::Timestamp(ctx.now.timestamp_millis()),
            ),
        ],
    )?;
    Ok(id)
}

/// Adds an action from a meeting: a new activity linked to the meeting.
pub(crate) fn add_action<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    meeting: &ItemId,
    d: &ActivityDetails,
) -> Result<ItemId, Error> {
    let obj = item(tx, MEETINGS, "meeting", meeting)?;
    let activity = add_activity(tx, ctx, d)?;
    let list = fields::ensure_list(tx, &obj, "actions")?;
    let len = tx.length(&list);
    tx.insert(&list, len, activity.as_str())?;
    Ok(activity)
}

fn read_signpost<D: ReadDoc>(doc: &D, id: ItemId, obj: &ObjId) -> Option<Signpost> {
    Some(Signpost {
        id,
        resource: read_resource_ref(doc, obj)?,
        signposted_by: fields::string(doc, obj, "signposted_by"),
        reason: fields::string(doc, obj, "reason"),
        date: fields::date(doc, obj, "date")?,
        feedback: fields::code(doc, obj, "feedback").unwrap_or(SignpostFeedback::Suggested),
        feedback_at: fields::timestamp(doc, obj, "feedback_at"),
        evidence: read_evidence(doc, obj),
    })
}

/// One signpost, without reading the rest of the plan.
pub(crate) fn signpost<D: ReadDoc>(doc: &D, id: &ItemId) -> Result<Signpost, Error> {
    let obj = item(doc, SIGNPOSTS, "signpost", id)?;
    read_signpost(doc, id.clone(), &obj).ok_or_else(|| Error::not_found("signpost", id))
}

/// A signpost's `evidence` map: `snapshot` (a map laid out as a directory's
/// resource), `content_hash` (32 bytes) and `endorsements` (a list of
/// statement bytes). Absent on signposts made without a directory.
fn read_evidence<D: ReadDoc>(doc: &D, obj: &ObjId) -> Option<SignpostEvidence> {
    use automerge::{ObjType, ScalarValue, Value};
    let evidence = fields::object(doc, obj, "evidence", ObjType::Map)?;
    let snapshot = fields::object(doc, &evidence, "snapshot", ObjType::Map)?;
    let content_hash = match fields::scalar(doc, &evidence, "content_hash")? {
        ScalarValue::Bytes(bytes) => ContentHash(bytes.try_into().ok()?),
        _ => return None,
    };
    let endorsements = fields::object(doc, &evidence, "endorsements", ObjType::List)
        .map(|list| {
            doc.list_range(&list, ..)
                .filter_map(|item| match item.value.into_value() {
                    Value::Scalar(s) => match s.as_ref() {
                        ScalarValue::Bytes(b) => Some(b.clone()),
                        _ => None,
                    },
                    Value::Object(_) => None,
                })
                .take(MAX_EVIDENCE_ENDORSEMENTS)
                .collect()
        })
        .unwrap_or_default();
    Some(SignpostEvidence {
        snapshot: directory::read_details(doc, &snapshot),
        content_hash,
        endorsements,
    })
}

/// The most endorsements a signpost carries (and reads).
pub(crate) const MAX_EVIDENCE_ENDORSEMENTS: usize = 8;

fn write_evidence<T: Transactable>(
    tx: &mut T,
    obj: &ObjId,
    evidence: &SignpostEvidence,
) -> Result<(), Error> {
    let map = fields::new_map(tx, obj, "evidence")?;
    let snapshot = fields::new_map(tx, &map, "snapshot")?;
    directory::write_details(tx, &snapshot, &evidence.snapshot)?;
    fields::put(
        tx,
        &map,
        "content_hash",
        automerge::ScalarValue::Bytes(evidence.content_hash.0.to_vec()),
    )?;
    let list = fields::new_list(tx, &map, "endorsements")?;
    for (i, bytes) in evidence
        .endorsements
        .iter()
        .take(MAX_EVIDENCE_ENDORSEMENTS)
        .enumerate()
    {
        tx.insert(&list, i, automerge::ScalarValue::Bytes(bytes.clone()))?;
    }
    Ok(())
}

/// Signposts a resource to the young person.
pub(crate) fn add_signpost<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    resource: &ResourceRef,
    signposted_by: &str,
    reason: &str,
    date: chrono::NaiveDate,
    evidence: Option<&SignpostEvidence>,
) -> Result<ItemId, Error> {
    let (id, obj) = new_item(tx, SIGNPOSTS, ctx)?;
    write_resource_ref(tx, &obj, Some(resource))?;
    fields::put(tx, &obj, "signposted_by", signposted_by)?;
    fields::put(tx, &obj, "reason", reason)?;
    fields::put_date(tx, &obj, "date", Some(date))?;
    fields::put(tx, &obj, "feedback", SignpostFeedback::Suggested.code())?;
    if let Some(evidence) = evidence {
        write_evidence(tx, &obj, evidence)?;
    }
    Ok(id)
}

/// Records the young person's feedback on a signpost.
pub(crate) fn set_signpost_feedback<T: Transactable>(
    tx: &mut T,
    ctx: &EditContext,
    id: &ItemId,
    feedback: SignpostFeedback,
) -> Result<(), Error> {
    let obj = item(tx, SIGNPOSTS, "signpost", id)?;
    fields::put(tx, &obj, "feedback", feedback.code())?;
    fields::put_timestamp(tx, &obj, "feedback_at", ctx.now)
}

/// Removes a signpost.
pub(crate) fn remove_signpost<T: Transactable>(tx: &mut T, id: &ItemId) -> Result<(), Error> {
    remove_item(tx, SIGNPOSTS, "signpost", id)
}
