//! Directory queries with criterion: a 2,000-resource directory (the
//! seeded generator's), every fifth resource endorsed by a certified
//! clinician and ten of those endorsements revoked, on a store that trusts
//! the clinician's organisation. Each query returns its matches with their
//! endorsement status, computed at the query's time.
//!
//! Run with `cargo bench -p lynchpin-core --bench query`. Target: at most
//! 5 ms per query (BENCHMARKS.md). `query/first_after_edit` times the first
//! query after a local edit of a resource (the edit, which updates the
//! directory's index in place, is not timed); `query/first_after_sync` the
//! first query after a direct sync brought in another device's edit of one
//! resource (the edit and the sync not timed); `query/first_after_open` the
//! first query on a freshly opened store (the open not timed).

#![allow(clippy::print_stderr)]

mod common;

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use chrono::{Days, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use lynchpin_core::{
    Audience, Certificate, CertificateRequest, DocumentId, Durability, ResourceQuery, Role,
    SigningKeyPair, Store, StoreOptions, SyncScope, Thrive, TrustedOrganisations, generate,
};

/// A store holding the endorsed directory.
fn fixture(dir: &tempfile::TempDir) -> (Store, DocumentId) {
    let started = Instant::now();
    let store = Store::open_with(
        dir.path().join("query.lynchpin"),
        &common::key(),
        StoreOptions {
            durability: Durability::ProcessCrash,
        },
    )
    .expect("open");
    let directory =
        generate::directory(&store, common::SEED, common::RESOURCES).expect("generate directory");
    let org = SigningKeyPair::from_secret(&[1; 32]).expect("org key");
    let clinician = SigningKeyPair::from_secret(&[2; 32]).expect("clinician key");
    let request = CertificateRequest::new(
        clinician.secret_bytes().as_ref(),
        "Dr Ada Example",
        "Clinical psychologist",
        "PYL00000",
    )
    .expect("request");
    let certificate = Certificate::issue(
        org.secret_bytes().as_ref(),
        &request,
        "Example NHS Foundation Trust (fictional)",
        Utc::now() - chrono::Duration::days(1),
        Utc::now() + chrono::Duration::days(365),
    )
    .expect("certificate");
    store.set_trusted_organisations(TrustedOrganisations::new([org.public_key()]));
    let resources = store.directory(&directory).expect("read").resources;
    let review = Utc::now().date_naive() + Days::new(180);
    for (i, resource) in resources.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        let id = store
            .endorse_resource(
                &directory,
                &resource.id,
                clinician.secret_bytes().as_ref(),
                &certificate,
                "Evidence-based; staff trained in safety planning.",
                &[Thrive::GettingAdvice],
                review,
            )
            .expect("endorse");
        if i % 200 == 0 {
            store
                .revoke_endorsement(&directory, &id, org.secret_bytes().as_ref())
                .expect("revoke");
        }
    }
    eprintln!(
        "fixture: {} resources, 400 endorsed, 10 revoked, built in {:.1} s",
        resources.len(),
        started.elapsed().as_secs_f64()
    );
    (store, directory)
}

fn benches(c: &mut Criterion) {
    let dir = common::temp_dir();
    let (store, directory) = fixture(&dir);
    let queries = [
        (
            "text",
            ResourceQuery {
                text: Some("Sleep worried".into()),
                ..ResourceQuery::default()
            },
        ),
        (
            "filters",
            ResourceQuery {
                thrive: Some(Thrive::GettingAdvice),
                audience: Some(Audience::YoungPerson),
                age: Some(14),
                region: Some("north exampleshire".into()),
                ..ResourceQuery::default()
            },
        ),
        (
            "endorsed_only",
            ResourceQuery {
                endorsed_only: true,
                ..ResourceQuery::default()
            },
        ),
        ("everything", ResourceQuery::default()),
    ];
    let mut group = c.benchmark_group("query");
    for (name, query) in &queries {
        let found = store
            .query_resources(&directory, query, Utc::now())
            .expect("query")
            .len();
        eprintln!("query/{name}: {found} matches");
        group.bench_function(*name, |b| {
            b.iter(|| {
                store
                    .query_resources(&directory, black_box(query), Utc::now())
                    .expect("query")
            })
        });
    }
    group.finish();
    // Each rebuild reads the whole directory: ten samples are enough.
    let mut group = c.benchmark_group("query");
    group.sample_size(10);
    let resources = store.directory(&directory).expect("read").resources;
    let text = &queries[0].1;
    // Every edit writes a value that resource has never had, so each one
    // is a change; the index is updated in place by the edit.
    let mut edits = 0u64;
    group.bench_function("first_after_edit", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                edits += 1;
                let resource = &resources[(edits % 50) as usize];
                let mut details = resource.details.clone();
                details.opening_hours = format!("Mon–Fri 09:00–17:00 (edit {edits})");
                store
                    .update_resource(&directory, &resource.id, &details)
                    .expect("edit");
                let started = Instant::now();
                black_box(
                    store
                        .query_resources(&directory, text, Utc::now())
                        .expect("query"),
                );
                timed += started.elapsed();
            }
            timed
        })
    });
    eprintln!("query/first_after_edit: {edits} edits");
    // Another device, a writer of the directory, edits one resource's phone
    // number; a direct sync brings the change to the store under test.
    let peer_dir = common::temp_dir();
    let peer = Store::open_with(
        peer_dir.path().join("peer.lynchpin"),
        &common::key(),
        StoreOptions {
            durability: Durability::ProcessCrash,
        },
    )
    .expect("open the peer");
    store
        .grant(&directory, peer.device_id(), Role::Writer)
        .expect("grant");
    let sync = |from: &Store, to: &Store| {
        let from_id = from.device_id();
        from.sync_with(to.device_id(), SyncScope::All, |request| {
            Ok::<_, std::convert::Infallible>(
                to.respond_sync(from_id, &request, &SyncScope::All)
                    .expect("respond"),
            )
        })
        .expect("sync")
    };
    sync(&peer, &store);
    let mut synced = 0u64;
    group.bench_function("first_after_sync", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                synced += 1;
                let resource = &resources[(synced % 50) as usize + 50];
                let mut details = resource.details.clone();
                details.contact.phones = vec![format!("0808 000 {:04}", synced % 10_000)];
                peer.update_resource(&directory, &resource.id, &details)
                    .expect("edit on the peer");
                sync(&peer, &store);
                let started = Instant::now();
                black_box(
                    store
                        .query_resources(&directory, text, Utc::now())
                        .expect("query"),
                );
                timed += started.elapsed();
            }
            timed
        })
    });
    eprintln!("query/first_after_sync: {synced} syncs");
    drop(peer);
    // A fresh store on the same file: the first query loads the directory
    // from disk and builds its index (what a sync or an import that changed
    // the directory costs too, less the load).
    let trusted = store.trusted_organisations();
    let path = store.path().to_path_buf();
    drop(store);
    group.bench_function("first_after_open", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let store = Store::open(&path, &common::key()).expect("open");
                store.set_trusted_organisations(trusted.clone());
                let started = Instant::now();
                black_box(
                    store
                        .query_resources(&directory, text, Utc::now())
                        .expect("query"),
                );
                timed += started.elapsed();
            }
            timed
        })
    });
    group.finish();
}

criterion_group!(query, benches);
criterion_main!(query);
