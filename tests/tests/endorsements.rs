//! Clinician endorsements through a real lynchpin-server process on
//! 127.0.0.1 and real store files: endorsements and revocations are made on
//! one device, synced through the relay, and every device works out their
//! status itself, offline, at a time the test chooses.

use automerge::{Automerge, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};
use chrono::{Days, Duration, NaiveDate, Utc};
use lynchpin_core::{
    Certificate, CertificateRequest, DeviceId, DocumentId, Endorsement, EndorsementId,
    EndorsementState, ItemId, NotTrustedReason, ResourceEndorsements, ResourceQuery, Role,
    SigningKeyPair, SignpostFeedback, Store, StoreKey, SyncServer, Thrive, TrustedOrganisations,
    access::ChangeSignature,
    generate,
    sync::wire::{DocStatus, Response},
};
use lynchpin_tests::{plan_details, push_frame, server::ServerProcess};
use tempfile::TempDir;

struct Device {
    store: Store,
    server: SyncServer,
}

impl Device {
    fn new(dir: &TempDir, name: &str, relay: &ServerProcess, trust: &TrustedOrganisations) -> Self {
        let store = Store::open(dir.path().join(name), &StoreKey::generate().unwrap()).unwrap();
        let server = store.enroll(&relay.url(), &relay.invite()).unwrap();
        store.set_trusted_organisations(trust.clone());
        Self { store, server }
    }

    fn id(&self) -> DeviceId {
        self.store.device_id()
    }

    fn sync(&self) {
        self.store.sync(&self.server).unwrap();
    }

    fn status_at(
        &self,
        directory: &DocumentId,
        resource: &ItemId,
        at: chrono::DateTime<Utc>,
    ) -> ResourceEndorsements {
        self.store
            .resource_endorsements(directory, resource, at)
            .unwrap()
    }

    fn state(&self, directory: &DocumentId, resource: &ItemId) -> Option<EndorsementState> {
        self.status_at(directory, resource, Utc::now()).state()
    }

    /// Writes each `(map, key, bytes)` into the directory's statement maps
    /// with one change made around the store, signed with this device's
    /// key and pushed straight to the relay: what a misbehaving app with a
    /// writing role could do. (One change only: the store does not learn of
    /// it, so a second one would reuse its sequence number.)
    fn write_raw(&self, directory: &DocumentId, writes: Vec<(&str, String, Vec<u8>)>) {
        let mut doc = Automerge::load(&self.store.export(directory).unwrap())
            .unwrap()
            .with_actor(self.id().actor());
        doc.transact(|tx| {
            for (map, key, bytes) in writes {
                let obj = match tx.get(ROOT, map)? {
                    Some((Value::Object(ObjType::Map), id)) => id,
                    _ => tx.put_object(ROOT, map, ObjType::Map)?,
                };
                tx.put(&obj, key, ScalarValue::Bytes(bytes))?;
            }
            Ok::<_, automerge::AutomergeError>(())
        })
        .unwrap();
        let hash = doc.get_last_local_change().unwrap().hash();
        let signature = ChangeSignature::sign(self.store.device_key(), directory, hash);
        let answer = self
            .store
            .exchange(&self.server, &push_frame(*directory, &doc, &[signature]))
            .unwrap();
        let status = Response::decode(&answer)
            .unwrap()
            .docs
            .iter()
            .find(|d| d.id == *directory)
            .map_or(DocStatus::Ok, |d| d.status);
        assert_eq!(status, DocStatus::Ok, "the relay refused the change");
    }
}

/// An organisation and a clinician it certifies from `from` to `until`
/// days from now.
struct Chain {
    org: SigningKeyPair,
    clinician: SigningKeyPair,
    certificate: Certificate,
}

impl Chain {
    fn new(from: i64, until: i64) -> Self {
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
            Utc::now() + Duration::days(from),
            Utc::now() + Duration::days(until),
        )
        .unwrap();
        Self {
            org,
            clinician,
            certificate,
        }
    }

    fn trust(&self) -> TrustedOrganisations {
        TrustedOrganisations::new([self.org.public_key()])
    }

    fn endorse(
        &self,
        device: &Device,
        directory: &DocumentId,
        resource: &ItemId,
        review_in_days: u64,
    ) -> EndorsementId {
        device
            .store
            .endorse_resource(
                directory,
                resource,
                self.clinician.secret_bytes().as_ref(),
                &self.certificate,
                "Evidence-based text support; volunteers trained in safety planning.",
                &[Thrive::GettingAdvice, Thrive::GettingRiskSupport],
                day(review_in_days),
            )
            .unwrap()
    }
}

fn day(in_days: u64) -> NaiveDate {
    Utc::now().date_naive() + Days::new(in_days)
}

/// The directory's admin (who also runs the organisation's admin tool),
/// a clinician who may write the directory and a colleague who reads it.
struct Team {
    dir: TempDir,
    relay: ServerProcess,
    chain: Chain,
    admin: Device,
    clinician: Device,
    colleague: Device,
    directory: DocumentId,
    resource: ItemId,
}

impl Team {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let relay = ServerProcess::start(&dir.path().join("server"));
        let chain = Chain::new(-30, 365);
        let trust = chain.trust();
        let admin = Device::new(&dir, "admin.db", &relay, &trust);
        let clinician = Device::new(&dir, "clinician.db", &relay, &trust);
        let colleague = Device::new(&dir, "colleague.db", &relay, &trust);
        let directory = admin
            .store
            .create_directory("Fictional Region Wellbeing Directory")
            .unwrap();
        let mut details = generate::resource_details(&mut generate::Rng::new(6), 0);
        details.contact.phones = vec!["0808 157 0123".into()];
        let resource = admin.store.add_resource(&directory, &details).unwrap();
        admin
            .store
            .grant(&directory, clinician.id(), Role::Writer)
            .unwrap();
        admin
            .store
            .grant(&directory, colleague.id(), Role::Reader)
            .unwrap();
        admin.sync();
        clinician.sync();
        colleague.sync();
        Self {
            dir,
            relay,
            chain,
            admin,
            clinician,
            colleague,
            directory,
            resource,
        }
    }

    fn devices(&self) -> [&Device; 3] {
        [&self.admin, &self.clinician, &self.colleague]
    }

    /// Two rounds, so that what any device sent reaches every other.
    fn sync_all(&self) {
        for _ in 0..2 {
            for device in self.devices() {
                device.sync();
            }
        }
    }

    fn states(&self) -> Vec<Option<EndorsementState>> {
        self.devices()
            .iter()
            .map(|d| d.state(&self.directory, &self.resource))
            .collect()
    }
}

#[test]
fn a_phone_number_edited_after_endorsement_shows_changed_on_every_device() {
    let team = Team::new();
    team.chain
        .endorse(&team.clinician, &team.directory, &team.resource, 180);
    team.sync_all();
    assert_eq!(team.states(), [Some(EndorsementState::Endorsed); 3]);
    let best = team
        .colleague
        .status_at(&team.directory, &team.resource, Utc::now())
        .best
        .unwrap();
    let endorser = best.endorser.unwrap();
    assert_eq!(
        (endorser.name.as_str(), endorser.profession.as_str()),
        ("Dr Ada Example", "Clinical psychologist")
    );
    assert_eq!(endorser.registration, "PYL00000");
    assert_eq!(
        endorser.organisation,
        "Example NHS Foundation Trust (fictional)"
    );
    assert!(best.issued_at.is_some_and(|t| t <= Utc::now()));

    // The admin corrects the phone number; everyone syncs.
    let mut details = team
        .admin
        .store
        .resource(&team.directory, &team.resource)
        .unwrap()
        .details;
    details.contact.phones = vec!["0808 157 0456".into()];
    team.admin
        .store
        .update_resource(&team.directory, &team.resource, &details)
        .unwrap();
    team.sync_all();
    assert_eq!(
        team.colleague
            .store
            .resource(&team.directory, &team.resource)
            .unwrap()
            .details
            .contact
            .phones,
        ["0808 157 0456"]
    );
    assert_eq!(
        team.states(),
        [Some(EndorsementState::ChangedSinceEndorsement); 3]
    );
    // Not endorsed any more as far as queries go, on any device.
    let endorsed_only = ResourceQuery {
        endorsed_only: true,
        ..ResourceQuery::default()
    };
    for device in team.devices() {
        assert!(
            device
                .store
                .query_resources(&team.directory, &endorsed_only, Utc::now())
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn a_revocation_made_on_another_device_shows_revoked_after_sync() {
    let team = Team::new();
    let endorsement = team
        .chain
        .endorse(&team.clinician, &team.directory, &team.resource, 180);
    team.sync_all();
    assert_eq!(team.states(), [Some(EndorsementState::Endorsed); 3]);
    // The organisation withdraws it, from the admin's device.
    team.admin
        .store
        .revoke_endorsement(
            &team.directory,
            &endorsement,
            team.chain.org.secret_bytes().as_ref(),
        )
        .unwrap();
    assert_eq!(
        team.clinician.state(&team.directory, &team.resource),
        Some(EndorsementState::Endorsed),
        "not synced yet"
    );
    team.sync_all();
    assert_eq!(team.states(), [Some(EndorsementState::Revoked); 3]);
    let revoked = team
        .colleague
        .status_at(&team.directory, &team.resource, Utc::now())
        .best
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.endorser.unwrap().name, "Dr Ada Example");
}

#[test]
fn review_dates_and_certificate_expiry_are_judged_at_the_given_time() {
    let team = Team::new();
    // A certificate that expires in ten days; the review is due in five.
    let short = Chain::new(-1, 10);
    let trust = TrustedOrganisations::new([team.chain.org.public_key(), short.org.public_key()]);
    for device in team.devices() {
        device.store.set_trusted_organisations(trust.clone());
    }
    short.endorse(&team.clinician, &team.directory, &team.resource, 5);
    team.sync_all();
    let colleague = &team.colleague;
    let at = |days: i64| Utc::now() + Duration::days(days);
    let state = |days: i64| {
        let best = colleague
            .status_at(&team.directory, &team.resource, at(days))
            .best
            .unwrap();
        (best.state, best.not_trusted)
    };
    assert_eq!(state(0), (EndorsementState::Endorsed, None));
    assert_eq!(state(7), (EndorsementState::ReviewOverdue, None));
    assert_eq!(
        state(11),
        (
            EndorsementState::NotTrusted,
            Some(NotTrustedReason::CertificateExpired)
        )
    );
}

#[test]
fn forged_self_signed_and_junk_statements_are_not_trusted_on_every_device() {
    let team = Team::new();
    let genuine = team
        .chain
        .endorse(&team.clinician, &team.directory, &team.resource, 180);
    team.sync_all();

    // Self-signed: a clinician's key that certifies itself. The store lets
    // anyone with a writing role add it; no device trusts it.
    let own = SigningKeyPair::generate().unwrap();
    let request =
        CertificateRequest::new(own.secret_bytes().as_ref(), "Dr Self", "Nurse", "N000").unwrap();
    let self_signed = Certificate::issue(
        own.secret_bytes().as_ref(),
        &request,
        "Myself",
        Utc::now() - Duration::days(1),
        Utc::now() + Duration::days(100),
    )
    .unwrap();
    let self_signed_id = team
        .clinician
        .store
        .endorse_resource(
            &team.directory,
            &team.resource,
            own.secret_bytes().as_ref(),
            &self_signed,
            "Trust me",
            &[Thrive::GettingHelp],
            day(30),
        )
        .unwrap();

    // A rogue writer forges one (a genuine endorsement with another
    // rationale, the signature kept) and adds junk.
    let rogue = Device::new(&team.dir, "rogue.db", &team.relay, &team.chain.trust());
    team.admin
        .store
        .grant(&team.directory, rogue.id(), Role::Writer)
        .unwrap();
    team.admin.sync();
    team.clinician.sync();
    rogue.sync();
    let exported = Automerge::load(&rogue.store.export(&team.directory).unwrap()).unwrap();
    let (_, endorsements) = exported.get(ROOT, "endorsements").unwrap().unwrap();
    let key = format!("{}/{genuine}", team.resource);
    let bytes = match exported
        .get(&endorsements, key.as_str())
        .unwrap()
        .unwrap()
        .0
    {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Bytes(b) => b.clone(),
            other => panic!("not bytes: {other:?}"),
        },
        other => panic!("not a scalar: {other:?}"),
    };
    let mut forged = Endorsement::decode(&bytes).unwrap();
    forged.rationale = "Endorsed for every age and every need".into();
    forged.thrive = Thrive::ALL.to_vec();
    let forged_bytes = forged.encode();
    rogue.write_raw(
        &team.directory,
        vec![
            (
                "endorsements",
                format!("{}/{}", team.resource, "0f".repeat(32)),
                forged_bytes,
            ),
            (
                "endorsements",
                format!("{}/{}", team.resource, "ee".repeat(32)),
                b"LYNE\x01 not really an endorsement".to_vec(),
            ),
            ("revocations", "aa".repeat(32), vec![0xff; 300]),
        ],
    );
    team.sync_all();

    for device in team.devices() {
        let status = device.status_at(&team.directory, &team.resource, Utc::now());
        assert_eq!(status.all.len(), 4, "{status:#?}");
        let best = status.best.as_ref().unwrap();
        assert_eq!(best.id, genuine);
        assert_eq!(best.state, EndorsementState::Endorsed);
        let reasons: Vec<Option<NotTrustedReason>> =
            status.all[1..].iter().map(|s| s.not_trusted).collect();
        for reason in [
            NotTrustedReason::BadSignature,
            NotTrustedReason::SelfSigned,
            NotTrustedReason::Malformed,
        ] {
            assert!(reasons.contains(&Some(reason)), "{reason:?} in {reasons:?}");
        }
        assert!(
            status.all[1..]
                .iter()
                .all(|s| s.state == EndorsementState::NotTrusted)
        );
        let own = status.all.iter().find(|s| s.id == self_signed_id).unwrap();
        assert_eq!(own.not_trusted, Some(NotTrustedReason::SelfSigned));
        // Nothing of the forgery is repeated.
        assert!(
            status
                .all
                .iter()
                .filter(|s| s.not_trusted == Some(NotTrustedReason::BadSignature))
                .all(|s| s.endorser.is_none() && s.rationale.is_none())
        );
        // The directory still loads and answers queries.
        assert_eq!(
            device
                .store
                .directory(&team.directory)
                .unwrap()
                .resources
                .len(),
            1
        );
        assert_eq!(
            device
                .store
                .query_resources(&team.directory, &ResourceQuery::default(), Utc::now())
                .unwrap()
                .len(),
            1
        );
    }
}

#[test]
fn a_signpost_carries_its_evidence_to_the_young_persons_phone() {
    let team = Team::new();
    let phone = Device::new(&team.dir, "phone.db", &team.relay, &team.chain.trust());
    let endorsement = team
        .chain
        .endorse(&team.clinician, &team.directory, &team.resource, 180);
    let plan = team
        .clinician
        .store
        .create_care_plan(&plan_details("Alex"))
        .unwrap();
    team.clinician
        .store
        .grant(&plan, phone.id(), Role::Owner)
        .unwrap();
    let signpost = team
        .clinician
        .store
        .add_signpost_from_directory(
            &plan,
            &team.directory,
            &team.resource,
            "Dr Ada Example",
            "For evenings when worry keeps you awake",
            day(0),
        )
        .unwrap();
    team.clinician.sync();
    phone.sync();

    // The phone holds the plan, not the directory.
    let held: Vec<DocumentId> = phone
        .store
        .documents()
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(held, [plan]);
    let shown = phone.store.care_plan(&plan).unwrap().signposts;
    let evidence = shown[0].evidence.as_ref().unwrap();
    assert_eq!(evidence.snapshot.contact.phones, ["0808 157 0123"]);
    assert_eq!(
        evidence.content_hash,
        team.clinician
            .store
            .resource_content_hash(&team.directory, &team.resource)
            .unwrap()
    );
    let status = phone
        .store
        .signpost_endorsements(&plan, &signpost, Utc::now())
        .unwrap()
        .unwrap();
    let best = status.best.unwrap();
    assert_eq!(best.state, EndorsementState::Endorsed);
    assert_eq!(best.id, endorsement);
    assert_eq!(best.endorser.unwrap().name, "Dr Ada Example");
    // Offline and later: the phone still judges it itself.
    assert_eq!(
        phone
            .store
            .signpost_endorsements(&plan, &signpost, Utc::now() + Duration::days(200))
            .unwrap()
            .unwrap()
            .state(),
        Some(EndorsementState::ReviewOverdue)
    );

    // The young person found it helpful; the team sees it.
    phone
        .store
        .set_signpost_feedback(&plan, &signpost, SignpostFeedback::Helpful)
        .unwrap();
    phone.sync();
    team.clinician.sync();
    let seen = team.clinician.store.care_plan(&plan).unwrap().signposts;
    assert_eq!(seen[0].feedback, SignpostFeedback::Helpful);
    assert!(seen[0].feedback_at.is_some());
    assert_eq!(
        team.clinician
            .store
            .signpost_endorsements(&plan, &signpost, Utc::now())
            .unwrap()
            .unwrap()
            .state(),
        Some(EndorsementState::Endorsed)
    );
}
