//! Clinician endorsements that any device verifies offline.
//!
//! The trust chain has two links. An organisation's Ed25519 key signs a
//! [`Certificate`] for a clinician's key (name, profession, registration,
//! organisation, validity). The clinician's key signs an [`Endorsement`] of
//! one version of a resource: the statement names the directory, the
//! resource and the [`ContentHash`] of its content, and embeds the
//! certificate, so it verifies on its own. The clinician or the certifying
//! organisation can withdraw it with a signed [`Revocation`].
//!
//! Apps choose the organisations they trust ([`TrustedOrganisations`]).
//! [`evaluate`] then gives each endorsement a [`EndorsementState`] at a
//! given time, from the statements alone: no network, no server.
//!
//! Statements are stored as bytes in the resource directory's
//! `endorsements` and `revocations` maps, so they sync like any other edit
//! and every device checks them itself; a statement that does not decode
//! or verify is shown as not trusted and never stops a directory loading.
//! A care plan's signpost carries a copy of the endorsements and a snapshot
//! of the resource, so a device without the directory can check them too.
//!
//! The byte encodings, the signature inputs and the canonical content hash
//! are specified in `docs/ENDORSEMENTS.md`, with test vectors that the
//! tests in this module check.
//!
//! This module knows nothing of Automerge or SQLite: the directory layout
//! is in `doc/endorsements.rs`, the store calls and the directory's
//! decoded index in `store/endorsements.rs` and `store/directory_index.rs`.

pub(crate) mod encoding;
mod hash;
pub(crate) mod statements;
pub(crate) mod status;

pub use hash::content_hash;
pub use statements::{
    Certificate, CertificateRequest, Endorsement, MAX_STATEMENT_BYTES, Revocation,
};
pub use status::{
    EndorsementState, EndorsementStatus, Endorser, NotTrustedReason, ResourceEndorsements,
    TrustedOrganisations, evaluate,
};

use std::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::{Error, InvalidInput, Problem};

/// How far ahead of the evaluating device's clock an endorsement or a
/// revocation may be stamped and still count (clocks drift).
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// An Ed25519 public key of an organisation or a clinician.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// The key from 32 bytes. Wrong lengths and byte strings that are not
    /// an Ed25519 point are an [`Error::Invalid`] naming `public_key`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| {
            InvalidInput::new(
                "public_key",
                Problem::Format {
                    expected: "a 32-byte Ed25519 public key",
                },
            )
        })?;
        Self::from_array(array).ok_or_else(|| {
            InvalidInput::new(
                "public_key",
                Problem::Format {
                    expected: "an Ed25519 public key",
                },
            )
            .into()
        })
    }

    /// The key from 32 bytes, if they are an Ed25519 point.
    pub(crate) fn from_array(bytes: [u8; 32]) -> Option<Self> {
        VerifyingKey::from_bytes(&bytes).ok().map(|_| Self(bytes))
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `signature` is this key's (strict Ed25519) over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(&self.0[..6]))
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An Ed25519 key pair for signing certificates (an organisation's) or
/// endorsements (a clinician's). Lynchpin never stores it: the app or the
/// admin tool keeps the 32-byte secret (in the platform's key store) and
/// passes it to the calls that sign. The secret is zeroed when dropped and
/// never printed.
pub struct SigningKeyPair {
    signing: SigningKey,
}

impl SigningKeyPair {
    /// A fresh key pair from the system's random number generator.
    pub fn generate() -> Result<Self, Error> {
        let mut secret = Zeroizing::new([0u8; 32]);
        crate::crypto::fill_random(secret.as_mut())?;
        Ok(Self {
            signing: SigningKey::from_bytes(&secret),
        })
    }

    /// The key pair of a 32-byte secret (the Ed25519 seed). Any other
    /// length is an [`Error::Invalid`] naming `secret`.
    pub fn from_secret(secret: &[u8]) -> Result<Self, Error> {
        let array: Zeroizing<[u8; 32]> = Zeroizing::new(secret.try_into().map_err(|_| {
            InvalidInput::new(
                "secret",
                Problem::Format {
                    expected: "a 32-byte Ed25519 secret key",
                },
            )
        })?);
        Ok(Self {
            signing: SigningKey::from_bytes(&array),
        })
    }

    /// The 32-byte secret, for the platform's key store.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKeyPair({:?})", self.public_key())
    }
}

/// The canonical hash of a resource's content (see [`content_hash`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

/// The identity of an endorsement: SHA-256 of its encoded statement.
/// Revocations name an endorsement by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndorsementId(pub [u8; 32]);

macro_rules! hex_id {
    ($name:ident, $field:literal) => {
        impl $name {
            /// The 32 bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// From 32 bytes; any other length is an [`Error::Invalid`].
            pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
                bytes.try_into().map(Self).map_err(|_| {
                    InvalidInput::new(
                        $field,
                        Problem::Format {
                            expected: "32 bytes",
                        },
                    )
                    .into()
                })
            }

            /// From 64 hexadecimal digits.
            pub fn parse(hex_str: &str) -> Result<Self, Error> {
                let bytes = hex::decode(hex_str).map_err(|_| {
                    InvalidInput::new(
                        $field,
                        Problem::Format {
                            expected: "64 hexadecimal digits",
                        },
                    )
                })?;
                Self::from_slice(&bytes)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!(stringify!($name), "({})"),
                    hex::encode(&self.0[..6])
                )
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    };
}

hex_id!(ContentHash, "content_hash");
hex_id!(EndorsementId, "endorsement");

/// Why bytes are not a valid statement (certificate request, certificate,
/// endorsement or revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// The bytes are not a statement of this kind and a known version, or
    /// break a rule of its fields (lengths, control characters).
    #[error("not a well-formed statement")]
    Malformed,
    /// Longer than [`MAX_STATEMENT_BYTES`].
    #[error("the statement is longer than allowed")]
    TooLong,
    /// A signature does not verify against the key that should have made it.
    #[error("a signature of the statement is not valid")]
    BadSignature,
}

#[cfg(test)]
mod tests;
