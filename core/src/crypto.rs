//! Encryption at rest and device identity.
//!
//! Every blob the store writes goes through `Sealer`: XChaCha20-Poly1305
//! under the app's 32-byte [`StoreKey`], with a random 24-byte nonce stored in
//! front of the ciphertext and associated data that binds the blob to the row
//! it lives in, so that blobs cannot be swapped between rows unnoticed.
//!
//! XChaCha20-Poly1305 is built as draft-irtf-cfrg-xchacha-03 §2.3 defines
//! it: HChaCha20 of the key and the nonce's first 16 bytes gives a subkey,
//! and the IETF ChaCha20-Poly1305 of RFC 8439 seals under that subkey with
//! the nonce `[0; 4] ‖ nonce[16..24]`. HChaCha20 comes from the `chacha20`
//! crate and ChaCha20-Poly1305 from `ring`, whose assembly for x86-64 and
//! AArch64 opens a small blob about four times as fast as the portable
//! implementations (BENCHMARKS.md (e)): the store opens hundreds of small
//! sealed blobs to answer a query. The bytes are the standard
//! construction's; the tests check them against the draft's test vector
//! and against the `chacha20poly1305` crate.
//!
//! Each device has an Ed25519 [`DeviceKey`]. Its public half is the
//! [`DeviceId`], which is also the device's Automerge actor id, so every
//! change names the device that made it.
//!
//! Nothing here touches SQLite; the store decides what to seal.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, Tag, UnboundKey};
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

/// The nonce a blob made by [`Sealer::seal`] was sealed under: unique to
/// that blob, so it names it.
pub(crate) fn sealed_nonce(sealed: &[u8]) -> Option<[u8; NONCE_LEN]> {
    sealed.first_chunk().copied()
}

/// Seals and opens blobs with XChaCha20-Poly1305 (see the module docs).
pub(crate) struct Sealer {
    key: StoreKey,
}

impl Sealer {
    pub(crate) fn new(key: &StoreKey) -> Self {
        Self { key: key.clone() }
    }

    /// Encrypts `plaintext`, binding it to `aad`. Output: nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(
        &self,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, RandomnessUnavailable> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        self.seal_with(&nonce, aad, plaintext)
    }

    /// [`Sealer::seal`] with a nonce of the caller's: never one used
    /// before with this key.
    fn seal_with(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, RandomnessUnavailable> {
        let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
        out.extend_from_slice(nonce);
        out.extend_from_slice(plaintext);
        // Sealing fails only for messages longer than the cipher allows
        // (256 GiB), far beyond anything the store accepts.
        let (key, inner) = self.subkey(nonce).ok_or(RandomnessUnavailable)?;
        let body = out.get_mut(NONCE_LEN..).ok_or(RandomnessUnavailable)?;
        let tag = key
            .seal_in_place_separate_tag(inner, Aad::from(aad), body)
            .map_err(|_| RandomnessUnavailable)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a blob made by [`Sealer::seal`] with the same `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unsealable> {
        let (Some(nonce), Some(rest)) =
            (sealed.first_chunk::<NONCE_LEN>(), sealed.get(NONCE_LEN..))
        else {
            return Err(Unsealable);
        };
        let Some((ciphertext, tag)) = rest.split_last_chunk::<TAG_LEN>() else {
            return Err(Unsealable);
        };
        let mut plain = ciphertext.to_vec();
        let (key, inner) = self.subkey(nonce).ok_or(Unsealable)?;
        key.open_in_place_separate_tag(inner, Aad::from(aad), Tag::from(*tag), &mut plain, 0..)
            .map_err(|_| Unsealable)?;
        Ok(plain)
    }

    /// The ChaCha20-Poly1305 key and nonce that seal under `nonce`
    /// (draft-irtf-cfrg-xchacha-03 §2.3); `None` only if the subkey were
    /// not 32 bytes, which its type rules out.
    fn subkey(&self, nonce: &[u8; NONCE_LEN]) -> Option<(LessSafeKey, Nonce)> {
        let (first, last) = nonce.split_first_chunk::<16>()?;
        let mut subkey: [u8; 32] =
            chacha20::hchacha::<chacha20::R20>(self.key.as_bytes().into(), &(*first).into()).into();
        let key = UnboundKey::new(&CHACHA20_POLY1305, &subkey).map(LessSafeKey::new);
        subkey.zeroize();
        let mut inner = [0u8; 12];
        inner.get_mut(4..)?.copy_from_slice(last);
        Some((key.ok()?, Nonce::assume_unique_for_key(inner)))
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

impl DeviceId {
    /// Spells the key out in lower-case hex, in `buf` (32 bytes fill
    /// exactly 64 hex digits: this does not fail).
    fn hex<'a>(&self, buf: &'a mut [u8; 64]) -> Result<&'a str, fmt::Error> {
        hex::encode_to_slice(self.0, buf).map_err(|_| fmt::Error)?;
        std::str::from_utf8(buf).map_err(|_| fmt::Error)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex(&mut [0; 64])?)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", &hex::encode(&self.0[..6]))
    }
}

impl serde::Serialize for DeviceId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Every item of a safety-plan view names its author: written
        // without `fmt` or an allocation.
        serializer.serialize_str(self.hex(&mut [0; 64]).map_err(serde::ser::Error::custom)?)
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

    /// draft-irtf-cfrg-xchacha-03, appendix A.3.1.
    #[test]
    fn seals_as_the_xchacha_draft_test_vector() {
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 0x40 + i as u8);
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you \
            only one tip for the future, sunscreen would be it.";
        let expected = hex::decode(concat!(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb",
            "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452",
            "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9",
            "21f9664c97637da9768812f615c68b13b52e",
            "c0875924c1c7987947deafd8780acf49",
        ))
        .unwrap();
        let sealer = Sealer::new(&StoreKey::new(key));
        let sealed = sealer.seal_with(&nonce, &aad, plaintext).unwrap();
        assert_eq!(sealed[..24], nonce);
        assert_eq!(sealed[24..], expected);
        assert_eq!(sealer.open(&aad, &sealed).unwrap(), plaintext);
    }

    /// Blobs sealed by the `chacha20poly1305` crate's XChaCha20-Poly1305
    /// open here, and the other way round, at every length around the
    /// cipher's block sizes.
    #[test]
    fn agrees_with_the_chacha20poly1305_crate() {
        use chacha20poly1305::{
            KeyInit, XChaCha20Poly1305, XNonce,
            aead::{Aead, Payload},
        };
        let key = [7u8; 32];
        let theirs = XChaCha20Poly1305::new(&key.into());
        let ours = Sealer::new(&StoreKey::new(key));
        for len in (0..300).chain([1023, 1024, 1025, 4096, 65_537]) {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let aad = format!("row {len}");
            let nonce: [u8; 24] = std::array::from_fn(|i| (i * 7 + len) as u8);
            let mut sealed = nonce.to_vec();
            sealed.extend(
                theirs
                    .encrypt(
                        &XNonce::from(nonce),
                        Payload {
                            msg: &plaintext,
                            aad: aad.as_bytes(),
                        },
                    )
                    .unwrap(),
            );
            assert_eq!(
                ours.seal_with(&nonce, aad.as_bytes(), &plaintext).unwrap(),
                sealed
            );
            assert_eq!(ours.open(aad.as_bytes(), &sealed).unwrap(), plaintext);
            let mine = ours.seal(aad.as_bytes(), &plaintext).unwrap();
            let opened = theirs
                .decrypt(
                    &XNonce::try_from(&mine[..24]).unwrap(),
                    Payload {
                        msg: &mine[24..],
                        aad: aad.as_bytes(),
                    },
                )
                .unwrap();
            assert_eq!(opened, plaintext);
        }
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
