//! A relay server killed (SIGKILL) in the middle of sessions and restarted
//! loses nothing: every session that completed is on its disk, and sessions
//! it interrupted resume.

#![allow(clippy::print_stderr)]

use std::{thread, time::Duration};

use lynchpin_core::{
    CarePlanDetails, Error, PlanStatus, Role, SafetyList, Store, StoreKey, SyncServer,
    generate::Rng,
};
use lynchpin_tests::server::ServerProcess;

fn store(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(dir.path().join(name), &StoreKey::generate().unwrap()).unwrap()
}

#[test]
fn a_server_killed_mid_session_and_restarted_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let mut relay = ServerProcess::start(&data);
    let writer = store(&dir, "writer.db");
    let reader = store(&dir, "reader.db");
    let mut writer_server = writer.enroll(&relay.url(), &relay.invite()).unwrap();
    let mut reader_server = reader.enroll(&relay.url(), &relay.invite()).unwrap();
    let plan = writer
        .create_care_plan(&CarePlanDetails {
            subject_name: "Alex".into(),
            status: PlanStatus::Active,
            period_start: None,
            period_end: None,
            next_review: None,
        })
        .unwrap();
    writer
        .grant(&plan, reader.device_id(), Role::Reader)
        .unwrap();
    writer.sync(&writer_server).unwrap();

    let mut rng = Rng::new(11);
    let mut acknowledged = Vec::new();
    let mut written = Vec::new();
    for round in 0..16 {
        for i in 0..5 {
            let text = format!("round {round} edit {i}");
            writer
                .add_safety_item(&plan, SafetyList::WarningSigns, &text)
                .unwrap();
            written.push(text);
        }
        // Sync in the background and kill the server at a random moment:
        // before, during or after the session.
        let outcome = thread::scope(|scope| {
            let session = scope.spawn(|| writer.sync(&writer_server));
            thread::sleep(Duration::from_millis(rng.below(250) as u64));
            relay.kill();
            session.join().unwrap()
        });
        match outcome {
            Ok(_) => acknowledged.append(&mut written),
            Err(Error::Offline | Error::ServerRejected { .. }) => {}
            Err(other) => panic!("unexpected failure: {other:?}"),
        }
        // Restart on the same data; the server keeps its identity.
        relay = ServerProcess::start(&data);
        let id = writer_server.id;
        writer_server = SyncServer {
            url: relay.url(),
            id,
        };
        reader_server = SyncServer {
            url: relay.url(),
            id: reader_server.id,
        };
        assert_eq!(id, reader_server.id);

        // Everything the server acknowledged before the kill is there.
        reader.sync(&reader_server).unwrap();
        let held: Vec<String> = reader
            .safety_plan(&plan)
            .unwrap()
            .warning_signs
            .into_iter()
            .map(|item| item.text)
            .collect();
        for text in &acknowledged {
            assert!(
                held.contains(text),
                "{text} was acknowledged but is missing after a restart"
            );
        }
    }
    // Interrupted sessions resume: one clean session brings the rest.
    writer.sync(&writer_server).unwrap();
    reader.sync(&reader_server).unwrap();
    assert_eq!(
        reader.care_plan(&plan).unwrap(),
        writer.care_plan(&plan).unwrap()
    );
    assert_eq!(reader.safety_plan(&plan).unwrap().warning_signs.len(), 80);
    eprintln!(
        "{} of 80 edits were acknowledged before a kill",
        acknowledged.len()
    );
}
