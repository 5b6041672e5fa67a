//! The four signed statements of the trust chain and their versioned
//! binary encodings (docs/ENDORSEMENTS.md, "Statements"):
//!
//! | magic | statement | signed by | context |
//! | --- | --- | --- | --- |
//! | `LYNQ` | [`CertificateRequest`] | the clinician | `lynchpin/certificate-request/v1` |
//! | `LYNC` | [`Certificate`] | the organisation | `lynchpin/certificate/v1` |
//! | `LYNE` | [`Endorsement`] | the clinician | `lynchpin/endorsement/v1` |
//! | `LYNR` | [`Revocation`] | the clinician or the organisation | `lynchpin/revocation/v1` |
//!
//! Each encoding is `magic ‖ version ‖ body ‖ signature(64)`, and the
//! signature is Ed25519 over `context ‖ magic ‖ version ‖ body`. Decoding
//! checks the structure, the field rules and the signatures; whether a
//! statement is *trusted* is [`super::evaluate`]'s question.

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::{
    ContentHash, EndorsementId, PublicKey, SigningKeyPair, StatementError,
    encoding::{Reader, Writer},
};
use crate::{
    DocumentId, Error, InvalidInput, ItemId, Problem, Thrive,
    validate::{self, MAX_SHORT_TEXT, MAX_TEXT},
};

/// The longest encoded statement accepted, in bytes.
pub const MAX_STATEMENT_BYTES: usize = 16 * 1024;
const VERSION: u8 = 1;
const SIGNATURE_LEN: usize = 64;

const REQUEST_MAGIC: &[u8; 4] = b"LYNQ";
const CERTIFICATE_MAGIC: &[u8; 4] = b"LYNC";
const ENDORSEMENT_MAGIC: &[u8; 4] = b"LYNE";
const REVOCATION_MAGIC: &[u8; 4] = b"LYNR";
const REQUEST_CONTEXT: &[u8] = b"lynchpin/certificate-request/v1";
const CERTIFICATE_CONTEXT: &[u8] = b"lynchpin/certificate/v1";
const ENDORSEMENT_CONTEXT: &[u8] = b"lynchpin/endorsement/v1";
const REVOCATION_CONTEXT: &[u8] = b"lynchpin/revocation/v1";

/// Splits a statement into its body (magic and version included) and
/// signature, after checking its size, magic and version.
fn split<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
) -> Result<(Reader<'a>, &'a [u8], [u8; 64]), StatementError> {
    if bytes.len() > MAX_STATEMENT_BYTES {
        return Err(StatementError::TooLong);
    }
    let (body, signature) = bytes
        .split_last_chunk::<SIGNATURE_LEN>()
        .ok_or(StatementError::Malformed)?;
    let mut reader = Reader(body);
    if reader.take(4)? != magic || reader.u8()? != VERSION {
        return Err(StatementError::Malformed);
    }
    Ok((reader, body, *signature))
}

fn signed_message(context: &[u8], body: &[u8]) -> Vec<u8> {
    [context, body].concat()
}

fn timestamp(ms: i64) -> Result<DateTime<Utc>, StatementError> {
    DateTime::from_timestamp_millis(ms).ok_or(StatementError::Malformed)
}

/// A time cut to whole milliseconds, as statements carry it.
fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// What decoding checks besides the structure and the field rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checks {
    /// Every signature, and that every key is an Ed25519 point: bytes
    /// from anywhere.
    Signatures,
    /// Nothing more: bytes this device decoded with [`Checks::Signatures`]
    /// before and kept sealed under its own key (the saved directory index,
    /// `store/saved_index.rs`).
    Trusted,
}

fn public_key(reader: &mut Reader<'_>, checks: Checks) -> Result<PublicKey, StatementError> {
    let bytes = reader.array()?;
    match checks {
        Checks::Signatures => PublicKey::from_array(bytes).ok_or(StatementError::Malformed),
        Checks::Trusted => Ok(PublicKey(bytes)),
    }
}

/// A name, profession, registration or organisation: one line, not
/// empty, at most [`MAX_SHORT_TEXT`] characters.
fn short_text(reader: &mut Reader<'_>) -> Result<String, StatementError> {
    let value = reader.str()?;
    validate::required("text", &value, MAX_SHORT_TEXT).map_err(|_| StatementError::Malformed)?;
    Ok(value)
}

fn check_short(field: &'static str, value: &str) -> Result<(), Error> {
    Ok(validate::required(field, value, MAX_SHORT_TEXT)?)
}

/// A clinician's request to be certified: their public key and who they
/// are, signed with their own key to show they hold it. The clinician's app
/// makes it; the organisation's admin tool checks it and issues a
/// [`Certificate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// The clinician's public key.
    pub clinician_key: PublicKey,
    /// The clinician's name as patients see it.
    pub name: String,
    /// Their profession (nurse, psychologist, social worker …).
    pub profession: String,
    /// Their professional registration number (NMC, HCPC, SWE …).
    pub registration: String,
    signature: [u8; 64],
}

impl CertificateRequest {
    /// Makes and signs a request with the clinician's 32-byte secret.
    pub fn new(
        clinician_secret: &[u8],
        name: &str,
        profession: &str,
        registration: &str,
    ) -> Result<Self, Error> {
        check_short("name", name)?;
        check_short("profession", profession)?;
        check_short("registration", registration)?;
        let key = SigningKeyPair::from_secret(clinician_secret)?;
        let mut request = Self {
            clinician_key: key.public_key(),
            name: name.to_owned(),
            profession: profession.to_owned(),
            registration: registration.to_owned(),
            signature: [0; 64],
        };
        request.signature = key.sign(&signed_message(REQUEST_CONTEXT, &request.body()));
        Ok(request)
    }

    fn body(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(REQUEST_MAGIC);
        w.u8(VERSION);
        w.bytes(self.clinician_key.as_bytes());
        w.str(&self.name);
        w.str(&self.profession);
        w.str(&self.registration);
        w.0
    }

    /// The request's bytes, signature included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes a request and checks that the clinician signed it.
    pub fn decode(bytes: &[u8]) -> Result<Self, StatementError> {
        let (mut r, body, signature) = split(bytes, REQUEST_MAGIC)?;
        let request = Self {
            clinician_key: public_key(&mut r, Checks::Signatures)?,
            name: short_text(&mut r)?,
            profession: short_text(&mut r)?,
            registration: short_text(&mut r)?,
            signature,
        };
        if !r.is_empty() {
            return Err(StatementError::Malformed);
        }
        if !request
            .clinician_key
            .verify(&signed_message(REQUEST_CONTEXT, body), &signature)
        {
            return Err(StatementError::BadSignature);
        }
        Ok(request)
    }
}

/// An organisation's statement that a key is a clinician's: who they are
/// and when the certificate is valid. Signed with the organisation's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certifying organisation's public key (the one apps trust).
    pub organisation_key: PublicKey,
    /// The clinician's public key.
    pub clinician_key: PublicKey,
    /// The clinician's name.
    pub name: String,
    /// Their profession.
    pub profession: String,
    /// Their professional registration number.
    pub registration: String,
    /// The organisation's name.
    pub organisation: String,
    /// Valid from this time (inclusive).
    pub valid_from: DateTime<Utc>,
    /// Valid until this time (inclusive).
    pub valid_until: DateTime<Utc>,
    signature: [u8; 64],
}

impl Certificate {
    /// Issues a certificate for a clinician's request, signed with the
    /// organisation's 32-byte secret. The request's own signature must
    /// verify (it proves the clinician holds the key); times are cut to
    /// whole milliseconds.
    pub fn issue(
        organisation_secret: &[u8],
        request: &CertificateRequest,
        organisation: &str,
        valid_from: DateTime<Utc>,
        valid_until: DateTime<Utc>,
    ) -> Result<Self, Error> {
        check_short("organisation", organisation)?;
        CertificateRequest::decode(&request.encode())?;
        if valid_until < valid_from {
            return Err(InvalidInput::new(
                "valid_until",
                Problem::Inconsistent {
                    rule: "the end must not be before the start",
                },
            )
            .into());
        }
        let key = SigningKeyPair::from_secret(organisation_secret)?;
        let mut certificate = Self {
            organisation_key: key.public_key(),
            clinician_key: request.clinician_key,
            name: request.name.clone(),
            profession: request.profession.clone(),
            registration: request.registration.clone(),
            organisation: organisation.to_owned(),
            valid_from: to_millis(valid_from),
            valid_until: to_millis(valid_until),
            signature: [0; 64],
        };
        certificate.signature = key.sign(&signed_message(CERTIFICATE_CONTEXT, &certificate.body()));
        Ok(certificate)
    }

    fn body(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(CERTIFICATE_MAGIC);
        w.u8(VERSION);
        w.bytes(self.organisation_key.as_bytes());
        w.bytes(self.clinician_key.as_bytes());
        w.str(&self.name);
        w.str(&self.profession);
        w.str(&self.registration);
        w.str(&self.organisation);
        w.i64(self.valid_from.timestamp_millis());
        w.i64(self.valid_until.timestamp_millis());
        w.0
    }

    /// The certificate's bytes, signature included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&self.signature);
        out
    }

    /// The signature, as the test vectors list it.
    pub fn signature(&self) -> [u8; 64] {
        self.signature
    }

    /// Decodes a certificate and checks the organisation's signature (not
    /// whether the organisation is trusted, nor the validity period).
    pub fn decode(bytes: &[u8]) -> Result<Self, StatementError> {
        Self::decode_with(bytes, Checks::Signatures)
    }

    fn decode_with(bytes: &[u8], checks: Checks) -> Result<Self, StatementError> {
        let (mut r, body, signature) = split(bytes, CERTIFICATE_MAGIC)?;
        let certificate = Self {
            organisation_key: public_key(&mut r, checks)?,
            clinician_key: public_key(&mut r, checks)?,
            name: short_text(&mut r)?,
            profession: short_text(&mut r)?,
            registration: short_text(&mut r)?,
            organisation: short_text(&mut r)?,
            valid_from: timestamp(r.i64()?)?,
            valid_until: timestamp(r.i64()?)?,
            signature,
        };
        if !r.is_empty() || certificate.valid_until < certificate.valid_from {
            return Err(StatementError::Malformed);
        }
        if checks == Checks::Signatures
            && !certificate
                .organisation_key
                .verify(&signed_message(CERTIFICATE_CONTEXT, body), &signature)
        {
            return Err(StatementError::BadSignature);
        }
        Ok(certificate)
    }

    /// Whether the certificate is valid at `at`.
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && at <= self.valid_until
    }

    /// Whether the clinician certified their own key.
    pub fn is_self_signed(&self) -> bool {
        self.organisation_key == self.clinician_key
    }
}

/// A clinician's signed statement that one version of a resource (its
/// [`ContentHash`]) is suitable for the THRIVE groupings named, until a
/// review date. It embeds the clinician's [`Certificate`] so that it
/// verifies on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    /// The directory document.
    pub directory: DocumentId,
    /// The resource in it.
    pub resource: ItemId,
    /// The content the clinician saw.
    pub content_hash: ContentHash,
    /// Why they endorse it (at most [`MAX_TEXT`] characters).
    pub rationale: String,
    /// The THRIVE groupings it is endorsed for, in declaration order.
    pub thrive: Vec<Thrive>,
    /// When it was signed (whole milliseconds).
    pub issued_at: DateTime<Utc>,
    /// The date by which it must be reviewed; after it the endorsement is
    /// [`ReviewOverdue`](super::EndorsementState::ReviewOverdue).
    pub valid_until: NaiveDate,
    /// The clinician's certificate.
    pub certificate: Certificate,
    signature: [u8; 64],
}

/// The THRIVE groupings as a bit set: bit `i` is `Thrive::ALL[i]`.
pub(crate) fn thrive_mask(thrive: &[Thrive]) -> u8 {
    Thrive::ALL
        .iter()
        .enumerate()
        .filter(|(_, t)| thrive.contains(t))
        .fold(0, |mask, (i, _)| mask | (1 << i))
}

fn thrive_from_mask(mask: u8) -> Option<Vec<Thrive>> {
    if mask == 0 || u32::from(mask) >> Thrive::ALL.len() != 0 {
        return None;
    }
    Some(
        Thrive::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, t)| *t)
            .collect(),
    )
}

impl Endorsement {
    /// Signs an endorsement with the clinician's 32-byte secret, which must
    /// be the key `certificate` certifies, at `issued_at` (which the
    /// certificate must cover).
    ///
    /// Checks the rationale (not blank, at most [`MAX_TEXT`] characters),
    /// that at least one THRIVE grouping is named, and that `valid_until`
    /// is not before the day of issue.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        clinician_secret: &[u8],
        certificate: &Certificate,
        directory: DocumentId,
        resource: &ItemId,
        content_hash: ContentHash,
        rationale: &str,
        thrive: &[Thrive],
        issued_at: DateTime<Utc>,
        valid_until: NaiveDate,
    ) -> Result<Self, Error> {
        validate::required_multiline("rationale", rationale, MAX_TEXT)?;
        validate::date("valid_until", valid_until)?;
        let key = SigningKeyPair::from_secret(clinician_secret)?;
        if key.public_key() != certificate.clinician_key {
            return Err(InvalidInput::new(
                "certificate",
                Problem::Inconsistent {
                    rule: "the certificate is not for this clinician key",
                },
            )
            .into());
        }
        let issued_at = to_millis(issued_at);
        if !certificate.valid_at(issued_at) {
            return Err(InvalidInput::new(
                "certificate",
                Problem::Inconsistent {
                    rule: "the certificate is not valid at the time of signing",
                },
            )
            .into());
        }
        let thrive = thrive_from_mask(thrive_mask(thrive)).ok_or_else(|| {
            InvalidInput::new(
                "thrive",
                Problem::Inconsistent {
                    rule: "an endorsement names at least one THRIVE grouping",
                },
            )
        })?;
        if valid_until < issued_at.date_naive() {
            return Err(InvalidInput::new(
                "valid_until",
                Problem::Inconsistent {
                    rule: "the review date must not be before the day of signing",
                },
            )
            .into());
        }
        let mut endorsement = Self {
            directory,
            resource: resource.clone(),
            content_hash,
            rationale: rationale.to_owned(),
            thrive,
            issued_at,
            valid_until,
            certificate: certificate.clone(),
            signature: [0; 64],
        };
        if endorsement.encode().len() > MAX_STATEMENT_BYTES {
            return Err(InvalidInput::new(
                "rationale",
                Problem::TooLong {
                    max: MAX_STATEMENT_BYTES,
                },
            )
            .into());
        }
        endorsement.signature = key.sign(&signed_message(ENDORSEMENT_CONTEXT, &endorsement.body()));
        Ok(endorsement)
    }

    fn body(&self) -> Vec<u8> {
        let certificate = self.certificate.encode();
        let mut w = Writer(Vec::with_capacity(
            160 + self.rationale.len() + certificate.len(),
        ));
        w.bytes(ENDORSEMENT_MAGIC);
        w.u8(VERSION);
        w.bytes(self.directory.as_bytes());
        w.bytes(&self.resource.uuid_bytes());
        w.bytes(&self.content_hash.0);
        w.str(&self.rationale);
        w.u8(thrive_mask(&self.thrive));
        w.i64(self.issued_at.timestamp_millis());
        w.date(self.valid_until);
        w.len(certificate.len());
        w.bytes(&certificate);
        w.0
    }

    /// The endorsement's bytes, signature included: what the directory
    /// stores and a signpost carries.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&self.signature);
        out
    }

    /// The signature, as the test vectors list it.
    pub fn signature(&self) -> [u8; 64] {
        self.signature
    }

    /// Signs the statement as it now is, whatever its fields say: for tests
    /// that need statements `sign` refuses to make.
    #[cfg(test)]
    pub(crate) fn resign(&mut self, secret: &[u8]) {
        let key = SigningKeyPair::from_secret(secret).expect("a 32-byte secret");
        self.signature = key.sign(&signed_message(ENDORSEMENT_CONTEXT, &self.body()));
    }

    /// Its identity: SHA-256 of [`Endorsement::encode`].
    pub fn id(&self) -> EndorsementId {
        EndorsementId(Sha256::digest(self.encode()).into())
    }

    /// Decodes an endorsement and checks both signatures: the embedded
    /// certificate's (by its organisation) and the endorsement's (by the
    /// clinician the certificate names).
    pub fn decode(bytes: &[u8]) -> Result<Self, StatementError> {
        Self::decode_with(bytes, Checks::Signatures)
    }

    /// Decodes an endorsement that this device decoded with
    /// [`Endorsement::decode`] before and kept sealed: the structure and
    /// the field rules are checked, the signatures are not.
    pub(crate) fn decode_trusted(bytes: &[u8]) -> Result<Self, StatementError> {
        Self::decode_with(bytes, Checks::Trusted)
    }

    fn decode_with(bytes: &[u8], checks: Checks) -> Result<Self, StatementError> {
        let (mut r, body, signature) = split(bytes, ENDORSEMENT_MAGIC)?;
        let directory = DocumentId::from_slice(r.take(16)?).ok_or(StatementError::Malformed)?;
        let resource = ItemId::from_uuid_bytes(r.array()?);
        let content_hash = ContentHash(r.array()?);
        let rationale = r.str()?;
        validate::required_multiline("rationale", &rationale, MAX_TEXT)
            .map_err(|_| StatementError::Malformed)?;
        let thrive = thrive_from_mask(r.u8()?).ok_or(StatementError::Malformed)?;
        let issued_at = timestamp(r.i64()?)?;
        let valid_until = r.date()?;
        let certificate_len = usize::try_from(r.u32()?).map_err(|_| StatementError::Malformed)?;
        let certificate = Certificate::decode_with(r.take(certificate_len)?, checks)?;
        if !r.is_empty() {
            return Err(StatementError::Malformed);
        }
        if checks == Checks::Signatures
            && !certificate
                .clinician_key
                .verify(&signed_message(ENDORSEMENT_CONTEXT, body), &signature)
        {
            return Err(StatementError::BadSignature);
        }
        Ok(Self {
            directory,
            resource,
            content_hash,
            rationale,
            thrive,
            issued_at,
            valid_until,
            certificate,
            signature,
        })
    }
}

/// A signed statement withdrawing an endorsement, by the clinician who made
/// it or by the organisation that certified them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The directory the endorsement is in.
    pub directory: DocumentId,
    /// The endorsement withdrawn.
    pub endorsement: EndorsementId,
    /// The key that signed the revocation.
    pub revoker: PublicKey,
    /// When (whole milliseconds).
    pub issued_at: DateTime<Utc>,
    signature: [u8; 64],
}

impl Revocation {
    /// Signs a revocation of `endorsement` with the revoker's 32-byte
    /// secret: the endorsing clinician's, or their organisation's. Any
    /// other key is refused with [`Error::NotAllowed`].
    pub fn sign(
        revoker_secret: &[u8],
        endorsement: &Endorsement,
        issued_at: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let key = SigningKeyPair::from_secret(revoker_secret)?;
        let revoker = key.public_key();
        if !may_revoke(&revoker, endorsement) {
            return Err(Error::NotAllowed(
                "revoke an endorsement it neither made nor certified",
            ));
        }
        let mut revocation = Self {
            directory: endorsement.directory,
            endorsement: endorsement.id(),
            revoker,
            issued_at: to_millis(issued_at),
            signature: [0; 64],
        };
        revocation.signature = key.sign(&signed_message(REVOCATION_CONTEXT, &revocation.body()));
        Ok(revocation)
    }

    fn body(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(REVOCATION_MAGIC);
        w.u8(VERSION);
        w.bytes(self.directory.as_bytes());
        w.bytes(&self.endorsement.0);
        w.bytes(self.revoker.as_bytes());
        w.i64(self.issued_at.timestamp_millis());
        w.0
    }

    /// The signature, as the test vectors list it.
    pub fn signature(&self) -> [u8; 64] {
        self.signature
    }

    /// The revocation's bytes, signature included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&self.signature);
        out
    }

    /// A revocation signed by any key, for tests of revocations that do
    /// not count.
    #[cfg(test)]
    pub(crate) fn sign_unchecked(
        revoker_secret: &[u8],
        endorsement: &Endorsement,
        issued_at: DateTime<Utc>,
    ) -> Self {
        let key = SigningKeyPair::from_secret(revoker_secret).expect("a 32-byte secret");
        let mut revocation = Self {
            directory: endorsement.directory,
            endorsement: endorsement.id(),
            revoker: key.public_key(),
            issued_at: to_millis(issued_at),
            signature: [0; 64],
        };
        revocation.signature = key.sign(&signed_message(REVOCATION_CONTEXT, &revocation.body()));
        revocation
    }

    /// SHA-256 of [`Revocation::encode`]: its key in the directory.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.encode()).into()
    }

    /// Decodes a revocation and checks the revoker's signature (not whether
    /// the revoker may revoke that endorsement: see [`super::evaluate`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, StatementError> {
        Self::decode_with(bytes, Checks::Signatures)
    }

    /// Decodes a revocation that this device decoded with
    /// [`Revocation::decode`] before and kept sealed: the structure is
    /// checked, the signature is not.
    pub(crate) fn decode_trusted(bytes: &[u8]) -> Result<Self, StatementError> {
        Self::decode_with(bytes, Checks::Trusted)
    }

    fn decode_with(bytes: &[u8], checks: Checks) -> Result<Self, StatementError> {
        let (mut r, body, signature) = split(bytes, REVOCATION_MAGIC)?;
        let revocation = Self {
            directory: DocumentId::from_slice(r.take(16)?).ok_or(StatementError::Malformed)?,
            endorsement: EndorsementId(r.array()?),
            revoker: public_key(&mut r, checks)?,
            issued_at: timestamp(r.i64()?)?,
            signature,
        };
        if !r.is_empty() {
            return Err(StatementError::Malformed);
        }
        if checks == Checks::Signatures
            && !revocation
                .revoker
                .verify(&signed_message(REVOCATION_CONTEXT, body), &signature)
        {
            return Err(StatementError::BadSignature);
        }
        Ok(revocation)
    }
}

/// Whether `key` may revoke `endorsement`: the clinician's own key or the
/// key of the organisation that certified them.
pub(crate) fn may_revoke(key: &PublicKey, endorsement: &Endorsement) -> bool {
    *key == endorsement.certificate.clinician_key
        || *key == endorsement.certificate.organisation_key
}
