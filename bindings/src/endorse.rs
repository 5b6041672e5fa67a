//! Keys and certificates for clinicians' endorsements, as free functions.
//! Certificates cross the boundary as their encoded bytes: apps store and
//! pass them on as they are, and every device verifies them itself.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lynchpin_core as lc;

use crate::{LynchpinError, types::SigningKeys};

type Result<T> = std::result::Result<T, LynchpinError>;

/// The key pair of a 32-byte secret, naming `field` if it is not one.
fn key_pair(field: &str, secret: &[u8]) -> Result<lc::SigningKeyPair> {
    lc::SigningKeyPair::from_secret(secret)
        .map_err(|_| LynchpinError::invalid(field, "must be a 32-byte Ed25519 secret key"))
}

fn keys(pair: &lc::SigningKeyPair) -> SigningKeys {
    SigningKeys {
        secret: pair.secret_bytes().to_vec(),
        public_key: pair.public_key().as_bytes().to_vec(),
    }
}

/// A fresh Ed25519 key pair for an organisation (to certify clinicians) or
/// a clinician (to endorse resources).
#[uniffi::export]
pub fn generate_signing_keys() -> Result<SigningKeys> {
    Ok(keys(&lc::SigningKeyPair::generate()?))
}

/// The 32-byte public key of a 32-byte secret.
#[uniffi::export]
pub fn public_key_of(secret: Vec<u8>) -> Result<Vec<u8>> {
    Ok(key_pair("secret", &secret)?
        .public_key()
        .as_bytes()
        .to_vec())
}

/// A clinician's request for a certificate, signed with their secret: the
/// bytes to give their organisation.
#[uniffi::export]
pub fn create_certificate_request(
    clinician_secret: Vec<u8>,
    name: String,
    profession: String,
    registration: String,
) -> Result<Vec<u8>> {
    key_pair("clinician_secret", &clinician_secret)?;
    let request =
        lc::CertificateRequest::new(&clinician_secret, &name, &profession, &registration)?;
    Ok(request.encode())
}

/// An organisation's certificate for a clinician's request (from
/// `create_certificate_request`), valid from `valid_from` until
/// `valid_until`, signed with the organisation's secret: the bytes the
/// clinician endorses with.
#[uniffi::export]
pub fn issue_certificate(
    organisation_secret: Vec<u8>,
    request: Vec<u8>,
    organisation: String,
    valid_from: SystemTime,
    valid_until: SystemTime,
) -> Result<Vec<u8>> {
    key_pair("organisation_secret", &organisation_secret)?;
    let request = lc::CertificateRequest::decode(&request)
        .map_err(|e| LynchpinError::invalid("request", e.to_string()))?;
    let certificate = lc::Certificate::issue(
        &organisation_secret,
        &request,
        &organisation,
        DateTime::<Utc>::from(valid_from),
        DateTime::<Utc>::from(valid_until),
    )?;
    Ok(certificate.encode())
}
