//! Encryption at rest and device identity.
//!
//! Every blob the store writes goes through `Sealer`: XChaCha20-Poly1305
//! under the app's 32-byte [`StoreKey`], with a random 24-byte nonce stored in
//! front of the ciphertext and associated data that binds the blob to the row
//! it lives in, so that blobs cannot be swapped between rows unnoticed.
//!
//! Each device has an Ed25519 [`DeviceKey`]. Its public half is the
//! [`DeviceId`], which is also the device's Automerge actor id, so every
//! change names the device that made it.
//!
//! Nothing here touches SQLite; the store decides what to seal.

use std::fmt;

use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a [`StoreKey`] in bytes.
pub const STORE_KEY_LEN: usize = 32;
/// Bytes a sealed blob adds to its plaintext: the nonce and the tag.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The app's 32-byte key for a store, typically held in the Android Keystore
/// or the iOS Keychain. Zeroed when dropped; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StoreKey([u8; STORE_KEY_LEN]);

impl StoreKey {
    /// Wraps 32 key bytes.
    pub fn new(bytes: [u8; STORE_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Wraps a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, InvalidKeyLength> {
        let array: [u8; STORE_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| InvalidKeyLength { len: bytes.len() })?;
        Ok(Self(array))
    }

    /// A fresh random key, for apps that create a key on first launch.
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut bytes = [0u8; STORE_KEY_LEN];
        fill_random(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The raw key bytes, for handing to the platform's key store.
    pub fn as_bytes(&self) -> &[u8; STORE_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// A store key must be exactly 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a store key must be 32 bytes, got {len}")]
pub struct InvalidKeyLength {
    /// The length that was given.
    pub len: usize,
}

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random number generator is unavailable")]
pub struct RandomnessUnavailable;

pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), RandomnessUnavailable> {
    getrandom::fill(buf).map_err(|_| RandomnessUnavailable)
}

/// A sealed blob failed to open: wrong key, or bytes that were altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sealed data could not be opened")]
pub struct Unsealable;

/// Seals and opens blobs with XChaCha20-Poly1305.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub(crate) fn new(key: &StoreKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.as_bytes().into()),
        }
    }

    /// Encrypts `plaintext`, binding it to `aad`. Output: nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(
        &self,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, RandomnessUnavailable> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // Encryption only fails for messages longer than the cipher allows
            // (256 GiB), far beyond anything the store accepts.
            .map_err(|_| RandomnessUnavailable)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Opens a blob made by [`Sealer::seal`] with the same `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unsealable> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| Unsealable)?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| Unsealable)
    }
}

/// A device's public identity: its Ed25519 public key. It is also the
/// device's Automerge actor id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId([u8; 32]);

impl DeviceId {
    /// The 32 public-key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Builds a device id from 32 bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// Parses the 64-character lowercase hex form.
    pub fn parse(hex_str: &str) -> Option<Self> {
        if hex_str.len() != 64 {
            return None;
        }
        let bytes = hex::decode(hex_str).ok()?;
        Self::from_slice(&bytes)
    }

    /// The Automerge actor id this device writes with.
    pub fn actor(&self) -> automerge::ActorId {
        automerge::ActorId::from(&self.0[..])
    }

    /// The device that wrote with `actor`, if the actor is a device key.
    pub fn from_actor(actor: &automerge::ActorId) -> Option<Self> {
        Self::from_slice(actor.to_bytes())
    }

    /// Verifies an Ed25519 signature made by this device.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", &hex::encode(&self.0[..6]))
    }
}

impl serde::Serialize for DeviceId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hex_str = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&hex_str).ok_or_else(|| serde::de::Error::custom("not a device id"))
    }
}

/// A device's private Ed25519 key. Generated on the store's first open,
/// stored sealed, zeroed when dropped.
pub struct DeviceKey {
    signing: SigningKey,
}

impl DeviceKey {
    pub(crate) fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut secret = [0u8; 32];
        fill_random(&mut secret)?;
        let key = Self::from_secret(&secret);
        secret.zeroize();
        Ok(key)
    }

    pub(crate) fn from_secret(secret: &[u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(secret),
        }
    }

    pub(crate) fn secret_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.signing.to_bytes())
    }

    /// The public identity of this key.
    pub fn device_id(&self) -> DeviceId {
        DeviceId(self.signing.verifying_key().to_bytes())
    }

    /// Signs `message` with the device key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey({:?})", self.device_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&StoreKey::new([byte; 32]))
    }

    #[test]
    fn sealed_blob_opens_with_same_key_and_aad() {
        let blob = sealer(1).seal(b"row", b"my safety plan").unwrap();
        assert_eq!(blob.len(), b"my safety plan".len() + SEAL_OVERHEAD);
        assert_eq!(sealer(1).open(b"row", &blob).unwrap(), b"my safety plan");
    }

    #[test]
    fn wrong_key_wrong_aad_or_tampering_fail_to_open() {
        let blob = sealer(1).seal(b"row", b"secret").unwrap();
        assert_eq!(sealer(2).open(b"row", &blob), Err(Unsealable));
        assert_eq!(sealer(1).open(b"other row", &blob), Err(Unsealable));
        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(sealer(1).open(b"row", &tampered), Err(Unsealable));
        assert_eq!(sealer(1).open(b"row", &blob[..10]), Err(Unsealable));
    }

    #[test]
    fn nonces_differ_between_seals() {
        let a = sealer(1).seal(b"", b"same").unwrap();
        let b = sealer(1).seal(b"", b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn device_key_round_trips_and_signs() {
        let key = DeviceKey::generate().unwrap();
        let again = DeviceKey::from_secret(&key.secret_bytes());
        assert_eq!(key.device_id(), again.device_id());
        let id = key.device_id();
        let signature = key.sign(b"change hash");
        assert!(id.verify(b"change hash", &signature));
        assert!(!id.verify(b"other hash", &signature));
        assert_eq!(DeviceId::parse(&id.to_string()), Some(id));
        assert_eq!(DeviceId::from_actor(&id.actor()), Some(id));
    }

    #[test]
    fn store_key_rejects_wrong_length_and_hides_bytes() {
        assert_eq!(
            StoreKey::from_slice(&[0; 31]).unwrap_err(),
            InvalidKeyLength { len: 31 }
        );
        assert_eq!(format!("{:?}", StoreKey::new([7; 32])), "StoreKey(..)");
    }
}
