//! The directory index after other devices' changes: brought up to date
//! from the changes, never stale.

use std::convert::Infallible;

use chrono::Utc;
use tempfile::TempDir;

use super::{
    directory_index::DirectoryIndex,
    endorsement_tests::{Chain, open, resource},
};
use crate::{generate, *};

/// Queries the directory, then checks that the index in memory equals an
/// index built afresh from the document; returns how many times the index
/// was patched since it was built.
fn check(store: &Store, directory: &DocumentId) -> usize {
    store
        .query_resources(directory, &ResourceQuery::default(), Utc::now())
        .unwrap();
    let inner = store.lock();
    let loaded = inner.docs.get(directory).expect("the directory is loaded");
    let index = loaded.directory_index.as_ref().expect("an index");
    let fresh = DirectoryIndex::build(&loaded.doc, *directory, None);
    assert_eq!(index.content(), fresh.content());
    index.patched
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
/// built; `b` holds it too and may write it.
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
