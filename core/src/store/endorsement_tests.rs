//! Endorsements through the store: endorsing and revoking as edits, status
//! after edits, junk statements in a document, directory queries and
//! signposts that carry their evidence.

use automerge::{ROOT, ScalarValue, transaction::Transactable};
use chrono::{Days, Duration, NaiveDate, Utc};
use tempfile::TempDir;

use crate::{doc, generate, *};

pub(super) fn open(dir: &TempDir, name: &str) -> Store {
    Store::open(dir.path().join(name), &StoreKey::new([42; 32])).unwrap()
}

/// An organisation and a clinician it certifies, valid for a year around now.
pub(super) struct Chain {
    pub(super) org: SigningKeyPair,
    pub(super) clinician: SigningKeyPair,
    pub(super) certificate: Certificate,
}

impl Chain {
    pub(super) fn new() -> Self {
        let org = SigningKeyPair::generate().unwrap();
        let clinician = SigningKeyPair::generate().unwrap();
        let request = CertificateRequest::new(
            clinician.secret_bytes().as_ref(),
            "Dr Ada Example",
            "Clinical psychologist",
            "PYL00000",
        )
        .unwrap();
        let certificate = Certificate::issue(
            org.secret_bytes().as_ref(),
            &request,
            "Example NHS Foundation Trust (fictional)",
            Utc::now() - Duration::days(30),
            Utc::now() + Duration::days(335),
        )
        .unwrap();
        Self {
            org,
            clinician,
            certificate,
        }
    }

    pub(super) fn trust(&self) -> TrustedOrganisations {
        TrustedOrganisations::new([self.org.public_key()])
    }

    pub(super) fn endorse(
        &self,
        store: &Store,
        directory: &DocumentId,
        resource: &ItemId,
    ) -> EndorsementId {
        store
            .endorse_resource(
                directory,
                resource,
                self.clinician.secret_bytes().as_ref(),
                &self.certificate,
                "Evidence-based; staff trained in safety planning.",
                &[Thrive::GettingAdvice],
                in_days(90),
            )
            .unwrap()
    }
}

fn in_days(days: u64) -> NaiveDate {
    Utc::now().date_naive() + Days::new(days)
}

pub(super) fn resource(name: &str, seed: u64) -> ResourceDetails {
    let mut details = generate::resource_details(&mut generate::Rng::new(seed), 0);
    details.name = name.into();
    details.status = ResourceStatus::Active;
    details
}

/// A directory with one resource, endorsed, on a store that trusts the
/// chain's organisation.
fn endorsed(store: &Store, chain: &Chain) -> (DocumentId, ItemId, EndorsementId) {
    store.set_trusted_organisations(chain.trust());
    let directory = store.create_directory("Fictional Region").unwrap();
    let id = store
        .add_resource(&directory, &resource("Harbour Text Line", 1))
        .unwrap();
    let endorsement = chain.endorse(store, &directory, &id);
    (directory, id, endorsement)
}

fn state(store: &Store, directory: &DocumentId, resource: &ItemId) -> Option<EndorsementState> {
    store
        .resource_endorsements(directory, resource, Utc::now())
        .unwrap()
        .state()
}

#[test]
fn an_edit_after_endorsement_shows_changed_and_queries_see_it_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let chain = Chain::new();
    let (directory, id, endorsement) = endorsed(&store, &chain);
    let status = store
        .resource_endorsements(&directory, &id, Utc::now())
        .unwrap();
    let best = status.best.unwrap();
    assert_eq!(best.state, EndorsementState::Endorsed);
    assert_eq!(best.id, endorsement);
    assert_eq!(best.endorser.unwrap().registration, "PYL00000");
    assert_eq!(
        best.content_hash,
        Some(store.resource_content_hash(&directory, &id).unwrap())
    );
    let endorsed_only = ResourceQuery {
        endorsed_only: true,
        ..ResourceQuery::default()
    };
    assert_eq!(
        store
            .query_resources(&directory, &endorsed_only, Utc::now())
            .unwrap()
            .len(),
        1
    );

    // The phone number changes: the endorsement no longer matches.
    let mut details = store.resource(&directory, &id).unwrap().details;
    details.contact.phones = vec!["0808 157 0999".into()];
    store.update_resource(&directory, &id, &details).unwrap();
    assert_eq!(
        state(&store, &directory, &id),
        Some(EndorsementState::ChangedSinceEndorsement)
    );
    assert!(
        store
            .query_resources(&directory, &endorsed_only, Utc::now())
            .unwrap()
            .is_empty()
    );
    // Re-checking the resource (bookkeeping only) would not have.
    let again = chain.endorse(&store, &directory, &id);
    details.last_checked = Some(in_days(0));
    details.checked_by = "Someone else".into();
    store.update_resource(&directory, &id, &details).unwrap();
    let status = store
        .resource_endorsements(&directory, &id, Utc::now())
        .unwrap();
    assert_eq!(status.best.unwrap().id, again);
    assert_eq!(status.all.len(), 2);

    // After the review date.
    let later = Utc::now() + Duration::days(100);
    assert_eq!(
        store
            .resource_endorsements(&directory, &id, later)
            .unwrap()
            .state(),
        Some(EndorsementState::ReviewOverdue)
    );
    // Without trust.
    store.set_trusted_organisations(TrustedOrganisations::default());
    let untrusted = store
        .resource_endorsements(&directory, &id, Utc::now())
        .unwrap();
    assert_eq!(
        untrusted.best.unwrap().not_trusted,
        Some(NotTrustedReason::UnknownOrganisation)
    );
}

#[test]
fn revocations_by_the_clinician_or_the_organisation_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let chain = Chain::new();
    let (directory, id, endorsement) = endorsed(&store, &chain);
    let stranger = SigningKeyPair::generate().unwrap();
    assert!(matches!(
        store.revoke_endorsement(&directory, &endorsement, stranger.secret_bytes().as_ref()),
        Err(Error::NotAllowed(_))
    ));
    assert!(matches!(
        store.revoke_endorsement(&directory, &EndorsementId([7; 32]), &[1; 32]),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.revoke_endorsement(&directory, &endorsement, &[1; 16]),
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        state(&store, &directory, &id),
        Some(EndorsementState::Endorsed)
    );
    store
        .revoke_endorsement(&directory, &endorsement, chain.org.secret_bytes().as_ref())
        .unwrap();
    let status = store
        .resource_endorsements(&directory, &id, Utc::now())
        .unwrap();
    assert_eq!(status.state(), Some(EndorsementState::Revoked));
    assert!(status.best.unwrap().revoked_at.is_some());
    // The revocation survives reopening.
    drop(store);
    let store = open(&dir, "a.db");
    store.set_trusted_organisations(chain.trust());
    assert_eq!(
        state(&store, &directory, &id),
        Some(EndorsementState::Revoked)
    );
}

#[test]
fn bad_input_to_endorse_is_a_typed_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let chain = Chain::new();
    let (directory, id, _) = endorsed(&store, &chain);
    let before = store.export(&directory).unwrap();
    let secret = chain.clinician.secret_bytes();
    let endorse = |secret: &[u8], rationale: &str, certificate: &Certificate| {
        store.endorse_resource(
            &directory,
            &id,
            secret,
            certificate,
            rationale,
            &[Thrive::GettingHelp],
            in_days(30),
        )
    };
    let invalid_field = |result: Result<EndorsementId, Error>| match result {
        Err(Error::Invalid(e)) => e.field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(
        invalid_field(endorse(&secret[..31], "Fine", &chain.certificate)),
        "secret"
    );
    assert_eq!(
        invalid_field(endorse(
            secret.as_ref(),
            &"x".repeat(2_001),
            &chain.certificate
        )),
        "rationale"
    );
    // A certificate that has expired.
    let expired = Certificate::issue(
        chain.org.secret_bytes().as_ref(),
        &CertificateRequest::new(secret.as_ref(), "Dr Ada Example", "Nurse", "N1").unwrap(),
        "Example Trust",
        Utc::now() - Duration::days(400),
        Utc::now() - Duration::days(35),
    )
    .unwrap();
    assert_eq!(
        invalid_field(endorse(secret.as_ref(), "Fine", &expired)),
        "certificate"
    );
    assert!(matches!(
        store.endorse_resource(
            &directory,
            &"0a0b0c0d-0e0f-4011-8213-141516171819".parse().unwrap(),
            secret.as_ref(),
            &chain.certificate,
            "Fine",
            &[Thrive::GettingHelp],
            in_days(30),
        ),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.export(&directory).unwrap(), before);

    // A device that only reads the directory may not endorse in it.
    let reader = open(&dir, "reader.db");
    reader.import(&before).unwrap();
    assert!(matches!(
        reader.endorse_resource(
            &directory,
            &id,
            secret.as_ref(),
            &chain.certificate,
            "Fine",
            &[Thrive::GettingHelp],
            in_days(30),
        ),
        Err(Error::NotAllowed(_))
    ));
}

#[test]
fn junk_statements_are_listed_as_not_trusted_and_never_break_loading() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let (directory, id) = {
        let store = open(&dir, "a.db");
        let (directory, id, _) = endorsed(&store, &chain);
        let key = format!("{id}/{}", "ab".repeat(32));
        store
            .edit(
                &directory,
                DocumentKind::ResourceDirectory,
                "write junk",
                |tx, _| {
                    let endorsements = doc::fields::ensure_map(tx, &ROOT, "endorsements")?;
                    tx.put(
                        &endorsements,
                        key.as_str(),
                        ScalarValue::Bytes(b"junk".to_vec()),
                    )?;
                    tx.put(&endorsements, "no-resource", ScalarValue::Bytes(vec![0; 9]))?;
                    tx.put(&endorsements, "a string", "not bytes")?;
                    let revocations = doc::fields::ensure_map(tx, &ROOT, "revocations")?;
                    tx.put(&revocations, "x", ScalarValue::Bytes(b"LYNR\x01".to_vec()))?;
                    tx.put_object(&revocations, "y", automerge::ObjType::Map)?;
                    Ok(())
                },
            )
            .unwrap();
        (directory, id)
    };
    let store = open(&dir, "a.db");
    store.set_trusted_organisations(chain.trust());
    assert_eq!(store.directory(&directory).unwrap().resources.len(), 1);
    let status = store
        .resource_endorsements(&directory, &id, Utc::now())
        .unwrap();
    assert_eq!(status.all.len(), 2, "{status:?}");
    assert_eq!(status.state(), Some(EndorsementState::Endorsed));
    let junk = &status.all[1];
    assert_eq!(junk.state, EndorsementState::NotTrusted);
    assert_eq!(junk.not_trusted, Some(NotTrustedReason::Malformed));
    assert!(junk.endorser.is_none());
    assert_eq!(
        store
            .query_resources(&directory, &ResourceQuery::default(), Utc::now())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn queries_filter_and_rank_endorsed_and_relevant_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let chain = Chain::new();
    store.set_trusted_organisations(chain.trust());
    let directory = store.create_directory("Fictional Region").unwrap();
    let add = |name: &str, description: &str, f: &dyn Fn(&mut ResourceDetails)| {
        let mut d = resource(name, 7);
        d.description = description.into();
        d.thrive = vec![Thrive::GettingAdvice];
        d.audience = Audience::YoungPerson;
        d.min_age = Some(11);
        d.max_age = Some(18);
        d.regions = vec!["North Example".into()];
        d.kind = ResourceKind::Website;
        d.cost = Cost::Free;
        f(&mut d);
        store.add_resource(&directory, &d).unwrap()
    };
    let sleep_app = add("Sleep Well App", "Help with sleep and worry.", &|d| {
        d.kind = ResourceKind::SelfCareApp;
    });
    let worry_site = add("Worry Tree", "Anxiety and sleep tips.", &|_| {});
    let anxiety_group = add("Anxiety Peer Group", "Meet others; calm breathing.", &|d| {
        d.kind = ResourceKind::PeerSupportGroup;
        d.audience = Audience::Both;
        d.regions = Vec::new();
    });
    let parents = add(
        "Parents' Line",
        "For parents worried about anxiety.",
        &|d| {
            d.audience = Audience::ParentOrCarer;
            d.cost = Cost::Paid;
            d.min_age = None;
            d.max_age = None;
            d.thrive = vec![Thrive::GettingHelp];
            d.regions = vec!["South Example".into()];
        },
    );
    let closed = add("Anxiety Drop-in", "Closed for now.", &|d| {
        d.status = ResourceStatus::TemporarilyClosed;
    });
    chain.endorse(&store, &directory, &worry_site);
    let now = Utc::now();
    let ids = |q: ResourceQuery| -> Vec<ItemId> {
        store
            .query_resources(&directory, &q, now)
            .unwrap()
            .into_iter()
            .map(|m| m.resource.id.clone())
            .collect()
    };
    let text = |t: &str| ResourceQuery {
        text: Some(t.into()),
        ..ResourceQuery::default()
    };
    // Endorsed first; then the name matches; then active before closed.
    assert_eq!(
        ids(text("ANXIETY")),
        [
            worry_site.clone(),
            anxiety_group.clone(),
            closed.clone(),
            parents.clone()
        ]
    );
    // Every word must match, in the name or the description.
    assert_eq!(
        ids(text("sleep worry")),
        [worry_site.clone(), sleep_app.clone()]
    );
    assert!(ids(text("sleep nonesuch")).is_empty());
    assert_eq!(
        ids(ResourceQuery {
            audience: Some(Audience::ParentOrCarer),
            ..ResourceQuery::default()
        }),
        [anxiety_group.clone(), parents.clone()]
    );
    assert_eq!(
        ids(ResourceQuery {
            age: Some(25),
            ..ResourceQuery::default()
        }),
        vec![parents.clone()]
    );
    assert_eq!(
        ids(ResourceQuery {
            region: Some("south example".into()),
            ..ResourceQuery::default()
        }),
        [anxiety_group.clone(), parents.clone()]
    );
    assert_eq!(
        ids(ResourceQuery {
            thrive: Some(Thrive::GettingHelp),
            cost: Some(Cost::Paid),
            ..ResourceQuery::default()
        }),
        vec![parents.clone()]
    );
    assert_eq!(
        ids(ResourceQuery {
            kind: Some(ResourceKind::SelfCareApp),
            ..ResourceQuery::default()
        }),
        vec![sleep_app.clone()]
    );
    assert_eq!(
        ids(ResourceQuery {
            endorsed_only: true,
            ..ResourceQuery::default()
        }),
        vec![worry_site.clone()]
    );
    assert_eq!(
        ids(ResourceQuery {
            limit: Some(2),
            ..ResourceQuery::default()
        })
        .len(),
        2
    );
    let matches = store
        .query_resources(&directory, &text("worry tree"), now)
        .unwrap();
    assert_eq!(
        matches[0].endorsement.as_ref().map(|e| e.state),
        Some(EndorsementState::Endorsed)
    );
    assert!(matches!(
        store.query_resources(&directory, &text(&"x".repeat(201)), now),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_signpost_carries_evidence_that_verifies_without_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let clinician = open(&dir, "clinician.db");
    let chain = Chain::new();
    let (directory, id, endorsement) = endorsed(&clinician, &chain);
    let plan = clinician
        .create_care_plan(&CarePlanDetails {
            subject_name: "Alex".into(),
            status: PlanStatus::Active,
            period_start: None,
            period_end: None,
            next_review: None,
        })
        .unwrap();
    let signpost = clinician
        .add_signpost_from_directory(
            &plan,
            &directory,
            &id,
            "Dr Ada Example",
            "For evenings when worry keeps you up",
            in_days(0),
        )
        .unwrap();
    let plain = clinician
        .add_signpost(
            &plan,
            &ResourceRef {
                directory,
                resource: id.clone(),
            },
            "Dr Ada Example",
            "Without evidence",
            in_days(0),
        )
        .unwrap();
    let shown = clinician.care_plan(&plan).unwrap().signposts;
    let evidence = shown[0].evidence.as_ref().unwrap();
    assert_eq!(
        evidence.snapshot,
        clinician.resource(&directory, &id).unwrap().details
    );
    assert_eq!(evidence.endorsements.len(), 1);
    assert!(shown[1].evidence.is_none());

    // The young person's phone holds the plan only.
    let phone = open(&dir, "phone.db");
    phone.import(&clinician.export(&plan).unwrap()).unwrap();
    assert!(matches!(
        phone.directory(&directory),
        Err(Error::NotFound { .. })
    ));
    phone.set_trusted_organisations(chain.trust());
    let status = phone
        .signpost_endorsements(&plan, &signpost, Utc::now())
        .unwrap()
        .unwrap();
    let best = status.best.unwrap();
    assert_eq!(best.state, EndorsementState::Endorsed);
    assert_eq!(best.id, endorsement);
    assert_eq!(best.endorser.unwrap().name, "Dr Ada Example");
    assert_eq!(
        phone
            .signpost_endorsements(&plan, &plain, Utc::now())
            .unwrap(),
        None
    );
    assert!(matches!(
        phone.signpost_endorsements(&plan, &ItemId::random(), Utc::now()),
        Err(Error::NotFound { .. })
    ));
    // Without the trust settings the phone does not trust it.
    phone.set_trusted_organisations(TrustedOrganisations::default());
    assert_eq!(
        phone
            .signpost_endorsements(&plan, &signpost, Utc::now())
            .unwrap()
            .unwrap()
            .state(),
        Some(EndorsementState::NotTrusted)
    );

    // The directory's later revocation counts on a device that holds it.
    clinician
        .revoke_endorsement(
            &directory,
            &endorsement,
            chain.clinician.secret_bytes().as_ref(),
        )
        .unwrap();
    assert_eq!(
        clinician
            .signpost_endorsements(&plan, &signpost, Utc::now())
            .unwrap()
            .unwrap()
            .state(),
        Some(EndorsementState::Revoked)
    );
    // A revoked endorsement is not carried by a new signpost.
    let after = clinician
        .add_signpost_from_directory(
            &plan,
            &directory,
            &id,
            "Dr Ada Example",
            "Again",
            in_days(0),
        )
        .unwrap();
    let shown = clinician.care_plan(&plan).unwrap().signposts;
    let again = shown.iter().find(|s| s.id == after).unwrap();
    assert!(again.evidence.as_ref().unwrap().endorsements.is_empty());
}

#[test]
fn the_index_kept_in_step_with_local_edits_equals_one_built_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Chain::new();
    let now = Utc::now();
    let everything = ResourceQuery::default();
    let seen = |store: &Store, directory: &DocumentId| {
        let listed = store.directory(directory).unwrap();
        let matches = store.query_resources(directory, &everything, now).unwrap();
        let statuses: Vec<_> = listed
            .resources
            .iter()
            .map(|r| store.resource_endorsements(directory, &r.id, now).unwrap())
            .collect();
        (listed, matches, statuses)
    };
    let (directory, kept) = {
        let store = open(&dir, "a.db");
        store.set_trusted_organisations(chain.trust());
        let directory = generate::directory(&store, 11, 6).unwrap();
        // Built once; every edit below updates it in place.
        let first = seen(&store, &directory).0.resources;
        let added = store
            .add_resource(&directory, &resource("Zebra Helpline", 3))
            .unwrap();
        let mut renamed = first[3].details.clone();
        renamed.name = "Aardvark Group".into();
        store
            .update_resource(&directory, &first[3].id, &renamed)
            .unwrap();
        store.remove_resource(&directory, &first[1].id).unwrap();
        let endorsement = chain.endorse(&store, &directory, &first[3].id);
        chain.endorse(&store, &directory, &added);
        store
            .revoke_endorsement(&directory, &endorsement, chain.org.secret_bytes().as_ref())
            .unwrap();
        let patched = store
            .lock()
            .docs
            .get(&directory)
            .and_then(|loaded| loaded.directory_index.as_ref())
            .map(|index| index.patched);
        assert_eq!(patched, Some(6), "each edit updated the index in place");
        let kept = seen(&store, &directory);
        assert_eq!(kept.0.resources.len(), 6);
        assert_eq!(kept.0.resources[0].details.name, "Aardvark Group");
        assert_eq!(kept.2[0].state(), Some(EndorsementState::Revoked));
        (directory, kept)
    };
    let store = open(&dir, "a.db");
    store.set_trusted_organisations(chain.trust());
    assert_eq!(seen(&store, &directory), kept);
}
