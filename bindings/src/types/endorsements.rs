//! Clinicians' endorsements: key pairs, each endorsement's status, a
//! resource's endorsements, and directory queries. Keys, certificates and
//! ids cross the boundary as bytes or hex text; the statements themselves
//! are verified by the core.

use std::time::SystemTime;

use lynchpin_core as lc;

use super::{
    Audience, Cost, EndorsementState, NotTrustedReason, Resource, ResourceKind, Thrive, all,
    date_text, timestamp,
};

/// An Ed25519 key pair (an organisation's or a clinician's). Keep the
/// secret in the platform's key store; Lynchpin never stores it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct SigningKeys {
    /// The 32-byte secret.
    pub secret: Vec<u8>,
    /// The 32-byte public key.
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("public_key", &hex::encode(&self.public_key))
            .finish_non_exhaustive()
    }
}

/// Who endorsed a resource, from their certificate.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Endorser {
    /// The clinician's name.
    pub name: String,
    /// Their profession.
    pub profession: String,
    /// Their registration number.
    pub registration: String,
    /// The certifying organisation.
    pub organisation: String,
    /// The clinician's 32-byte public key.
    pub clinician_key: Vec<u8>,
    /// The organisation's 32-byte public key.
    pub organisation_key: Vec<u8>,
}

impl From<lc::Endorser> for Endorser {
    fn from(e: lc::Endorser) -> Self {
        Self {
            name: e.name,
            profession: e.profession,
            registration: e.registration,
            organisation: e.organisation,
            clinician_key: e.clinician_key.as_bytes().to_vec(),
            organisation_key: e.organisation_key.as_bytes().to_vec(),
        }
    }
}

/// One endorsement as this device shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EndorsementStatus {
    /// The endorsement's id (64 hex digits): what `revoke_endorsement` takes.
    pub id: String,
    /// Its state.
    pub state: EndorsementState,
    /// Why it is not trusted, if it is not.
    pub not_trusted: Option<NotTrustedReason>,
    /// Who endorsed it; `None` for a forged or malformed statement.
    pub endorser: Option<Endorser>,
    /// When it was signed.
    pub issued_at: Option<SystemTime>,
    /// Its review date (`YYYY-MM-DD`).
    pub valid_until: Option<String>,
    /// The THRIVE groupings it is endorsed for.
    pub thrive: Vec<Thrive>,
    /// The clinician's rationale.
    pub rationale: Option<String>,
    /// The content hash endorsed (64 hex digits).
    pub content_hash: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<SystemTime>,
}

impl From<lc::EndorsementStatus> for EndorsementStatus {
    fn from(s: lc::EndorsementStatus) -> Self {
        Self {
            id: s.id.to_string(),
            state: s.state.into(),
            not_trusted: s.not_trusted.map(Into::into),
            endorser: s.endorser.map(Into::into),
            issued_at: s.issued_at.map(timestamp),
            valid_until: s.valid_until.map(date_text),
            thrive: all(s.thrive),
            rationale: s.rationale,
            content_hash: s.content_hash.map(|h| h.to_string()),
            revoked_at: s.revoked_at.map(timestamp),
        }
    }
}

/// Every endorsement of one resource, best first, and the best.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResourceEndorsements {
    /// The best endorsement, `None` if there is none.
    pub best: Option<EndorsementStatus>,
    /// All of them, best first.
    pub all: Vec<EndorsementStatus>,
}

impl From<lc::ResourceEndorsements> for ResourceEndorsements {
    fn from(r: lc::ResourceEndorsements) -> Self {
        Self {
            best: r.best.map(Into::into),
            all: all(r.all),
        }
    }
}

/// What to look for in a directory. Every field set must match; results
/// are ranked endorsed first.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ResourceQuery {
    /// A THRIVE grouping the resource serves.
    #[uniffi(default = None)]
    pub thrive: Option<Thrive>,
    /// Who it is for.
    #[uniffi(default = None)]
    pub audience: Option<Audience>,
    /// The age of the person it is for.
    #[uniffi(default = None)]
    pub age: Option<u8>,
    /// A region it serves.
    #[uniffi(default = None)]
    pub region: Option<String>,
    /// Its kind.
    #[uniffi(default = None)]
    pub kind: Option<ResourceKind>,
    /// Its cost.
    #[uniffi(default = None)]
    pub cost: Option<Cost>,
    /// Only resources with a valid, current endorsement.
    #[uniffi(default = false)]
    pub endorsed_only: bool,
    /// Words to find in the name or description.
    #[uniffi(default = None)]
    pub text: Option<String>,
    /// At most this many results.
    #[uniffi(default = None)]
    pub limit: Option<u32>,
}

impl From<ResourceQuery> for lc::ResourceQuery {
    fn from(q: ResourceQuery) -> Self {
        Self {
            thrive: q.thrive.map(Into::into),
            audience: q.audience.map(Into::into),
            age: q.age,
            region: q.region,
            kind: q.kind.map(Into::into),
            cost: q.cost.map(Into::into),
            endorsed_only: q.endorsed_only,
            text: q.text,
            limit: q.limit.map(|l| l as usize),
        }
    }
}

/// A resource that matched a query, with its best endorsement.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResourceMatch {
    /// The resource.
    pub resource: Resource,
    /// Its best endorsement; `None` if it has none.
    pub endorsement: Option<EndorsementStatus>,
}

impl From<lc::ResourceMatch> for ResourceMatch {
    fn from(m: lc::ResourceMatch) -> Self {
        Self {
            resource: (*m.resource).clone().into(),
            endorsement: m.endorsement.map(Into::into),
        }
    }
}
