//! The week, one function per scene, in the order `main` plays them.
//!
//! Each scene makes real calls on the devices' stores and syncs through the
//! real relay; the timeline only prints what they did. What a scene creates
//! that later scenes need is returned in [`Records`] or [`Signposted`].

use std::error::Error;

use chrono::NaiveDate;
use lynchpin_core::{
    Audience, CarePlanDetails, CheckInDetails, ConflictField, ContactField, Cost,
    CrisisContactDetails, DocumentId, Error as CoreError, GoalDetails, GoalLifecycle, ItemId,
    MeetingDetails, MeetingText, PlanStatus, ResourceContact, ResourceDetails, ResourceKind,
    ResourceRef, ResourceStatus, Role, SafetyList, TeamMemberDetails, TeamRole, Thrive,
};

use crate::{cast::Cast, device::Device, timeline::Timeline};

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
const CRISIS_LINE: &str = "Testford CAMHS crisis line (fictional)";
const CRISIS_NUMBER_MONDAY: &str = "01632 960100";
/// The number the coordinator is given on Wednesday.
const CRISIS_NUMBER_COORDINATOR: &str = "01632 960111";
/// The number the psychologist is given on Wednesday: the right one.
const CRISIS_NUMBER_PSYCHOLOGIST: &str = "01632 960155";

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

/// What the signposting scene creates.
pub struct Signposted {
    /// The resources signposted in the plan, in the region's directory.
    pub resources: Vec<ResourceRef>,
}

fn crisis_line(number: &str, checked: NaiveDate) -> CrisisContactDetails {
    CrisisContactDetails {
        name: CRISIS_LINE.into(),
        phone: Some(number.into()),
        text_number: None,
        hours: "24/7".into(),
        region: "Testford".into(),
        last_checked: Some(checked),
    }
}

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

fn resource(
    name: &str,
    description: &str,
    kind: ResourceKind,
    audience: Audience,
    phone: &str,
    hours: &str,
    always_open: bool,
) -> ResourceDetails {
    ResourceDetails {
        name: name.into(),
        description: description.into(),
        kind,
        organisation: "Testford Wellbeing Network (fictional)".into(),
        status: ResourceStatus::Active,
        thrive: vec![Thrive::GettingAdvice, Thrive::GettingHelp],
        audience,
        min_age: (audience == Audience::YoungPerson).then_some(11),
        max_age: (audience == Audience::YoungPerson).then_some(18),
        regions: vec!["Testford".into()],
        cost: Cost::Free,
        languages: vec!["English".into()],
        contact: ResourceContact {
            phones: vec![phone.into()],
            text_numbers: Vec::new(),
            email: None,
            url: Some("https://example.org/testford".into()),
        },
        opening_hours: hours.into(),
        always_open,
        works_offline: false,
        assessment: Default::default(),
        last_checked: Some(day::monday()),
        checked_by: "Ada Example".into(),
        review_due: NaiveDate::from_ymd_opt(2027, 5, 1),
    }
}

/// Tuesday: the coordinator publishes the region's directory to the team
/// and signposts a peer-support group to Alex and a parent-to-parent course
/// for Robin. Nothing is endorsed yet: endorsements are a later version of
/// the directory (see `main`).
pub fn signpost_resources(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<Signposted> {
    t.scene(
        day::tuesday(),
        "the coordinator signposts support from the directory",
    );
    let tablet = &cast.coordinator;
    let store = &tablet.store;
    let directory = store.create_directory("Testford Wellbeing Network (fictional)")?;
    store.add_resource(
        &directory,
        &resource(
            "Testford Youth Helpline (fictional)",
            "A listening line for young people, day and night.",
            ResourceKind::Helpline,
            Audience::YoungPerson,
            "0808 157 0123",
            "24/7",
            true,
        ),
    )?;
    let group = store.add_resource(
        &directory,
        &resource(
            "Testford Young People's Peer Group (fictional)",
            "Young people who have been there, meeting weekly with a trained peer supporter.",
            ResourceKind::PeerSupportGroup,
            Audience::YoungPerson,
            "01632 960200",
            "Wednesdays 17:00–18:30",
            false,
        ),
    )?;
    let course = store.add_resource(
        &directory,
        &resource(
            "Parents Together: Testford parent-to-parent course (fictional)",
            "Six evenings run by parents of young people who have used CAMHS.",
            ResourceKind::ParentTraining,
            Audience::ParentOrCarer,
            "01632 960300",
            "Thursdays 19:00–21:00",
            false,
        ),
    )?;
    for (device, role) in [
        (&cast.alex, Role::Reader),
        (&cast.parent, Role::Reader),
        (&cast.psychologist, Role::Writer),
    ] {
        store.grant(&directory, device.id(), role)?;
    }
    t.act(
        tablet,
        "publishes the region's directory (a helpline, a peer group, a parents' course) to the \
         team: clinicians write, Alex and Robin read",
    );
    let resources = vec![
        ResourceRef {
            directory,
            resource: group,
        },
        ResourceRef {
            directory,
            resource: course,
        },
    ];
    for (resource, reason) in resources.iter().zip([
        "Meeting others who get it, at Alex's own pace",
        "For Robin: evenings with parents who have been through CAMHS",
    ]) {
        store.add_signpost(
            &records.plan,
            resource,
            "Ada Example",
            reason,
            day::tuesday(),
        )?;
    }
    t.act(
        tablet,
        "signposts the peer group to Alex and the parents' course for Robin (not endorsed: \
         endorsements come in a later version)",
    );
    t.sync(tablet)?;
    for device in [&cast.alex, &cast.parent, &cast.psychologist] {
        t.sync(device)?;
    }
    Ok(Signposted { resources })
}

/// Tuesday evening: everyone loses their connection; Alex keeps adding to
/// the safety plan and the journal on the phone.
pub fn offline_evening(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<()> {
    t.scene(day::tuesday(), "evening: the connections go");
    cast.set_online(false);
    t.narrate(
        "Alex's phone is out of data, Robin is away with no signal, and the clinicians are on \
         home visits in the hills until Friday.",
    );
    let phone = &cast.alex;
    for (list, text) in [
        (SafetyList::WarningSigns, "Staying in my room all day"),
        (SafetyList::WarningSigns, "Not replying to my friends"),
        (SafetyList::WarningSigns, "Awake past 3am"),
        (SafetyList::ReasonsForLiving, "My dog, Biscuit"),
        (
            SafetyList::ReasonsForLiving,
            "Seeing my little brother grow up",
        ),
        (SafetyList::PeopleToAsk, "Robin (parent), 07700 900123"),
    ] {
        phone.store.add_safety_item(&records.plan, list, text)?;
    }
    t.act(
        phone,
        "adds 3 warning signs, 2 reasons for living and Robin as someone to ask for help",
    );
    phone.store.add_check_in(
        &records.journal,
        &CheckInDetails {
            mood: 3,
            feelings: vec!["low".into()],
            note: "Bad day. Didn't tell anyone.".into(),
        },
    )?;
    t.act(
        phone,
        "writes a journal check-in: mood 3/10 (for Alex only)",
    );
    t.sync(phone)?;
    Ok(())
}

/// Wednesday: the coordinator and the psychologist, both offline, change
/// the crisis line's number in the safety plan at the same time.
pub fn concurrent_safety_edits(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<()> {
    t.scene(
        day::wednesday(),
        "the coordinator and the psychologist edit the safety plan at once",
    );
    let tablet = &cast.coordinator;
    tablet.store.update_crisis_contact(
        &records.plan,
        &records.crisis_line,
        &crisis_line(CRISIS_NUMBER_COORDINATOR, day::wednesday()),
    )?;
    tablet.store.set_meeting_text(
        &records.plan,
        &records.review,
        MeetingText::Notes,
        "Agenda: school return.\n",
    )?;
    t.act(
        tablet,
        &format!(
            "hears the crisis line has moved: changes its number to {CRISIS_NUMBER_COORDINATOR}"
        ),
    );
    t.act(tablet, "types the agenda into Friday's review notes");
    let laptop = &cast.psychologist;
    laptop.store.update_crisis_contact(
        &records.plan,
        &records.crisis_line,
        &crisis_line(CRISIS_NUMBER_PSYCHOLOGIST, day::wednesday()),
    )?;
    laptop.store.add_safety_item(
        &records.plan,
        SafetyList::Professionals,
        "Dr Eli Testcase, Testford CAMHS, Tuesdays",
    )?;
    laptop.store.set_meeting_text(
        &records.plan,
        &records.review,
        MeetingText::Notes,
        "Sleep diary to discuss.\n",
    )?;
    t.act(
        laptop,
        &format!(
            "is told the same line's new number is {CRISIS_NUMBER_PSYCHOLOGIST}: changes it too"
        ),
    );
    t.act(
        laptop,
        "adds themself to the safety plan's professionals; types into the review notes",
    );
    Ok(())
}

/// Thursday: Alex writes "my voice" for the review; Robin reads the safety
/// plan offline, and the phone refuses Robin's edit.
pub fn before_the_review(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<()> {
    t.scene(day::thursday(), "Alex writes 'my voice' before the review");
    let phone = &cast.alex;
    phone.store.set_meeting_text(
        &records.plan,
        &records.review,
        MeetingText::MyVoice,
        "I want to start with mornings at school. Please don't ring me in lessons. \
         Biscuit helps more than anything.",
    )?;
    t.act(
        phone,
        "writes 'my voice' for Friday's review: what Alex wants the team to hear",
    );
    let parent = &cast.parent;
    let safety = parent.store.safety_plan(&records.plan)?;
    let number = safety
        .crisis_contacts
        .first()
        .and_then(|c| c.details.phone.clone())
        .unwrap_or_default();
    t.act(
        parent,
        &format!(
            "reads Alex's safety plan with no connection, as of Tuesday's sync: crisis line \
             {number}, {} coping strategy",
            safety.coping_strategies.len(),
        ),
    );
    match parent
        .store
        .add_safety_item(&records.plan, SafetyList::PeopleToAsk, "Robin")
    {
        Err(CoreError::NotAllowed(what)) => t.act(
            parent,
            &format!(
                "tries to add to the plan: refused by the phone itself, Robin's role is reader \
                 (NotAllowed: {what})"
            ),
        ),
        Ok(_) => return Err("a reader's device accepted an edit to the plan".into()),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Shows every conflicting value on `device`, with its author.
fn show_conflicts(t: &mut Timeline, cast: &Cast, device: &Device, plan: &DocumentId) -> Result<()> {
    let conflicts = device.store.conflicts(plan)?;
    if conflicts.is_empty() {
        t.act(device, "safety plan: no conflict");
    }
    for conflict in conflicts {
        let field = match &conflict.field {
            ConflictField::CrisisContact { field, .. } => match field {
                ContactField::Phone => "crisis line's number".to_string(),
                other => format!("crisis line's {other:?}"),
            },
            ConflictField::SafetyItem { list, .. } => format!("an item of {list}"),
            ConflictField::CodeWord => "the code word".to_string(),
        };
        let values: Vec<String> = conflict
            .values
            .iter()
            .map(|v| {
                format!(
                    "{} (by {})",
                    v.value.as_deref().unwrap_or("cleared"),
                    cast.name_of(v.author)
                )
            })
            .collect();
        t.act(
            device,
            &format!(
                "⚠ {field} has {} values: {}",
                values.len(),
                values.join(" | ")
            ),
        );
    }
    Ok(())
}

/// Friday morning: the connections return, every device syncs through the
/// relay, and every device shows the crisis-line conflict.
pub fn back_online(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<()> {
    t.scene(
        day::friday(),
        "morning: back online, everyone syncs through the relay",
    );
    cast.set_online(true);
    // Two rounds: the first carries each device's week to the relay, the
    // second brings everyone what the others sent after them.
    for device in [
        &cast.alex,
        &cast.parent,
        &cast.psychologist,
        &cast.coordinator,
    ] {
        t.sync(device)?;
    }
    for device in [&cast.alex, &cast.parent, &cast.psychologist] {
        t.sync(device)?;
    }
    let notes = cast
        .coordinator
        .store
        .care_plan(&records.plan)?
        .meetings
        .into_iter()
        .find(|m| m.id == records.review)
        .map(|m| m.notes)
        .unwrap_or_default();
    let notes: Vec<&str> = notes.lines().collect();
    t.narrate(&format!(
        "The review notes both clinicians typed offline, merged by character: \"{}\"",
        notes.join(" / ")
    ));
    t.narrate(
        "The crisis number was changed on two devices at once. Automerge keeps both, and \
         Lynchpin shows both, with their authors, on every device:",
    );
    for device in cast.all() {
        show_conflicts(t, cast, device, &records.plan)?;
    }
    Ok(())
}

/// Friday, the review: the coordinator checks the number, resolves the
/// conflict and records the decisions; everyone converges.
pub fn review_meeting(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<()> {
    t.scene(day::friday(), "the review meeting resolves the conflict");
    let tablet = &cast.coordinator;
    let field = tablet
        .store
        .conflicts(&records.plan)?
        .into_iter()
        .map(|c| c.field)
        .find(|f| {
            matches!(
                f,
                ConflictField::CrisisContact {
                    field: ContactField::Phone,
                    ..
                }
            )
        })
        .ok_or("the crisis-line conflict did not reach the coordinator")?;
    tablet
        .store
        .resolve_conflict(&records.plan, &field, Some(CRISIS_NUMBER_PSYCHOLOGIST))?;
    t.act(
        tablet,
        &format!(
            "rings the line's switchboard, keeps {CRISIS_NUMBER_PSYCHOLOGIST} and resolves the \
             conflict"
        ),
    );
    let review = &records.review;
    tablet.store.add_decision(
        &records.plan,
        review,
        "Phased return to school: mornings from Monday 30 November.",
    )?;
    tablet
        .store
        .record_goal_score(&records.plan, &records.goal, day::friday(), 4)?;
    t.act(
        tablet,
        "records the decision (mornings at school first) and Alex's goal score, 4/10",
    );
    t.sync(tablet)?;
    for device in [&cast.alex, &cast.parent, &cast.psychologist] {
        t.sync(device)?;
    }
    let mut resolved = true;
    for device in cast.all() {
        resolved &= device.store.conflicts(&records.plan)?.is_empty();
    }
    if resolved {
        t.narrate(&format!(
            "Every device now shows one crisis number, {CRISIS_NUMBER_PSYCHOLOGIST}, and no conflict."
        ));
    } else {
        for device in cast.all() {
            show_conflicts(t, cast, device, &records.plan)?;
        }
    }
    Ok(())
}
