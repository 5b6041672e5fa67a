//! Three devices and a real lynchpin-server process on 127.0.0.1: they edit
//! offline, sync in turns through the relay and converge.

use chrono::NaiveDate;
use lynchpin_core::{
    CarePlanDetails, CrisisContactDetails, DocumentId, Error, MeetingDetails, MeetingText,
    PlanStatus, Role, SafetyList, Store, StoreKey, SyncServer,
};
use lynchpin_tests::server::ServerProcess;
use tempfile::TempDir;

struct Device {
    store: Store,
    server: SyncServer,
}

fn device(dir: &TempDir, name: &str, relay: &ServerProcess) -> Device {
    let store = Store::open(dir.path().join(name), &StoreKey::generate().unwrap()).unwrap();
    let server = store.enroll(&relay.url(), &relay.invite()).unwrap();
    Device { store, server }
}

impl Device {
    fn sync(&self) -> lynchpin_core::sync::SyncReport {
        self.store.sync(&self.server).unwrap()
    }
}

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn new_plan(store: &Store) -> DocumentId {
    store
        .create_care_plan(&CarePlanDetails {
            subject_name: "Alex".into(),
            status: PlanStatus::Active,
            period_start: Some(date(1)),
            period_end: None,
            next_review: Some(date(27)),
        })
        .unwrap()
}

#[test]
fn young_person_parent_and_clinician_edit_offline_and_converge() {
    let dir = tempfile::tempdir().unwrap();
    let relay = ServerProcess::start(&dir.path().join("server"));
    let young_person = device(&dir, "young-person.db", &relay);
    let parent = device(&dir, "parent.db", &relay);
    let clinician = device(&dir, "clinician.db", &relay);

    // The clinician, the care coordinator, sets the plan up, makes the young
    // person an owner beside them and lets the parent write; the others
    // fetch it.
    let plan = new_plan(&clinician.store);
    clinician
        .store
        .grant(&plan, young_person.store.device_id(), Role::Owner)
        .unwrap();
    clinician
        .store
        .grant(&plan, parent.store.device_id(), Role::Writer)
        .unwrap();
    let meeting = clinician
        .store
        .add_meeting(
            &plan,
            &MeetingDetails {
                date: date(27),
                attendees: vec!["Alex".into()],
            },
        )
        .unwrap();
    clinician
        .store
        .set_meeting_text(&plan, &meeting, MeetingText::Notes, "Agenda: school.")
        .unwrap();
    let report = clinician.sync();
    assert_eq!(report.documents_sent, 1);
    assert_eq!(young_person.sync().documents_received, 1);
    assert_eq!(parent.sync().documents_received, 1);

    // Everyone edits offline.
    young_person
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
        .unwrap();
    young_person
        .store
        .set_meeting_text(
            &plan,
            &meeting,
            MeetingText::MyVoice,
            "I want a phased return.",
        )
        .unwrap();
    parent
        .store
        .add_safety_item(&plan, SafetyList::PeopleToAsk, "Aunt Jo")
        .unwrap();
    clinician
        .store
        .add_crisis_contact(
            &plan,
            &CrisisContactDetails {
                name: "Crisis line (fictional)".into(),
                phone: Some("0808 157 0100".into()),
                text_number: None,
                hours: "24/7".into(),
                region: "Testford".into(),
                last_checked: Some(date(20)),
            },
        )
        .unwrap();
    // Two people type into the same meeting notes at once.
    parent
        .store
        .splice_meeting_text(
            &plan,
            &meeting,
            MeetingText::Notes,
            15,
            0,
            " Parent: mornings are hard.",
        )
        .unwrap();
    clinician
        .store
        .splice_meeting_text(&plan, &meeting, MeetingText::Notes, 0, 0, "Review 27/11. ")
        .unwrap();

    // They sync in turns; a second pass brings everyone everything.
    for _ in 0..2 {
        for device in [&young_person, &parent, &clinician] {
            let report = device.sync();
            assert!(report.round_trips <= 2, "{report:?}");
        }
    }
    let reference = clinician.store.care_plan(&plan).unwrap();
    assert_eq!(young_person.store.care_plan(&plan).unwrap(), reference);
    assert_eq!(parent.store.care_plan(&plan).unwrap(), reference);
    let notes = &reference.meetings[0].notes;
    assert_eq!(
        notes,
        "Review 27/11. Agenda: school. Parent: mornings are hard."
    );
    assert_eq!(reference.meetings[0].my_voice, "I want a phased return.");
    assert_eq!(reference.safety_plan.warning_signs[0].text, "Not sleeping");
    assert_eq!(reference.safety_plan.people_to_ask[0].text, "Aunt Jo");
    assert_eq!(reference.safety_plan.crisis_contacts.len(), 1);

    // Nothing new: a session costs a few bytes.
    let idle = young_person.sync();
    assert_eq!(idle.documents_sent + idle.documents_received, 0);
    assert!(idle.bytes_sent + idle.bytes_received < 200, "{idle:?}");
}

#[test]
fn a_device_that_is_not_enrolled_gets_401_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let relay = ServerProcess::start(&dir.path().join("server"));
    let member = device(&dir, "member.db", &relay);
    let plan = new_plan(&member.store);
    member
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "private")
        .unwrap();
    member.sync();

    let outsider = Store::open(
        dir.path().join("outsider.db"),
        &StoreKey::generate().unwrap(),
    )
    .unwrap();
    let pretend = SyncServer {
        url: relay.url(),
        id: member.server.id,
    };
    match outsider.sync(&pretend) {
        Err(Error::ServerRejected { status: 401, code }) => assert_eq!(code, "unauthorized"),
        other => panic!("expected 401, got {other:?}"),
    }
    assert!(outsider.documents().unwrap().is_empty());

    // An invite works once.
    let code = relay.invite();
    let first = Store::open(dir.path().join("first.db"), &StoreKey::generate().unwrap()).unwrap();
    first.enroll(&relay.url(), &code).unwrap();
    let second = Store::open(dir.path().join("second.db"), &StoreKey::generate().unwrap()).unwrap();
    assert!(matches!(
        second.enroll(&relay.url(), &code),
        Err(Error::ServerRejected { status: 403, .. })
    ));
}

#[test]
fn an_unreachable_server_is_offline_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = ServerProcess::start(&dir.path().join("server"));
    let member = device(&dir, "member.db", &relay);
    let plan = new_plan(&member.store);
    relay.kill();
    member
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "offline edit")
        .unwrap();
    assert!(matches!(
        member.store.sync(&member.server),
        Err(Error::Offline)
    ));
    assert_eq!(
        member.store.safety_plan(&plan).unwrap().warning_signs[0].text,
        "offline edit"
    );
}
