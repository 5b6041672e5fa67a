//! Request signatures: the canonical form of a request, signing it (for
//! clients) and checking it (for the server).
//!
//! Every authenticated request carries four headers:
//!
//! | header | value |
//! | --- | --- |
//! | `Lynchpin-Device` | the device id: its Ed25519 public key, 64 hex characters |
//! | `Lynchpin-Timestamp` | unix milliseconds, decimal digits |
//! | `Lynchpin-Nonce` | 16 random bytes, 32 hex characters, never reused |
//! | `Lynchpin-Signature` | Ed25519 over [`canonical_request`], 128 hex characters |
//!
//! The server refuses a request whose timestamp is more than
//! [`MAX_CLOCK_SKEW_MS`] from its clock, and a (device, nonce) pair it has
//! seen within that window. The canonical form is defined in exactly one
//! place, [`canonical_request`]; clients in other languages must build the
//! same bytes. What happens when a check fails (status codes) lives in
//! `http`; whether a device is enrolled and whether a nonce is fresh is the
//! storage's business.

use axum::http::HeaderMap;
use lynchpin_core::{DeviceId, DeviceKey};

/// The header naming the device.
pub const HEADER_DEVICE: &str = "Lynchpin-Device";
/// The header with the request time in unix milliseconds.
pub const HEADER_TIMESTAMP: &str = "Lynchpin-Timestamp";
/// The header with the request's nonce.
pub const HEADER_NONCE: &str = "Lynchpin-Nonce";
/// The header with the request's signature.
pub const HEADER_SIGNATURE: &str = "Lynchpin-Signature";

/// How far a request's timestamp may be from the server's clock, either way
/// (5 minutes). Nonces are remembered for as long.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

pub use lynchpin_core::sync::auth::canonical_request;

/// Signs a request for a client: returns the four headers (name, value) to
/// send with it. `nonce` must be 16 fresh random bytes for every request.
pub fn sign_request(
    key: &DeviceKey,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp_ms: u64,
    nonce: &[u8; 16],
) -> [(&'static str, String); 4] {
    let timestamp = timestamp_ms.to_string();
    let nonce = hex::encode(nonce);
    let signature = key.sign(&canonical_request(method, path, &timestamp, &nonce, body));
    [
        (HEADER_DEVICE, key.device_id().to_string()),
        (HEADER_TIMESTAMP, timestamp),
        (HEADER_NONCE, nonce),
        (HEADER_SIGNATURE, hex::encode(signature)),
    ]
}

/// Why a request was not authenticated. Every variant becomes 401
/// `unauthorized`; the variant is for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is missing.
    #[error("the {0} header is missing")]
    Missing(&'static str),
    /// A header is not in its format.
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    /// The timestamp is too far from the server's clock.
    #[error("the request timestamp is too far from the server clock")]
    ClockSkew,
    /// The device is not enrolled.
    #[error("the device is not enrolled")]
    NotEnrolled,
    /// The signature does not verify.
    #[error("the request signature is not valid")]
    BadSignature,
    /// The nonce was used before.
    #[error("the request nonce was used before")]
    Replayed,
}

impl AuthError {
    /// The message sent to the client. An unknown device and a wrong
    /// signature read the same, so nobody learns which devices are enrolled.
    pub fn public_message(self) -> &'static str {
        match self {
            Self::Missing(_) | Self::Malformed(_) => {
                "the request must carry valid Lynchpin-Device, Lynchpin-Timestamp, Lynchpin-Nonce and Lynchpin-Signature headers"
            }
            Self::ClockSkew => "the request timestamp is more than 5 minutes from the server clock",
            Self::NotEnrolled | Self::BadSignature => {
                "the device is not enrolled or the signature is not valid"
            }
            Self::Replayed => "the request nonce was used before",
        }
    }
}

/// The authentication headers of a request, parsed but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The device the request claims to come from.
    pub device: DeviceId,
    /// The request time, unix milliseconds.
    pub timestamp_ms: u64,
    /// The nonce bytes.
    pub nonce: [u8; 16],
    /// The signature bytes.
    pub signature: [u8; 64],
    timestamp_text: String,
    nonce_text: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, AuthError> {
    headers
        .get(name)
        .ok_or(AuthError::Missing(name))?
        .to_str()
        .map_err(|_| AuthError::Malformed(name))
}

fn hex_array<const N: usize>(text: &str, name: &'static str) -> Result<[u8; N], AuthError> {
    if text.len() != 2 * N {
        return Err(AuthError::Malformed(name));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| AuthError::Malformed(name))?;
    Ok(out)
}

impl Claims {
    /// Parses the four headers; any missing or malformed one is an error.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, AuthError> {
        let device_text = header(headers, HEADER_DEVICE)?;
        let device = DeviceId::parse(device_text).ok_or(AuthError::Malformed(HEADER_DEVICE))?;
        let timestamp_text = header(headers, HEADER_TIMESTAMP)?;
        if timestamp_text.is_empty()
            || timestamp_text.len() > 20
            || !timestamp_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(AuthError::Malformed(HEADER_TIMESTAMP));
        }
        let timestamp_ms = timestamp_text
            .parse()
            .map_err(|_| AuthError::Malformed(HEADER_TIMESTAMP))?;
        let nonce_text = header(headers, HEADER_NONCE)?;
        let nonce = hex_array(nonce_text, HEADER_NONCE)?;
        let signature = hex_array(header(headers, HEADER_SIGNATURE)?, HEADER_SIGNATURE)?;
        Ok(Self {
            device,
            timestamp_ms,
            nonce,
            signature,
            timestamp_text: timestamp_text.to_owned(),
            nonce_text: nonce_text.to_owned(),
        })
    }

    /// Checks that the timestamp is within [`MAX_CLOCK_SKEW_MS`] of `now_ms`.
    pub fn check_time(&self, now_ms: u64) -> Result<(), AuthError> {
        if self.timestamp_ms.abs_diff(now_ms) > MAX_CLOCK_SKEW_MS {
            return Err(AuthError::ClockSkew);
        }
        Ok(())
    }

    /// Checks the signature over the canonical form of the request.
    pub fn verify(&self, method: &str, path: &str, body: &[u8]) -> Result<(), AuthError> {
        let message = canonical_request(method, path, &self.timestamp_text, &self.nonce_text, body);
        if self.device.verify(&message, &self.signature) {
            Ok(())
        } else {
            Err(AuthError::BadSignature)
        }
    }

    /// Until when the nonce must be remembered: after that, the timestamp
    /// alone refuses a replay.
    pub fn nonce_expiry_ms(&self) -> u64 {
        self.timestamp_ms.saturating_add(MAX_CLOCK_SKEW_MS)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    fn device(key: &SigningKey) -> DeviceId {
        DeviceId::from_slice(&key.verifying_key().to_bytes()).unwrap()
    }

    /// Headers signed with a raw Ed25519 key, as an independent client would.
    fn signed(key: &SigningKey, path: &str, body: &[u8], timestamp: u64, nonce: &str) -> HeaderMap {
        let ts = timestamp.to_string();
        let sig = key.sign(&canonical_request("POST", path, &ts, nonce, body));
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_DEVICE, device(key).to_string().parse().unwrap());
        headers.insert(HEADER_TIMESTAMP, ts.parse().unwrap());
        headers.insert(HEADER_NONCE, nonce.parse().unwrap());
        headers.insert(
            HEADER_SIGNATURE,
            hex::encode(sig.to_bytes()).parse().unwrap(),
        );
        headers
    }

    const NONCE: &str = "000102030405060708090a0b0c0d0e0f";

    #[test]
    fn canonical_string_is_exactly_the_documented_bytes() {
        let bytes = canonical_request("POST", "/v1/sync", "1700000000123", NONCE, b"abc");
        let expected = "lynchpin-request-v1\nPOST\n/v1/sync\n1700000000123\n\
             000102030405060708090a0b0c0d0e0f\n\
             ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let key = key(1);
        let body = b"frame bytes";
        let headers = signed(&key, "/v1/sync", body, 1_000_000, NONCE);
        let claims = Claims::from_headers(&headers).unwrap();
        assert_eq!(claims.device, device(&key));
        assert_eq!(claims.timestamp_ms, 1_000_000);
        assert_eq!(claims.nonce[15], 0x0f);
        assert_eq!(claims.verify("POST", "/v1/sync", body), Ok(()));
        assert_eq!(
            claims.verify("POST", "/v1/sync", b"frame bytez"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            claims.verify("POST", "/v1/enroll", body),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            claims.verify("PUT", "/v1/sync", body),
            Err(AuthError::BadSignature)
        );
        // Another device's id with this device's signature.
        let mut forged = headers.clone();
        forged.insert(
            HEADER_DEVICE,
            device(&self::key(2)).to_string().parse().unwrap(),
        );
        assert_eq!(
            Claims::from_headers(&forged)
                .unwrap()
                .verify("POST", "/v1/sync", body),
            Err(AuthError::BadSignature)
        );
        // A different timestamp or nonce than the one signed.
        let mut later = headers.clone();
        later.insert(HEADER_TIMESTAMP, "1000001".parse().unwrap());
        assert_eq!(
            Claims::from_headers(&later)
                .unwrap()
                .verify("POST", "/v1/sync", body),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn sign_request_matches_the_canonical_form() {
        let dir = tempfile::tempdir().unwrap();
        let store = lynchpin_core::Store::open(
            dir.path().join("device.db"),
            &lynchpin_core::StoreKey::new([3; 32]),
        )
        .unwrap();
        let nonce = [0xab; 16];
        let pairs = sign_request(store.device_key(), "POST", "/v1/sync", b"x", 42, &nonce);
        let mut headers = HeaderMap::new();
        for (name, value) in &pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        let claims = Claims::from_headers(&headers).unwrap();
        assert_eq!(claims.device, store.device_id());
        assert_eq!(claims.timestamp_ms, 42);
        assert_eq!(claims.nonce, nonce);
        assert_eq!(claims.verify("POST", "/v1/sync", b"x"), Ok(()));
        let message = canonical_request("POST", "/v1/sync", "42", &hex::encode(nonce), b"x");
        assert!(store.device_id().verify(&message, &claims.signature));
    }

    #[test]
    fn timestamps_more_than_five_minutes_off_are_refused() {
        let headers = signed(&key(1), "/v1/sync", b"", 10_000_000, NONCE);
        let claims = Claims::from_headers(&headers).unwrap();
        assert_eq!(claims.check_time(10_000_000), Ok(()));
        assert_eq!(claims.check_time(10_000_000 + MAX_CLOCK_SKEW_MS), Ok(()));
        assert_eq!(claims.check_time(10_000_000 - MAX_CLOCK_SKEW_MS), Ok(()));
        assert_eq!(
            claims.check_time(10_000_000 + MAX_CLOCK_SKEW_MS + 1),
            Err(AuthError::ClockSkew)
        );
        assert_eq!(
            claims.check_time(10_000_000 - MAX_CLOCK_SKEW_MS - 1),
            Err(AuthError::ClockSkew)
        );
        assert_eq!(claims.check_time(0), Err(AuthError::ClockSkew));
        // The nonce is kept until the timestamp itself refuses a replay.
        assert_eq!(claims.nonce_expiry_ms(), 10_000_000 + MAX_CLOCK_SKEW_MS);
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        let good = signed(&key(1), "/v1/sync", b"", 5, NONCE);
        for name in [
            HEADER_DEVICE,
            HEADER_TIMESTAMP,
            HEADER_NONCE,
            HEADER_SIGNATURE,
        ] {
            let mut headers = good.clone();
            headers.remove(name);
            assert_eq!(
                Claims::from_headers(&headers),
                Err(AuthError::Missing(name))
            );
        }
        for (name, bad) in [
            (HEADER_DEVICE, "abc"),
            (HEADER_DEVICE, &"zz".repeat(32)),
            (HEADER_TIMESTAMP, "-5"),
            (HEADER_TIMESTAMP, "+5"),
            (HEADER_TIMESTAMP, "5.0"),
            (HEADER_TIMESTAMP, ""),
            (HEADER_TIMESTAMP, "99999999999999999999999"),
            (HEADER_NONCE, "0001"),
            (HEADER_NONCE, &"g".repeat(32)),
            (HEADER_SIGNATURE, &"ab".repeat(63)),
        ] {
            let mut headers = good.clone();
            headers.insert(name, bad.parse().unwrap());
            assert_eq!(
                Claims::from_headers(&headers),
                Err(AuthError::Malformed(name)),
                "{name}: {bad}"
            );
        }
    }

    #[test]
    fn unknown_devices_and_bad_signatures_read_the_same_to_the_client() {
        assert_eq!(
            AuthError::NotEnrolled.public_message(),
            AuthError::BadSignature.public_message()
        );
    }
}
