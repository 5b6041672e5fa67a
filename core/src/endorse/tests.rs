use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::{
    Assessment, Audience, Cost, DocumentId, Error, ItemId, ResourceContact, ResourceDetails,
    ResourceKind, ResourceStatus, Thrive,
};

const ORG_SEED: [u8; 32] = seed(0x00);
const CLINICIAN_SEED: [u8; 32] = seed(0x20);
const STRANGER_SEED: [u8; 32] = seed(0x40);

const fn seed(start: u8) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = start + i as u8;
        i += 1;
    }
    out
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The resource of the test vectors (docs/ENDORSEMENTS.md).
fn vector_resource() -> ResourceDetails {
    ResourceDetails {
        name: "Harbour Text Line (fictional)".into(),
        description: "Text support for 11–18 year olds, every evening.".into(),
        kind: ResourceKind::TextLine,
        organisation: "Example Wellbeing Trust".into(),
        status: ResourceStatus::Active,
        thrive: vec![Thrive::GettingAdvice, Thrive::GettingRiskSupport],
        audience: Audience::YoungPerson,
        min_age: Some(11),
        max_age: Some(18),
        regions: vec!["North Example".into()],
        cost: Cost::Free,
        languages: vec!["English".into(), "Welsh".into()],
        contact: ResourceContact {
            phones: Vec::new(),
            text_numbers: vec!["07700 900123".into()],
            email: Some("hello@example.org".into()),
            url: Some("https://example.org/harbour".into()),
        },
        opening_hours: "Every day 18:00–23:00".into(),
        always_open: false,
        works_offline: false,
        assessment: Assessment {
            orcha_score: None,
            orcha_date: None,
            nice_tier: None,
            nhs_recommended: false,
        },
        last_checked: Some(day(2026, 11, 1)),
        checked_by: "Dr Ada Example".into(),
        review_due: Some(day(2027, 11, 1)),
    }
}

fn vector_directory() -> DocumentId {
    "00112233-4455-4677-8899-aabbccddeeff".parse().unwrap()
}

fn vector_resource_id() -> ItemId {
    "0a0b0c0d-0e0f-4011-8213-141516171819".parse().unwrap()
}

fn vector_certificate() -> Certificate {
    let request = CertificateRequest::new(
        &CLINICIAN_SEED,
        "Dr Ada Example",
        "Clinical psychologist",
        "PYL00000",
    )
    .unwrap();
    Certificate::issue(
        &ORG_SEED,
        &request,
        "Example NHS Foundation Trust (fictional)",
        at(2026, 1, 1, 0),
        at(2027, 12, 31, 23),
    )
    .unwrap()
}

fn vector_endorsement() -> Endorsement {
    Endorsement::sign(
        &CLINICIAN_SEED,
        &vector_certificate(),
        vector_directory(),
        &vector_resource_id(),
        content_hash(&vector_resource()),
        "Evidence-based text support; volunteers trained in safety planning.",
        &[Thrive::GettingRiskSupport, Thrive::GettingAdvice],
        at(2026, 11, 26, 9),
        day(2027, 5, 26),
    )
    .unwrap()
}

fn vector_revocation() -> Revocation {
    Revocation::sign(&ORG_SEED, &vector_endorsement(), at(2026, 12, 1, 12)).unwrap()
}

/// The hex digits of the block marked `<!-- vector: name -->` in
/// docs/ENDORSEMENTS.md, white space removed.
fn spec_vector(name: &str) -> String {
    let spec = include_str!("../../../docs/ENDORSEMENTS.md");
    let marker = format!("<!-- vector: {name} -->");
    let start = spec
        .find(&marker)
        .unwrap_or_else(|| panic!("no vector {name} in the spec"));
    let block = &spec[start + marker.len()..];
    let block = &block[block.find("```").unwrap() + 3..];
    let block = &block[block.find('\n').unwrap() + 1..];
    let block = &block[..block.find("```").unwrap()];
    block.split_whitespace().collect()
}

fn vectors() -> Vec<(&'static str, String)> {
    let certificate = vector_certificate();
    let endorsement = vector_endorsement();
    let revocation = vector_revocation();
    vec![
        (
            "content-bytes",
            hex::encode(hash::content_bytes(&vector_resource())),
        ),
        ("content-hash", content_hash(&vector_resource()).to_string()),
        (
            "organisation-public-key",
            SigningKeyPair::from_secret(&ORG_SEED)
                .unwrap()
                .public_key()
                .to_string(),
        ),
        (
            "clinician-public-key",
            certificate.clinician_key.to_string(),
        ),
        ("certificate", hex::encode(certificate.encode())),
        (
            "certificate-signature",
            hex::encode(certificate.signature()),
        ),
        ("endorsement", hex::encode(endorsement.encode())),
        (
            "endorsement-signature",
            hex::encode(endorsement.signature()),
        ),
        ("endorsement-id", endorsement.id().to_string()),
        ("revocation", hex::encode(revocation.encode())),
        ("revocation-signature", hex::encode(revocation.signature())),
    ]
}

#[test]
fn the_implementation_reproduces_the_specs_test_vectors() {
    for (name, value) in vectors() {
        assert_eq!(value, spec_vector(name), "vector {name}");
    }
}

/// Prints the vectors, wrapped as the spec shows them:
/// `cargo test -p lynchpin-core print_vectors -- --ignored --nocapture`.
#[test]
#[ignore = "prints the test vectors for docs/ENDORSEMENTS.md"]
#[allow(clippy::print_stderr)]
fn print_vectors() {
    for (name, value) in vectors() {
        let lines: Vec<&str> = value
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        eprintln!(
            "<!-- vector: {name} -->\n```text\n{}\n```\n",
            lines.join("\n")
        );
    }
}

#[test]
fn statements_round_trip_exactly() {
    let request =
        CertificateRequest::new(&CLINICIAN_SEED, "Dr Ada Example", "Nurse", "N1").unwrap();
    assert_eq!(
        CertificateRequest::decode(&request.encode()).unwrap(),
        request
    );
    let certificate = vector_certificate();
    assert_eq!(
        Certificate::decode(&certificate.encode()).unwrap(),
        certificate
    );
    let endorsement = vector_endorsement();
    let decoded = Endorsement::decode(&endorsement.encode()).unwrap();
    assert_eq!(decoded, endorsement);
    assert_eq!(decoded.id(), endorsement.id());
    assert_eq!(
        decoded.thrive,
        [Thrive::GettingAdvice, Thrive::GettingRiskSupport]
    );
    let revocation = vector_revocation();
    assert_eq!(
        Revocation::decode(&revocation.encode()).unwrap(),
        revocation
    );
}

#[test]
fn trusted_decoding_reads_the_same_and_skips_only_the_signatures() {
    let endorsement = vector_endorsement();
    assert_eq!(
        Endorsement::decode_trusted(&endorsement.encode()).unwrap(),
        endorsement
    );
    let revocation = vector_revocation();
    assert_eq!(
        Revocation::decode_trusted(&revocation.encode()).unwrap(),
        revocation
    );
    // Only for bytes this device checked itself: a wrong signature is not
    // looked at …
    let mut forged = endorsement.clone();
    forged.resign(&[9; 32]);
    assert_eq!(
        Endorsement::decode(&forged.encode()),
        Err(StatementError::BadSignature)
    );
    assert_eq!(
        Endorsement::decode_trusted(&forged.encode()).unwrap(),
        forged
    );
    // … but the structure still is.
    let bytes = endorsement.encode();
    for cut in [0, 5, bytes.len() / 2, bytes.len() - 1] {
        assert!(Endorsement::decode_trusted(&bytes[..cut]).is_err());
    }
    assert!(Revocation::decode_trusted(&bytes).is_err());
}

#[test]
fn damaged_statements_are_refused_without_panicking() {
    let statements: [(&str, Vec<u8>); 4] = [
        (
            "request",
            CertificateRequest::new(&CLINICIAN_SEED, "A", "B", "C")
                .unwrap()
                .encode(),
        ),
        ("certificate", vector_certificate().encode()),
        ("endorsement", vector_endorsement().encode()),
        ("revocation", vector_revocation().encode()),
    ];
    let decode = |kind: &str, bytes: &[u8]| -> Result<(), StatementError> {
        match kind {
            "request" => CertificateRequest::decode(bytes).map(drop),
            "certificate" => Certificate::decode(bytes).map(drop),
            "endorsement" => Endorsement::decode(bytes).map(drop),
            _ => Revocation::decode(bytes).map(drop),
        }
    };
    for (kind, bytes) in &statements {
        assert_eq!(decode(kind, bytes), Ok(()), "{kind}");
        for len in 0..bytes.len() {
            assert!(decode(kind, &bytes[..len]).is_err(), "{kind} cut to {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            decode(kind, &longer).is_err(),
            "{kind} with a trailing byte"
        );
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x01;
            assert!(
                decode(kind, &flipped).is_err(),
                "{kind} with byte {i} flipped"
            );
        }
        assert_eq!(
            decode(kind, &vec![0; MAX_STATEMENT_BYTES + 1]),
            Err(StatementError::TooLong)
        );
    }
    // Each kind is only itself.
    assert_eq!(
        Endorsement::decode(&statements[1].1),
        Err(StatementError::Malformed)
    );
    // A changed rationale is caught by the signature, not the structure.
    let mut forged = vector_endorsement();
    forged.rationale = "Forged rationale".into();
    assert_eq!(
        Endorsement::decode(&forged.encode()),
        Err(StatementError::BadSignature)
    );
}

#[test]
fn wrong_inputs_are_typed_errors() {
    let invalid = |result: Result<(), Error>, field: &str| match result {
        Err(Error::Invalid(e)) => assert_eq!(e.field, field),
        other => panic!("expected invalid {field}, got {other:?}"),
    };
    invalid(SigningKeyPair::from_secret(&[1; 31]).map(drop), "secret");
    invalid(SigningKeyPair::from_secret(&[1; 64]).map(drop), "secret");
    invalid(PublicKey::from_slice(&[1; 33]).map(drop), "public_key");
    invalid(
        TrustedOrganisations::from_slices(&[vec![0u8; 16]]).map(drop),
        "public_key",
    );
    invalid(EndorsementId::parse("zz").map(drop), "endorsement");
    let sign = |secret: &[u8], rationale: &str, thrive: &[Thrive], until: NaiveDate| {
        Endorsement::sign(
            secret,
            &vector_certificate(),
            vector_directory(),
            &vector_resource_id(),
            content_hash(&vector_resource()),
            rationale,
            thrive,
            at(2026, 11, 26, 9),
            until,
        )
        .map(drop)
    };
    let thrive = [Thrive::GettingHelp];
    let until = day(2027, 1, 1);
    invalid(sign(&[1; 31], "Good", &thrive, until), "secret");
    invalid(
        sign(&CLINICIAN_SEED, &"x".repeat(2_001), &thrive, until),
        "rationale",
    );
    invalid(sign(&CLINICIAN_SEED, "  ", &thrive, until), "rationale");
    invalid(sign(&CLINICIAN_SEED, "Good", &[], until), "thrive");
    invalid(
        sign(&CLINICIAN_SEED, "Good", &thrive, day(2026, 1, 1)),
        "valid_until",
    );
    invalid(sign(&STRANGER_SEED, "Good", &thrive, until), "certificate");
    // The certificate does not cover the time of signing.
    invalid(
        Endorsement::sign(
            &CLINICIAN_SEED,
            &vector_certificate(),
            vector_directory(),
            &vector_resource_id(),
            content_hash(&vector_resource()),
            "Good",
            &thrive,
            at(2028, 6, 1, 9),
            day(2028, 7, 1),
        )
        .map(drop),
        "certificate",
    );
    let request = CertificateRequest::new(&CLINICIAN_SEED, "A", "B", "C").unwrap();
    invalid(
        Certificate::issue(
            &ORG_SEED,
            &request,
            "Org",
            at(2027, 1, 1, 0),
            at(2026, 1, 1, 0),
        )
        .map(drop),
        "valid_until",
    );
    invalid(
        CertificateRequest::new(&CLINICIAN_SEED, "Name\u{7}", "B", "C").map(drop),
        "name",
    );
    assert!(matches!(
        Revocation::sign(&STRANGER_SEED, &vector_endorsement(), at(2026, 12, 1, 0)),
        Err(Error::NotAllowed(_))
    ));
}

fn trusted() -> TrustedOrganisations {
    TrustedOrganisations::new([SigningKeyPair::from_secret(&ORG_SEED).unwrap().public_key()])
}

fn status_of(
    endorsement: &Endorsement,
    revocations: &[Revocation],
    current: ContentHash,
    trusted: &TrustedOrganisations,
    now: DateTime<Utc>,
) -> EndorsementStatus {
    evaluate(
        &endorsement.encode(),
        revocations,
        vector_directory(),
        &vector_resource_id(),
        current,
        trusted,
        now,
    )
}

#[test]
fn each_state_and_its_precedence() {
    let e = vector_endorsement();
    let hash = content_hash(&vector_resource());
    let other_hash = ContentHash([9; 32]);
    let now = at(2026, 12, 1, 10);
    let later = at(2027, 6, 1, 10); // after the review date, certificate still valid
    let revoked = [vector_revocation()];
    let state = |s: EndorsementStatus| (s.state, s.not_trusted);

    let endorsed = status_of(&e, &[], hash, &trusted(), now);
    assert_eq!(state(endorsed.clone()), (EndorsementState::Endorsed, None));
    let who = endorsed.endorser.unwrap();
    assert_eq!(
        (
            who.name.as_str(),
            who.profession.as_str(),
            who.registration.as_str()
        ),
        ("Dr Ada Example", "Clinical psychologist", "PYL00000")
    );
    assert_eq!(who.organisation, "Example NHS Foundation Trust (fictional)");
    assert_eq!(endorsed.issued_at, Some(at(2026, 11, 26, 9)));

    assert_eq!(
        state(status_of(&e, &[], hash, &trusted(), later)),
        (EndorsementState::ReviewOverdue, None)
    );
    // The review date itself is still in time.
    assert_eq!(
        status_of(&e, &[], hash, &trusted(), at(2027, 5, 26, 23)).state,
        EndorsementState::Endorsed
    );
    // Changed beats overdue; revoked beats changed; not trusted beats revoked.
    assert_eq!(
        status_of(&e, &[], other_hash, &trusted(), later).state,
        EndorsementState::ChangedSinceEndorsement
    );
    let r = status_of(&e, &revoked, other_hash, &trusted(), later);
    assert_eq!(r.state, EndorsementState::Revoked);
    assert_eq!(r.revoked_at, Some(at(2026, 12, 1, 12)));
    assert_eq!(
        state(status_of(
            &e,
            &revoked,
            other_hash,
            &TrustedOrganisations::default(),
            later
        )),
        (
            EndorsementState::NotTrusted,
            Some(NotTrustedReason::UnknownOrganisation)
        )
    );
    // The clinician may revoke too; a stranger may not.
    let by_clinician = Revocation::sign(&CLINICIAN_SEED, &e, now).unwrap();
    assert_eq!(
        status_of(&e, &[by_clinician], hash, &trusted(), now).state,
        EndorsementState::Revoked
    );
    let by_stranger = Revocation::sign_unchecked(&STRANGER_SEED, &e, now);
    assert_eq!(
        status_of(&e, &[by_stranger], hash, &trusted(), now).state,
        EndorsementState::Endorsed
    );
    // A revocation stamped after the evaluation time does not count yet.
    assert_eq!(
        status_of(&e, &revoked, hash, &trusted(), at(2026, 11, 28, 0)).state,
        EndorsementState::Endorsed
    );
}

#[test]
fn broken_chains_are_not_trusted() {
    let hash = content_hash(&vector_resource());
    let now = at(2026, 12, 1, 10);
    let reason = |bytes: &[u8], now: DateTime<Utc>| {
        let s = evaluate(
            bytes,
            &[],
            vector_directory(),
            &vector_resource_id(),
            hash,
            &trusted(),
            now,
        );
        assert_eq!(s.state, EndorsementState::NotTrusted);
        s.not_trusted.unwrap()
    };
    assert_eq!(reason(b"junk", now), NotTrustedReason::Malformed);
    assert_eq!(reason(&[], now), NotTrustedReason::Malformed);

    // Forged: the rationale changed after signing.
    let mut forged = vector_endorsement();
    forged.rationale = "Altered".into();
    assert_eq!(
        reason(&forged.encode(), now),
        NotTrustedReason::BadSignature
    );
    // Forged: a certificate altered to a trusted organisation's key.
    let mut borrowed = vector_endorsement();
    borrowed.certificate.name = "Someone Else".into();
    borrowed.resign(&CLINICIAN_SEED);
    assert_eq!(
        reason(&borrowed.encode(), now),
        NotTrustedReason::BadSignature
    );

    // Self-signed: the clinician's key certifies itself.
    let request = CertificateRequest::new(&CLINICIAN_SEED, "Dr Self", "Nurse", "N2").unwrap();
    let own = Certificate::issue(
        &CLINICIAN_SEED,
        &request,
        "Myself",
        at(2026, 1, 1, 0),
        at(2027, 1, 1, 0),
    )
    .unwrap();
    let mut self_signed = vector_endorsement();
    self_signed.certificate = own;
    self_signed.resign(&CLINICIAN_SEED);
    // Even an app that (wrongly) trusts the clinician's key does not
    // trust a self-signed chain.
    let naive = TrustedOrganisations::new([self_signed.certificate.clinician_key]);
    let s = evaluate(
        &self_signed.encode(),
        &[],
        vector_directory(),
        &vector_resource_id(),
        hash,
        &naive,
        now,
    );
    assert_eq!(s.not_trusted, Some(NotTrustedReason::SelfSigned));

    let e = vector_endorsement().encode();
    assert_eq!(
        reason(&e, at(2028, 1, 1, 0)),
        NotTrustedReason::CertificateExpired
    );
    assert_eq!(
        reason(&e, at(2025, 12, 1, 0)),
        NotTrustedReason::CertificateNotYetValid
    );
    // Signed before the certificate's validity began.
    let mut early = vector_endorsement();
    early.issued_at = at(2025, 12, 30, 0);
    early.resign(&CLINICIAN_SEED);
    assert_eq!(
        reason(&early.encode(), now),
        NotTrustedReason::IssuedOutsideCertificate
    );
    // Stamped well after the evaluation time.
    assert_eq!(
        reason(&e, at(2026, 11, 20, 0)),
        NotTrustedReason::IssuedInFuture
    );
    // About another resource.
    let elsewhere = evaluate(
        &e,
        &[],
        vector_directory(),
        &"0a0b0c0d-0e0f-4011-8213-000000000000".parse().unwrap(),
        hash,
        &trusted(),
        now,
    );
    assert_eq!(elsewhere.not_trusted, Some(NotTrustedReason::WrongResource));
    // A forged statement's claims are not repeated.
    let forged_status = evaluate(
        &forged.encode(),
        &[],
        vector_directory(),
        &vector_resource_id(),
        hash,
        &trusted(),
        now,
    );
    assert!(forged_status.endorser.is_none() && forged_status.rationale.is_none());
}

#[test]
fn the_best_endorsement_is_the_most_valid_then_the_newest() {
    let hash = content_hash(&vector_resource());
    let now = at(2026, 12, 1, 10);
    let older = vector_endorsement();
    let mut newer = vector_endorsement();
    newer.issued_at = at(2026, 11, 30, 9);
    newer.resign(&CLINICIAN_SEED);
    let statuses: Vec<_> = [b"junk".to_vec(), older.encode(), newer.encode()]
        .iter()
        .map(|b| {
            evaluate(
                b,
                &[],
                vector_directory(),
                &vector_resource_id(),
                hash,
                &trusted(),
                now,
            )
        })
        .collect();
    let all = ResourceEndorsements::new(statuses);
    assert_eq!(all.state(), Some(EndorsementState::Endorsed));
    assert_eq!(all.best.as_ref().unwrap().id, newer.id());
    assert_eq!(all.all.len(), 3);
    assert_eq!(all.all[2].state, EndorsementState::NotTrusted);
    assert_eq!(ResourceEndorsements::new(Vec::new()).state(), None);
}

#[test]
fn the_content_hash_covers_content_and_not_bookkeeping() {
    let base = vector_resource();
    let hash = content_hash(&base);
    type Change = fn(&mut ResourceDetails);
    let changed: Vec<(&str, Change)> = vec![
        ("name", |d| d.name.push('!')),
        ("description", |d| d.description.push(' ')),
        ("kind", |d| d.kind = ResourceKind::Helpline),
        ("organisation", |d| d.organisation.clear()),
        ("status", |d| d.status = ResourceStatus::Defunct),
        ("thrive order", |d| d.thrive.reverse()),
        ("audience", |d| d.audience = Audience::Both),
        ("min_age", |d| d.min_age = None),
        ("max_age", |d| d.max_age = Some(19)),
        ("regions", |d| d.regions.push("South".into())),
        ("cost", |d| d.cost = Cost::Paid),
        ("languages", |d| d.languages.pop().map(drop).unwrap_or(())),
        ("phones", |d| d.contact.phones.push("0808 157 0000".into())),
        ("text number", |d| {
            d.contact.text_numbers[0] = "07700 900124".into()
        }),
        ("email", |d| d.contact.email = None),
        ("url", |d| {
            d.contact.url = Some("https://example.org/x".into())
        }),
        ("hours", |d| {
            d.opening_hours = "Every day 18:00–22:00".into()
        }),
        ("always_open", |d| d.always_open = true),
        ("works_offline", |d| d.works_offline = true),
        ("orcha_score", |d| d.assessment.orcha_score = Some(70)),
        ("orcha_date", |d| {
            d.assessment.orcha_date = Some(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
        }),
        ("nice_tier", |d| d.assessment.nice_tier = Some("A".into())),
        ("nhs", |d| d.assessment.nhs_recommended = true),
    ];
    for (what, change) in changed {
        let mut d = base.clone();
        change(&mut d);
        assert_ne!(content_hash(&d), hash, "{what} is not covered");
    }
    // Moving text between two adjacent fields changes the hash (lengths
    // are encoded).
    let mut moved = base.clone();
    moved.name = format!("{} {}", moved.name, "x");
    moved.description = moved.description.trim_start_matches('x').to_owned();
    assert_ne!(content_hash(&moved), hash);
    let mut checked = base.clone();
    checked.last_checked = None;
    checked.checked_by = "Someone else".into();
    checked.review_due = Some(day(2030, 1, 1));
    assert_eq!(content_hash(&checked), hash);
}
