//! Tuesday evening to Thursday: no one has a connection. Alex adds to the
//! safety plan and the journal and writes "my voice"; the coordinator and the
//! psychologist change the same crisis number; the parent reads the plan.

use lynchpin_core::{CheckInDetails, Error as CoreError, MeetingText, SafetyList};

use super::{
    CRISIS_NUMBER_COORDINATOR, CRISIS_NUMBER_PSYCHOLOGIST, Records, Result, crisis_line, day,
};
use crate::{cast::Cast, timeline::Timeline};

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
