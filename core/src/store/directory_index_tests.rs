//! The directory index after other devices' changes (brought up to date
//! from the changes, never stale) and its saved copy in SQLite (read back
//! without loading the document; stale, corrupt or mixed copies never
//! used as they are).

use std::convert::Infallible;

use chrono::Utc;
use tempfile::TempDir;

use super::{
    Inner,
    directory_index::{DirectoryIndex, Need},
    endorsement_tests::{Chain, open, resource},
    saved_index::{Damaged, Wanted},
};
use crate::{generate, *};

/// Queries the directory, then checks that the index in memory and the
/// saved copy both equal an index built afresh from the document; returns
/// how many times the index was patched since it was built or read back.
fn check(store: &Store, directory: &DocumentId) -> usize {
    store
        .query_resources(directory, &ResourceQuery::default(), Utc::now())
        .unwrap();
    let inner = store.lock();
    let loaded = inner.docs.get(directory).expect("the directory is loaded");
    let index = loaded.directory_index.as_ref().expect("an index");
    let fresh = DirectoryIndex::build(&loaded.doc, *directory, None);
    assert_eq!(index.content(), fresh.content());
    assert!(index.unsaved.is_empty(), "the query saved what changed");
    let mut saved = inner
        .read_saved_index(directory, Wanted::Current)
        .unwrap()
        .expect("a current saved index");
    inner
        .fill_index(directory, &mut saved, &Need::All)
        .expect("its full parts read");
    assert_eq!(saved.content(), fresh.content());
    index.patched
}

/// Whether the saved index, read whole, is found damaged.
fn damaged(inner: &Inner, directory: &DocumentId) -> bool {
    match inner.read_saved_index(directory, Wanted::Any) {
        Err(Damaged) => true,
        Ok(None) => false,
        Ok(Some(mut saved)) => inner.fill_index(directory, &mut saved, &Need::All).is_err(),
    }
}

/// `a` syncs with `b` directly.
fn sync(a: &Store, b: &Store) {
    let a_id = a.device_id();
    a.sync_with(b.device_id(), SyncScope::All, |request| {
        Ok::<_, Infallible>(b.respond_sync(a_id, &request, &SyncScope::All).unwrap())
    })
    .unwrap();
}

/// Everything a store shows of a directory.
fn seen(
    store: &Store,
    directory: &DocumentId,
) -> (
    ResourceDirectory,
    Vec<ResourceMatch>,
    Vec<ResourceEndorsements>,
) {
    let now = Utc::now();
    let listed = store.directory(directory).unwrap();
    let matches = store
        .query_resources(directory, &ResourceQuery::default(), now)
        .unwrap();
    let statuses = listed
        .resources
        .iter()
        .map(|r| store.resource_endorsements(directory, &r.id, now).unwrap())
        .collect();
    (listed, matches, statuses)
}

/// A directory of eight resources on `a`, one endorsed, with its index
/// built and saved; `b` holds it too and may write it.
fn shared(dir: &TempDir, chain: &Chain) -> (Store, Store, DocumentId) {
    let a = open(dir, "a.db");
    let b = open(dir, "b.db");
    a.set_trusted_organisations(chain.trust());
    b.set_trusted_organisations(chain.trust());
    let directory = generate::directory(&a, 5, 8).unwrap();
    a.grant(&directory, b.device_id(), Role::Writer).unwrap();
    let first = a.directory(&directory).unwrap().resources[0].id.clone();
    chain.endorse(&a, &directory, &first);
    b.import(&a.export(&directory).unwrap()).unwrap();
    assert_eq!(check(&a, &directory), 1, "the endorsement patched it");
    (a, b, directory)
}

#[test]
fn after_other_devices_changes_the_index_is_patched_and_equals_one_built_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (a, b, directory) = shared(&dir, &chain);
    let resources = b.directory(&directory).unwrap().resources;
    let from_b = |a: &Store, b: &Store| {
        a.import(&b.export(&directory).unwrap()).unwrap();
    };

    // A phone number edited on B.
    let mut details = resources[2].details.clone();
    details.contact.phones = vec!["0808 000 0002".into()];
    b.update_resource(&directory, &resources[2].id, &details)
        .unwrap();
    from_b(&a, &b);
    assert_eq!(check(&a, &directory), 2);
    assert_eq!(
        a.resource(&directory, &resources[2].id)
            .unwrap()
            .details
            .contact
            .phones,
        ["0808 000 0002"]
    );

    // A resource added, another removed.
    let added = b
        .add_resource(&directory, &resource("Aardvark Line", 9))
        .unwrap();
    from_b(&a, &b);
    assert_eq!(check(&a, &directory), 3);
    b.remove_resource(&directory, &resources[4].id).unwrap();
    from_b(&a, &b);
    assert_eq!(check(&a, &directory), 4);
    assert_eq!(a.directory(&directory).unwrap().resources[0].id, added);

    // An endorsement, then its revocation, both made on B.
    let endorsement = chain.endorse(&b, &directory, &added);
    from_b(&a, &b);
    assert_eq!(check(&a, &directory), 5);
    assert_eq!(
        a.resource_endorsements(&directory, &added, Utc::now())
            .unwrap()
            .state(),
        Some(EndorsementState::Endorsed)
    );
    b.revoke_endorsement(&directory, &endorsement, chain.org.secret_bytes().as_ref())
        .unwrap();
    from_b(&a, &b);
    assert_eq!(check(&a, &directory), 6);
    assert_eq!(
        a.resource_endorsements(&directory, &added, Utc::now())
            .unwrap()
            .state(),
        Some(EndorsementState::Revoked)
    );

    // Concurrent edits on both, merged by a sync: A's index was patched in
    // place by A's own edit, then again from B's changes.
    let mut on_a = resources[5].details.clone();
    on_a.opening_hours = "Mon–Fri 10:00–16:00".into();
    a.update_resource(&directory, &resources[5].id, &on_a)
        .unwrap();
    let mut on_b = resources[6].details.clone();
    on_b.description = "Now also by text".into();
    b.update_resource(&directory, &resources[6].id, &on_b)
        .unwrap();
    sync(&b, &a);
    assert_eq!(check(&a, &directory), 8);
    assert_eq!(seen(&a, &directory), seen(&b, &directory));
}

#[test]
fn changes_that_cannot_be_placed_rebuild_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (a, b, directory) = shared(&dir, &chain);
    // B replaces the whole map of resources: nothing says which resources
    // that touched.
    b.edit(
        &directory,
        DocumentKind::ResourceDirectory,
        "replace the resources",
        |tx, _| {
            use automerge::transaction::Transactable;
            tx.put_object(automerge::ROOT, "resources", automerge::ObjType::Map)?;
            Ok(())
        },
    )
    .unwrap();
    a.import(&b.export(&directory).unwrap()).unwrap();
    assert_eq!(check(&a, &directory), 0, "rebuilt");
    assert!(a.directory(&directory).unwrap().resources.is_empty());
}

#[test]
fn the_first_query_after_opening_reads_the_saved_index_without_loading_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (directory, before) = {
        let (a, b, directory) = shared(&dir, &chain);
        // A statement whose signature does not verify, and one that is not
        // a statement at all: saved as not trusted, and still so after.
        let resources = a.directory(&directory).unwrap().resources;
        let mut forged = Endorsement::sign(
            chain.clinician.secret_bytes().as_ref(),
            &chain.certificate,
            directory,
            &resources[1].id,
            a.resource_content_hash(&directory, &resources[1].id)
                .unwrap(),
            "Forged.",
            &[Thrive::GettingHelp],
            Utc::now(),
            Utc::now().date_naive(),
        )
        .unwrap();
        forged.resign(&[3; 32]);
        let junk_key = format!("{}/{}", resources[1].id, "ab".repeat(32));
        a.edit(
            &directory,
            DocumentKind::ResourceDirectory,
            "write junk",
            |tx, _| {
                use automerge::transaction::Transactable;
                doc::endorsements::add_endorsement(tx, &forged)?;
                let map = doc::fields::ensure_map(tx, &automerge::ROOT, "endorsements")?;
                tx.put(
                    &map,
                    junk_key.as_str(),
                    automerge::ScalarValue::Bytes(b"junk".to_vec()),
                )?;
                Ok(())
            },
        )
        .unwrap();
        let endorsement = chain.endorse(&a, &directory, &resources[2].id);
        a.revoke_endorsement(&directory, &endorsement, chain.org.secret_bytes().as_ref())
            .unwrap();
        // Text that is not ASCII is saved as written, ASCII text as the
        // entry's lower case and its capitals.
        let mut details = resources[4].details.clone();
        details.description = "Drop-in CAFÉ for Zoë and İlkay, Mon–Fri".into();
        details.regions = vec!["North Exampleshire".into(), "ÅRHUS".into()];
        a.update_resource(&directory, &resources[4].id, &details)
            .unwrap();
        check(&a, &directory);
        drop(b);
        (directory, seen(&a, &directory))
    };
    let a = open(&dir, "a.db");
    a.set_trusted_organisations(chain.trust());
    assert_eq!(seen(&a, &directory), before);
    let statuses = &before.2[1].all;
    assert!(
        statuses
            .iter()
            .any(|s| s.not_trusted == Some(NotTrustedReason::BadSignature))
    );
    assert!(
        statuses
            .iter()
            .any(|s| s.not_trusted == Some(NotTrustedReason::Malformed))
    );
    {
        let inner = a.lock();
        assert!(!inner.docs.contains_key(&directory), "not loaded");
        assert!(inner.unloaded_indexes.contains_key(&directory));
    }
    // An edit loads the document; the index read back moves in beside it
    // and is patched in place.
    let first = &before.0.resources[3];
    let mut details = first.details.clone();
    details.contact.phones.push("0808 000 0003".into());
    a.update_resource(&directory, &first.id, &details).unwrap();
    assert_eq!(check(&a, &directory), 1);
    // Trust is the app's setting of the moment, not the saved index's.
    a.set_trusted_organisations(TrustedOrganisations::default());
    let untrusted = seen(&a, &directory).2;
    assert!(
        untrusted
            .iter()
            .all(|e| e.state() != Some(EndorsementState::Endorsed))
    );
}

#[test]
fn a_saved_index_left_behind_by_later_changes_is_brought_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (directory, b) = {
        let (a, b, directory) = shared(&dir, &chain);
        // A local edit, with no query after it: not saved.
        let resources = a.directory(&directory).unwrap().resources;
        a.remove_resource(&directory, &resources[3].id).unwrap();
        let mut details = resources[4].details.clone();
        details.name = "Renamed on B".into();
        b.update_resource(&directory, &resources[4].id, &details)
            .unwrap();
        (directory, b)
    };
    let a = open(&dir, "a.db");
    a.set_trusted_organisations(chain.trust());
    // A merge while the index is not in memory: not saved either.
    a.import(&b.export(&directory).unwrap()).unwrap();
    {
        let inner = a.lock();
        assert!(inner.docs[&directory].directory_index.is_none());
        assert!(
            inner
                .read_saved_index(&directory, Wanted::Current)
                .unwrap()
                .is_none(),
            "the saved index is behind the document"
        );
    }
    assert_eq!(check(&a, &directory), 1, "patched, not rebuilt");
    let names: Vec<String> = a
        .directory(&directory)
        .unwrap()
        .resources
        .into_iter()
        .map(|r| r.details.name)
        .collect();
    assert_eq!(names.len(), 7);
    assert!(names.iter().any(|n| n == "Renamed on B"));
}

#[test]
fn a_merge_brings_the_index_in_memory_and_its_saved_copy_up_to_date_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (a, b, directory) = shared(&dir, &chain);
    let resources = b.directory(&directory).unwrap().resources;
    let mut details = resources[2].details.clone();
    details.contact.phones = vec!["0808 000 0004".into()];
    b.update_resource(&directory, &resources[2].id, &details)
        .unwrap();
    sync(&b, &a);
    let inner = a.lock();
    let index = inner.docs[&directory].directory_index.as_ref().unwrap();
    assert_eq!(index.patched, 2, "patched by the sync");
    assert!(index.unsaved.is_empty(), "and saved");
    let mut saved = inner
        .read_saved_index(&directory, Wanted::Current)
        .unwrap()
        .expect("current");
    inner
        .fill_index(&directory, &mut saved, &Need::All)
        .unwrap();
    assert_eq!(saved.content(), index.content());
}

/// Answers as `before` from an index built from the document, leaving the
/// damaged saved copy as it is; then, once a change has written to the
/// file anyway, saves the index afresh.
fn rebuilt_and_left_alone(
    a: &Store,
    directory: &DocumentId,
    before: &(
        ResourceDirectory,
        Vec<ResourceMatch>,
        Vec<ResourceEndorsements>,
    ),
) {
    assert_eq!(&seen(a, directory), before);
    {
        let inner = a.lock();
        let index = inner.docs[directory].directory_index.as_ref().unwrap();
        assert_eq!(index.patched, 0, "built from the document");
        assert!(index.unsaved.held);
        assert!(
            damaged(&inner, directory),
            "the damaged copy was not written over by a read"
        );
    }
    let first = &before.0.resources[0];
    let mut details = first.details.clone();
    details.opening_hours = "Sat 10:00–12:00".into();
    a.update_resource(directory, &first.id, &details).unwrap();
    assert_eq!(check(a, directory), 1);
}

/// Runs `damage` on the closed store's database, then checks the next open
/// as [`rebuilt_and_left_alone`] says.
fn survives(damage: impl FnOnce(&rusqlite::Connection, &DocumentId)) {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (directory, before) = {
        let (a, _b, directory) = shared(&dir, &chain);
        (directory, seen(&a, &directory))
    };
    {
        let conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
        damage(&conn, &directory);
    }
    let a = open(&dir, "a.db");
    a.set_trusted_organisations(chain.trust());
    rebuilt_and_left_alone(&a, &directory, &before);
}

fn rows(conn: &rusqlite::Connection, directory: &DocumentId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut stmt = conn
        .prepare("SELECT entry, blob FROM directory_index WHERE doc_id = ?1 ORDER BY entry")
        .unwrap();
    stmt.query_map([directory.as_bytes()], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn set_row(conn: &rusqlite::Connection, directory: &DocumentId, entry: &[u8], blob: &[u8]) {
    conn.execute(
        "UPDATE directory_index SET blob = ?3 WHERE doc_id = ?1 AND entry = ?2",
        rusqlite::params![directory.as_bytes(), entry, blob],
    )
    .unwrap();
}

/// The first row whose entry starts with `kind`.
fn first_row(conn: &rusqlite::Connection, directory: &DocumentId, kind: u8) -> (Vec<u8>, Vec<u8>) {
    rows(conn, directory)
        .into_iter()
        .find(|(entry, _)| entry.first() == Some(&kind))
        .unwrap()
}

#[test]
fn a_corrupt_saved_index_is_ignored_and_rebuilt() {
    // A byte of a bucket's match part flipped.
    survives(|conn, directory| {
        let (entry, mut blob) = first_row(conn, directory, b'm');
        blob[3] ^= 1;
        set_row(conn, directory, &entry, &blob);
    });
    // A byte of a bucket's full part flipped (the first row is one).
    survives(|conn, directory| {
        let (entry, mut blob) = rows(conn, directory).remove(0);
        let last = blob.len() - 1;
        blob[last] ^= 1;
        set_row(conn, directory, &entry, &blob);
    });
    // The header cut short.
    survives(|conn, directory| {
        set_row(conn, directory, b"h", &[1, 2, 3]);
    });
    // A bucket's match part gone.
    survives(|conn, directory| {
        let (entry, _) = first_row(conn, directory, b'm');
        conn.execute(
            "DELETE FROM directory_index WHERE doc_id = ?1 AND entry = ?2",
            rusqlite::params![directory.as_bytes(), entry],
        )
        .unwrap();
    });
    // A bucket's full part gone.
    survives(|conn, directory| {
        let (entry, _) = rows(conn, directory).remove(0);
        conn.execute(
            "DELETE FROM directory_index WHERE doc_id = ?1 AND entry = ?2",
            rusqlite::params![directory.as_bytes(), entry],
        )
        .unwrap();
    });
    // The header gone, the buckets left.
    survives(|conn, directory| {
        conn.execute(
            "DELETE FROM directory_index WHERE doc_id = ?1 AND entry = x'68'",
            [directory.as_bytes()],
        )
        .unwrap();
    });
    // A match part and a full part swapped.
    survives(|conn, directory| {
        let (m, m_blob) = first_row(conn, directory, b'm');
        let (f, f_blob) = first_row(conn, directory, b'f');
        set_row(conn, directory, &m, &f_blob);
        set_row(conn, directory, &f, &m_blob);
    });
    // Two buckets' full parts swapped (each sealed for its own entry).
    survives(|conn, directory| {
        let all = rows(conn, directory);
        set_row(conn, directory, &all[0].0, &all[1].1);
        set_row(conn, directory, &all[1].0, &all[0].1);
    });
}

#[test]
fn rows_from_different_saves_are_not_mixed() {
    // A bucket's match part, then its full part, from an older save.
    mixed(b'm');
    mixed(b'f');
}

fn mixed(part: u8) {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (a, _b, directory) = shared(&dir, &chain);
    let resources = a.directory(&directory).unwrap().resources;
    let bucket = [part, resources[2].id.uuid_bytes()[0] >> 2];
    let old = {
        let inner = a.lock();
        rows(&inner.conn, &directory)
            .into_iter()
            .find(|(entry, _)| entry == &bucket)
            .unwrap()
            .1
    };
    let mut details = resources[2].details.clone();
    details.contact.phones = vec!["0808 000 0009".into()];
    a.update_resource(&directory, &resources[2].id, &details)
        .unwrap();
    let now = seen(&a, &directory);
    drop(a);
    {
        // The bucket as it was before the edit, beside the new header.
        let conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
        set_row(&conn, &directory, &bucket, &old);
    }
    let a = open(&dir, "a.db");
    a.set_trusted_organisations(chain.trust());
    rebuilt_and_left_alone(&a, &directory, &now);
}

#[test]
fn a_query_after_reopening_reads_only_the_full_parts_of_its_matches() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let query = ResourceQuery {
        limit: Some(2),
        ..ResourceQuery::default()
    };
    let (directory, before, fresh) = {
        let a = open(&dir, "a.db");
        a.set_trusted_organisations(chain.trust());
        let directory = generate::directory(&a, 7, 200).unwrap();
        let first = a.directory(&directory).unwrap().resources[0].id.clone();
        chain.endorse(&a, &directory, &first);
        let matches = a.query_resources(&directory, &query, Utc::now()).unwrap();
        check(&a, &directory);
        let inner = a.lock();
        let loaded = &inner.docs[&directory];
        let fresh = DirectoryIndex::build(&loaded.doc, directory, None);
        let found = fresh.query(&query, &inner.trusted, Utc::now());
        (directory, matches, fresh.matches(found.0))
    };
    assert_eq!(before, fresh);
    let a = open(&dir, "a.db");
    a.set_trusted_organisations(chain.trust());
    let after = a.query_resources(&directory, &query, Utc::now()).unwrap();
    assert_eq!(after, fresh, "the matches, in full, as a fresh build's");
    {
        let inner = a.lock();
        assert!(!inner.docs.contains_key(&directory), "not loaded");
        let index = &inner.unloaded_indexes[&directory];
        let buckets: std::collections::BTreeSet<u8> =
            index.rows().map(|(e, _)| e.bucket()).collect();
        assert!(buckets.len() > 50, "spread over the buckets");
        assert_eq!(index.unread(), 198, "only the matches read in full");
    }
    // Reading the directory whole reads the rest.
    let listed = a.directory(&directory).unwrap();
    let inner = a.lock();
    assert_eq!(inner.unloaded_indexes[&directory].unread(), 0);
    assert_eq!(listed.resources.len(), 200);
}

#[test]
fn a_corrupt_full_part_is_found_when_first_needed() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (directory, before, target) = {
        let (a, _b, directory) = shared(&dir, &chain);
        let target = a.directory(&directory).unwrap().resources[3].clone();
        (directory, seen(&a, &directory), target)
    };
    {
        let conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
        let entry = [b'f', target.id.uuid_bytes()[0] >> 2];
        let (_, mut blob) = rows(&conn, &directory)
            .into_iter()
            .find(|(e, _)| e == &entry)
            .unwrap();
        // A byte of the target's sealed bytes, wherever it is in the row.
        let mut at = 4;
        loop {
            let len = u32::from_be_bytes(blob[at + 16..at + 20].try_into().unwrap()) as usize;
            if blob[at..at + 16] == target.id.uuid_bytes() {
                blob[at + 20 + len / 2] ^= 0x40;
                break;
            }
            at += 20 + len;
        }
        set_row(&conn, &directory, &entry, &blob);
    }
    let a = open(&dir, "a.db");
    a.set_trusted_organisations(chain.trust());
    // What matching reads is intact: answered without the full part.
    assert_eq!(
        a.resource_content_hash(&directory, &target.id).unwrap(),
        content_hash(&target.details)
    );
    assert!(!a.lock().docs.contains_key(&directory), "not loaded");
    // Reading the resource in full finds the damage and builds the index
    // from the document.
    assert_eq!(a.resource(&directory, &target.id).unwrap(), target);
    {
        let inner = a.lock();
        let index = inner.docs[&directory].directory_index.as_ref().unwrap();
        assert!(index.unsaved.held, "the damaged copy left alone");
        assert_eq!(index.unread(), 0);
    }
    rebuilt_and_left_alone(&a, &directory, &before);
}

#[test]
fn a_stale_saved_index_read_back_in_parts_is_patched_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (directory, b, resources) = {
        let (a, b, directory) = shared(&dir, &chain);
        let resources = a.directory(&directory).unwrap().resources;
        (directory, b, resources)
    };
    // On B: one resource renamed (it moves), one removed, one added; A
    // has none of it yet (three of eight: patched, not rebuilt).
    let mut renamed = resources[1].details.clone();
    renamed.name = "Zebra Crossing Helpline".into();
    b.update_resource(&directory, &resources[1].id, &renamed)
        .unwrap();
    b.remove_resource(&directory, &resources[5].id).unwrap();
    b.add_resource(&directory, &resource("Aardvark Line", 9))
        .unwrap();
    let a = open(&dir, "a.db");
    a.set_trusted_organisations(chain.trust());
    a.import(&b.export(&directory).unwrap()).unwrap();
    // The first read patches the saved copy, its full parts still unread
    // except those of the buckets it writes again.
    assert_eq!(
        a.resource_content_hash(&directory, &resources[1].id)
            .unwrap(),
        content_hash(&renamed)
    );
    {
        let inner = a.lock();
        let index = inner.docs[&directory].directory_index.as_ref().unwrap();
        assert_eq!(index.patched, 1);
        assert!(index.unsaved.is_empty(), "saved");
    }
    assert_eq!(check(&a, &directory), 1);
    assert_eq!(seen(&a, &directory), seen(&b, &directory));
}

#[test]
fn thrive_groupings_read_back_as_written_and_filter_by_bit() {
    let dir = tempfile::tempdir().unwrap();
    let written = vec![
        Thrive::GettingRiskSupport,
        Thrive::Thriving,
        Thrive::GettingRiskSupport,
    ];
    let (directory, id) = {
        let a = open(&dir, "a.db");
        let directory = a.create_directory("Fictional Region").unwrap();
        let mut details = resource("Night Owl Line", 3);
        details.thrive = written.clone();
        let id = a.add_resource(&directory, &details).unwrap();
        a.add_resource(&directory, &resource("Day Line", 4))
            .unwrap();
        check(&a, &directory);
        (directory, id)
    };
    let a = open(&dir, "a.db");
    let asked = |thrive| {
        let query = ResourceQuery {
            thrive: Some(thrive),
            ..ResourceQuery::default()
        };
        a.query_resources(&directory, &query, Utc::now())
            .unwrap()
            .iter()
            .filter(|m| m.resource.id == id)
            .map(|m| m.resource.details.thrive.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(asked(Thrive::Thriving), std::slice::from_ref(&written));
    assert_eq!(asked(Thrive::GettingRiskSupport), [written]);
    assert!(asked(Thrive::GettingHelp).is_empty());
    assert!(
        !a.lock().docs.contains_key(&directory),
        "answered from the saved index"
    );
}
