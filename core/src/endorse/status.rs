//! What a device shows for an endorsement, worked out offline from the
//! statements, the organisations it trusts and the time. The rules are on
//! [`EndorsementState`].

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::{
    ContentHash, Endorsement, EndorsementId, MAX_CLOCK_SKEW, PublicKey, Revocation, StatementError,
    statements::may_revoke,
};
use crate::{DocumentId, Error, ItemId, Thrive};

/// The organisation keys an app trusts to certify clinicians. Plain data:
/// an app builds it from the 32-byte public keys it is configured with and
/// gives it to [`Store::set_trusted_organisations`](crate::Store::set_trusted_organisations).
/// Empty by default: then no endorsement is trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedOrganisations {
    keys: BTreeSet<PublicKey>,
}

impl TrustedOrganisations {
    /// Trusts these keys.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }

    /// Trusts these 32-byte keys; any other length, or bytes that are not an
    /// Ed25519 key, is an [`Error::Invalid`].
    pub fn from_slices<B: AsRef<[u8]>>(keys: &[B]) -> Result<Self, Error> {
        keys.iter()
            .map(|k| PublicKey::from_slice(k.as_ref()))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(|keys| Self { keys })
    }

    /// Whether certificates signed by `key` are trusted.
    pub fn trusts(&self, key: &PublicKey) -> bool {
        self.keys.contains(key)
    }

    /// The trusted keys, in byte order.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.keys.iter().copied().collect()
    }
}

/// What a device shows for one endorsement.
///
/// One endorsement's state, checked in this order (the first that applies
/// wins, so the order is also the precedence):
///
/// 1. **NotTrusted** — no valid chain: the statement does not decode, a
///    signature does not verify, it names another directory or resource,
///    the clinician certified their own key, the certifying organisation is
///    not trusted, the certificate is not valid at the evaluation time, the
///    endorsement was signed outside the certificate's validity, or it is
///    stamped more than [`MAX_CLOCK_SKEW`] after the evaluation time.
/// 2. **Revoked** — a revocation signed by the endorsing clinician's key or
///    by the certifying organisation's key names it (and is stamped no
///    later than the evaluation time plus [`MAX_CLOCK_SKEW`]).
/// 3. **ChangedSinceEndorsement** — the resource's current content hash is
///    not the one endorsed.
/// 4. **ReviewOverdue** — the evaluation time's UTC date is after the
///    endorsement's review date.
/// 5. **Endorsed**.
///
/// A resource's overall status is its best endorsement: Endorsed, then
/// ReviewOverdue, ChangedSinceEndorsement, Revoked, NotTrusted; among
/// equals the most recently signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndorsementState {
    /// Valid, trusted, about the content the resource has now, not revoked
    /// and not due for review.
    Endorsed,
    /// As [`Endorsed`](Self::Endorsed), but its review date has passed.
    ReviewOverdue,
    /// The resource's content has changed since it was endorsed (a phone
    /// number edited, say).
    ChangedSinceEndorsement,
    /// Withdrawn by the clinician or their organisation.
    Revoked,
    /// No valid chain to a trusted organisation.
    NotTrusted,
}

/// Why an endorsement is [`EndorsementState::NotTrusted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotTrustedReason {
    /// The bytes are not a well-formed endorsement.
    Malformed,
    /// The endorsement's or its certificate's signature does not verify:
    /// it was forged or altered.
    BadSignature,
    /// It is about another directory or resource.
    WrongResource,
    /// The clinician's key certified itself.
    SelfSigned,
    /// The certificate is signed by an organisation this app does not trust.
    UnknownOrganisation,
    /// The certificate is not valid yet at the evaluation time.
    CertificateNotYetValid,
    /// The certificate had expired at the evaluation time.
    CertificateExpired,
    /// The endorsement was signed outside the certificate's validity.
    IssuedOutsideCertificate,
    /// The endorsement is stamped later than the evaluation time (beyond
    /// [`MAX_CLOCK_SKEW`]).
    IssuedInFuture,
}

impl From<StatementError> for NotTrustedReason {
    fn from(e: StatementError) -> Self {
        match e {
            StatementError::Malformed | StatementError::TooLong => Self::Malformed,
            StatementError::BadSignature => Self::BadSignature,
        }
    }
}

/// Who endorsed a resource, from their certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Endorser {
    /// The clinician's name.
    pub name: String,
    /// Their profession.
    pub profession: String,
    /// Their registration number.
    pub registration: String,
    /// The certifying organisation.
    pub organisation: String,
    /// The clinician's public key.
    pub clinician_key: PublicKey,
    /// The organisation's public key.
    pub organisation_key: PublicKey,
}

/// One endorsement as a device shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EndorsementStatus {
    /// The endorsement's identity (SHA-256 of its bytes, even if they do
    /// not decode).
    pub id: EndorsementId,
    /// Its state at the evaluation time.
    pub state: EndorsementState,
    /// Why it is not trusted, if it is not.
    pub not_trusted: Option<NotTrustedReason>,
    /// Who endorsed it, when the statement's signatures verify; `None` for
    /// a forged or malformed statement, whose claims are not repeated.
    pub endorser: Option<Endorser>,
    /// When it was signed.
    pub issued_at: Option<DateTime<Utc>>,
    /// Its review date.
    pub valid_until: Option<NaiveDate>,
    /// The THRIVE groupings it is endorsed for.
    pub thrive: Vec<Thrive>,
    /// The clinician's rationale.
    pub rationale: Option<String>,
    /// The content hash endorsed.
    pub content_hash: Option<ContentHash>,
    /// When it was revoked, if it was (the earliest valid revocation).
    pub revoked_at: Option<DateTime<Utc>>,
}

impl EndorsementStatus {
    fn rank(&self) -> (EndorsementState, std::cmp::Reverse<Option<DateTime<Utc>>>) {
        (self.state, std::cmp::Reverse(self.issued_at))
    }
}

/// Every endorsement of one resource, best first, and the best.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResourceEndorsements {
    /// The best endorsement (see [`EndorsementState`]), `None` if there is none.
    pub best: Option<EndorsementStatus>,
    /// All of them, best first: by state (Endorsed first), then most
    /// recently signed, then id.
    pub all: Vec<EndorsementStatus>,
}

impl ResourceEndorsements {
    /// Orders `statuses` and picks the best.
    pub fn new(mut statuses: Vec<EndorsementStatus>) -> Self {
        statuses.sort_by(|a, b| a.rank().cmp(&b.rank()).then(a.id.cmp(&b.id)));
        Self {
            best: statuses.first().cloned(),
            all: statuses,
        }
    }

    /// The overall state: the best endorsement's, `None` if there is none.
    pub fn state(&self) -> Option<EndorsementState> {
        self.best.as_ref().map(|s| s.state)
    }
}

/// What an endorsement is evaluated against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) directory: DocumentId,
    pub(crate) resource: &'a ItemId,
    pub(crate) current: ContentHash,
    pub(crate) trusted: &'a TrustedOrganisations,
    pub(crate) now: DateTime<Utc>,
}

/// Evaluates one endorsement's bytes for a resource whose content now
/// hashes to `current`, with the revocations the directory holds (others
/// are ignored), the organisations the app trusts, at `now`. Never fails:
/// bytes that are not a valid endorsement are [`EndorsementState::NotTrusted`].
pub fn evaluate(
    endorsement: &[u8],
    revocations: &[Revocation],
    directory: DocumentId,
    resource: &ItemId,
    current: ContentHash,
    trusted: &TrustedOrganisations,
    now: DateTime<Utc>,
) -> EndorsementStatus {
    let id = EndorsementId(Sha256::digest(endorsement).into());
    let decoded = Endorsement::decode(endorsement);
    evaluate_decoded(
        id,
        decoded.as_ref().map_err(|e| *e),
        revocations.iter(),
        &Context {
            directory,
            resource,
            current,
            trusted,
            now,
        },
    )
}

/// [`evaluate`] for an endorsement already decoded (the directory index
/// decodes and verifies each statement once).
pub(crate) fn evaluate_decoded<'a>(
    id: EndorsementId,
    decoded: Result<&Endorsement, StatementError>,
    revocations: impl Iterator<Item = &'a Revocation>,
    cx: &Context<'_>,
) -> EndorsementStatus {
    let e = match decoded {
        Ok(e) => e,
        Err(error) => {
            return EndorsementStatus {
                id,
                state: EndorsementState::NotTrusted,
                not_trusted: Some(error.into()),
                endorser: None,
                issued_at: None,
                valid_until: None,
                thrive: Vec::new(),
                rationale: None,
                content_hash: None,
                revoked_at: None,
            };
        }
    };
    let c = &e.certificate;
    let not_trusted = if e.directory != cx.directory || e.resource != *cx.resource {
        Some(NotTrustedReason::WrongResource)
    } else if c.is_self_signed() {
        Some(NotTrustedReason::SelfSigned)
    } else if !cx.trusted.trusts(&c.organisation_key) {
        Some(NotTrustedReason::UnknownOrganisation)
    } else if cx.now < c.valid_from {
        Some(NotTrustedReason::CertificateNotYetValid)
    } else if cx.now > c.valid_until {
        Some(NotTrustedReason::CertificateExpired)
    } else if !c.valid_at(e.issued_at) {
        Some(NotTrustedReason::IssuedOutsideCertificate)
    } else if e.issued_at > cx.now + MAX_CLOCK_SKEW {
        Some(NotTrustedReason::IssuedInFuture)
    } else {
        None
    };
    let revoked_at = revocations
        .filter(|r| {
            r.endorsement == id
                && r.directory == e.directory
                && may_revoke(&r.revoker, e)
                && r.issued_at <= cx.now + MAX_CLOCK_SKEW
        })
        .map(|r| r.issued_at)
        .min();
    let state = if not_trusted.is_some() {
        EndorsementState::NotTrusted
    } else if revoked_at.is_some() {
        EndorsementState::Revoked
    } else if e.content_hash != cx.current {
        EndorsementState::ChangedSinceEndorsement
    } else if cx.now.date_naive() > e.valid_until {
        EndorsementState::ReviewOverdue
    } else {
        EndorsementState::Endorsed
    };
    EndorsementStatus {
        id,
        state,
        not_trusted,
        endorser: Some(Endorser {
            name: c.name.clone(),
            profession: c.profession.clone(),
            registration: c.registration.clone(),
            organisation: c.organisation.clone(),
            clinician_key: c.clinician_key,
            organisation_key: c.organisation_key,
        }),
        issued_at: Some(e.issued_at),
        valid_until: Some(e.valid_until),
        thrive: e.thrive.clone(),
        rationale: Some(e.rationale.clone()),
        content_hash: Some(e.content_hash),
        revoked_at,
    }
}
