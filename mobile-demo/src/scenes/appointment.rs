//! Monday: Alex's first appointment. The coordinator sets up and shares the
//! plan; Alex decides who else may read it and starts a private journal.

use chrono::NaiveDate;
use lynchpin_core::{
    CarePlanDetails, CheckInDetails, GoalDetails, GoalLifecycle, MeetingDetails, PlanStatus, Role,
    SafetyList, TeamMemberDetails, TeamRole, Thrive,
};

use super::{CRISIS_NUMBER_MONDAY, Records, Result, crisis_line, day};
use crate::{cast::Cast, timeline::Timeline};

/// Monday, the first appointment: the coordinator sets the plan up and
/// shares it; Alex decides who else may read it and starts a private
/// journal; everyone syncs.
pub fn first_appointment(t: &mut Timeline, cast: &Cast) -> Result<Records> {
    t.scene(day::monday(), "Alex's first appointment at Testford CAMHS");
    let tablet = &cast.coordinator;
    let store = &tablet.store;
    let plan = store.create_care_plan(&CarePlanDetails {
        subject_name: "Alex".into(),
        status: PlanStatus::Active,
        period_start: Some(day::monday()),
        period_end: None,
        next_review: Some(day::friday()),
    })?;
    store.set_thrive(&plan, Thrive::GettingHelp, day::monday())?;
    for (name, role, device) in [
        ("Alex", TeamRole::YoungPerson, &cast.alex),
        ("Robin Example", TeamRole::FamilyMember, &cast.parent),
        ("Ada Example", TeamRole::CareCoordinator, &cast.coordinator),
        ("Dr Eli Testcase", TeamRole::Clinician, &cast.psychologist),
    ] {
        let member = store.add_team_member(
            &plan,
            &TeamMemberDetails {
                display_name: name.into(),
                role,
                device: Some(device.id()),
                since: Some(day::monday()),
                until: None,
            },
        )?;
        if role == TeamRole::CareCoordinator {
            store.set_coordinator(&plan, &member)?;
        }
    }
    let goal = store.add_goal(
        &plan,
        &GoalDetails {
            description: "Get back to full days at school".into(),
            expressed_by: "Alex".into(),
            lifecycle: GoalLifecycle::Active,
            achievement: None,
            target_date: NaiveDate::from_ymd_opt(2027, 3, 1),
        },
    )?;
    store.record_goal_score(&plan, &goal, day::monday(), 3)?;
    let crisis_line = store.add_crisis_contact(
        &plan,
        &crisis_line(
            CRISIS_NUMBER_MONDAY,
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default(),
        ),
    )?;
    store.add_safety_item(
        &plan,
        SafetyList::CopingStrategies,
        "Headphones on: the playlist Alex made",
    )?;
    let first = store.add_meeting(
        &plan,
        &MeetingDetails {
            date: day::monday(),
            attendees: vec!["Alex".into(), "Robin Example".into(), "Ada Example".into()],
        },
    )?;
    store.add_decision(
        &plan,
        &first,
        "Alex decided that Robin may read the care plan and safety plan, not the journal. \
         Alex understood the decision and made it (Gillick competence assessed for this \
         decision by Ada Example).",
    )?;
    let review = store.add_meeting(
        &plan,
        &MeetingDetails {
            date: day::friday(),
            attendees: vec![
                "Alex".into(),
                "Robin Example".into(),
                "Ada Example".into(),
                "Dr Eli Testcase".into(),
            ],
        },
    )?;
    t.act(
        tablet,
        &format!(
            "creates Alex's care plan: THRIVE 'getting help', goal \"Get back to full days at \
             school\" scored 3/10, crisis line {CRISIS_NUMBER_MONDAY}, review on Friday"
        ),
    );
    t.act(
        tablet,
        "records Alex's decision on sharing: Robin may read the plan, not the journal",
    );
    store.grant(&plan, cast.alex.id(), Role::Owner)?;
    store.grant(&plan, cast.psychologist.id(), Role::Writer)?;
    t.act(
        tablet,
        "grants: Alex's phone owner (beside the tablet), the psychologist's laptop writer",
    );
    t.sync(tablet)?;

    let phone = &cast.alex;
    t.sync(phone)?;
    phone.store.grant(&plan, cast.parent.id(), Role::Reader)?;
    t.act(
        phone,
        "Alex grants Robin's phone reader on the plan: Alex's own decision, from Alex's phone",
    );
    let journal = phone.store.create_journal()?;
    phone.store.add_check_in(
        &journal,
        &CheckInDetails {
            mood: 4,
            feelings: vec!["nervous".into(), "relieved".into()],
            note: "Didn't want to go today. Glad I did.".into(),
        },
    )?;
    t.act(
        phone,
        "starts a journal, first check-in: mood 4/10 (Alex-only: no one else is granted it)",
    );
    t.sync(phone)?;
    t.sync(&cast.parent)?;
    t.sync(&cast.psychologist)?;
    Ok(Records {
        plan,
        crisis_line,
        goal,
        review,
        journal,
    })
}
