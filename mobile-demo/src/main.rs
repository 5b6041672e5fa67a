//! A care team working offline: the young person's phone, the care
//! coordinator's tablet and a psychologist's laptop each keep the plan in
//! their own encrypted store, edit it without a connection, and merge.
//!
//! Run with `cargo run -p mobile-demo`; `--keep DIR` keeps the store files.
//! Devices exchange document bytes directly here; syncing through the
//! lynchpin-server relay arrives with the sync engine.

#![allow(clippy::print_stdout)]

use std::{error::Error, path::PathBuf};

use chrono::NaiveDate;
use lynchpin_core::{
    CarePlanDetails, ConflictField, CrisisContactDetails, DocumentId, GoalDetails, GoalLifecycle,
    MeetingDetails, MeetingText, PlanStatus, Role, SafetyList, Store, StoreKey, TeamMemberDetails,
    TeamRole, Thrive,
};

struct Device {
    name: &'static str,
    store: Store,
}

impl Device {
    fn open(dir: &std::path::Path, name: &'static str, file: &str) -> Result<Self, Box<dyn Error>> {
        // Each app keeps its own key in the platform key store.
        let store = Store::open(dir.join(file), &StoreKey::generate()?)?;
        Ok(Self { name, store })
    }

    /// Receives another device's copy of the plan and merges it.
    fn receive(&self, from: &Device, plan: &DocumentId) -> Result<(), Box<dyn Error>> {
        let outcome = self.store.import(&from.store.export(plan)?)?;
        println!(
            "    {:<28} ← {:<28} {} new change(s)",
            self.name, from.name, outcome.new_changes
        );
        Ok(())
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn scene(title: &str) {
    println!("\n── {title}");
}

fn main() -> Result<(), Box<dyn Error>> {
    let keep = std::env::args()
        .skip_while(|a| a != "--keep")
        .nth(1)
        .map(PathBuf::from);
    let temp = tempfile::tempdir()?;
    let dir = match &keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };

    println!("Lynchpin — a care team working offline (fictional people, drama-range numbers)");
    let phone = Device::open(&dir, "Alex's phone", "alex-phone.lynchpin")?;
    let tablet = Device::open(&dir, "Coordinator's tablet", "coordinator-tablet.lynchpin")?;
    let laptop = Device::open(
        &dir,
        "Psychologist's laptop",
        "psychologist-laptop.lynchpin",
    )?;
    for device in [&phone, &tablet, &laptop] {
        println!(
            "  {:<28} device {}",
            device.name,
            &device.store.device_id().to_string()[..12]
        );
    }

    scene("Monday: the care coordinator sets up Alex's plan");
    let plan = tablet.store.create_care_plan(&CarePlanDetails {
        subject_name: "Alex".into(),
        status: PlanStatus::Active,
        period_start: Some(date(2026, 11, 23)),
        period_end: None,
        next_review: Some(date(2026, 11, 27)),
    })?;
    // Alex owns their plan beside the coordinator; the psychologist writes.
    tablet
        .store
        .grant(&plan, phone.store.device_id(), Role::Owner)?;
    tablet
        .store
        .grant(&plan, laptop.store.device_id(), Role::Writer)?;
    tablet
        .store
        .set_thrive(&plan, Thrive::GettingHelp, date(2026, 11, 23))?;
    for (name, role, device) in [
        ("Alex", TeamRole::YoungPerson, phone.store.device_id()),
        (
            "Dr Ada Example",
            TeamRole::CareCoordinator,
            tablet.store.device_id(),
        ),
        (
            "Dr Eli Testcase",
            TeamRole::Clinician,
            laptop.store.device_id(),
        ),
    ] {
        let member = tablet.store.add_team_member(
            &plan,
            &TeamMemberDetails {
                display_name: name.into(),
                role,
                device: Some(device),
                since: Some(date(2026, 11, 23)),
                until: None,
            },
        )?;
        if role == TeamRole::CareCoordinator {
            tablet.store.set_coordinator(&plan, &member)?;
        }
    }
    let goal = tablet.store.add_goal(
        &plan,
        &GoalDetails {
            description: "Get back to full days at school".into(),
            expressed_by: "Alex".into(),
            lifecycle: GoalLifecycle::Active,
            achievement: None,
            target_date: Some(date(2027, 3, 1)),
        },
    )?;
    tablet
        .store
        .record_goal_score(&plan, &goal, date(2026, 11, 23), 3)?;
    let crisis = tablet.store.add_crisis_contact(
        &plan,
        &CrisisContactDetails {
            name: "Out-of-hours crisis line (fictional)".into(),
            phone: Some("0808 157 0100".into()),
            text_number: None,
            hours: "24/7".into(),
            region: "Testford".into(),
            last_checked: Some(date(2026, 11, 1)),
        },
    )?;
    let meeting = tablet.store.add_meeting(
        &plan,
        &MeetingDetails {
            date: date(2026, 11, 27),
            attendees: vec![
                "Alex".into(),
                "Dr Ada Example".into(),
                "Dr Eli Testcase".into(),
            ],
        },
    )?;
    println!("  plan, team, a goal scored 3/10, a crisis line and Friday's review meeting");
    phone.receive(&tablet, &plan)?;
    laptop.receive(&tablet, &plan)?;

    scene("Tuesday to Thursday: everyone works offline");
    phone.store.add_safety_item(
        &plan,
        SafetyList::WarningSigns,
        "Staying in my room all day",
    )?;
    phone
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "Not replying to friends")?;
    phone
        .store
        .add_safety_item(&plan, SafetyList::ReasonsForLiving, "My dog, Biscuit")?;
    phone.store.set_meeting_text(
        &plan,
        &meeting,
        MeetingText::MyVoice,
        "I want to talk about going back to school slowly.",
    )?;
    println!("  Alex adds warning signs, a reason for living and writes 'my voice'");
    let new_number = |number: &str| CrisisContactDetails {
        name: "Out-of-hours crisis line (fictional)".into(),
        phone: Some(number.into()),
        text_number: None,
        hours: "24/7".into(),
        region: "Testford".into(),
        last_checked: Some(date(2026, 11, 25)),
    };
    tablet
        .store
        .update_crisis_contact(&plan, &crisis, &new_number("0808 157 0200"))?;
    laptop
        .store
        .update_crisis_contact(&plan, &crisis, &new_number("0808 157 0300"))?;
    println!("  the coordinator and the psychologist both change the crisis line's number");
    tablet.store.set_meeting_text(
        &plan,
        &meeting,
        MeetingText::Notes,
        "Agreed: phased return.",
    )?;
    laptop.store.set_meeting_text(
        &plan,
        &meeting,
        MeetingText::Notes,
        "Sleep diary for two weeks.",
    )?;
    println!("  both type into the meeting notes");

    scene("Friday: connectivity returns and the devices merge");
    for (to, from) in [
        (&tablet, &phone),
        (&tablet, &laptop),
        (&phone, &tablet),
        (&laptop, &tablet),
    ] {
        to.receive(from, &plan)?;
    }
    let notes = tablet.store.care_plan(&plan)?.meetings[0].notes.clone();
    println!("  meeting notes, merged by character: {notes:?}");

    scene("The crisis-line conflict is shown, not hidden");
    for conflict in tablet.store.conflicts(&plan)? {
        let field = match &conflict.field {
            ConflictField::CrisisContact { field, .. } => format!("crisis contact: {field:?}"),
            ConflictField::SafetyItem { list, .. } => format!("safety plan item in {list}"),
            ConflictField::CodeWord => "code word".to_string(),
        };
        println!("  {field}, written concurrently:");
        for value in &conflict.values {
            let author = value.author.map(|a| a.to_string()).unwrap_or_default();
            let who = [&phone, &tablet, &laptop]
                .iter()
                .find(|d| d.store.device_id().to_string() == author)
                .map_or("unknown device", |d| d.name);
            println!(
                "    {:<16} written by {who}",
                value.value.as_deref().unwrap_or("(cleared)")
            );
        }
        if matches!(conflict.field, ConflictField::CrisisContact { .. }) {
            tablet
                .store
                .resolve_conflict(&plan, &conflict.field, Some("0808 157 0300"))?;
            println!("  the coordinator checks the number and keeps 0808 157 0300");
        }
    }
    for (to, from) in [(&phone, &tablet), (&laptop, &tablet)] {
        to.receive(from, &plan)?;
    }

    scene("Summary");
    let reference = phone.store.care_plan(&plan)?;
    for device in [&phone, &tablet, &laptop] {
        let held = device.store.care_plan(&plan)?;
        let safety = &held.safety_plan;
        println!(
            "  {:<28} warning signs {}  reasons {}  crisis line {}  conflicts {}  same as Alex's phone: {}",
            device.name,
            safety.warning_signs.len(),
            safety.reasons_for_living.len(),
            safety.crisis_contacts[0]
                .details
                .phone
                .as_deref()
                .unwrap_or("-"),
            device.store.conflicts(&plan)?.len(),
            held == reference,
        );
        if held != reference {
            return Err("devices did not converge".into());
        }
    }
    if let Some(dir) = keep {
        println!("\nStores kept in {}", dir.display());
    }
    Ok(())
}
