//! What devices sign when they talk to a relay server: the canonical bytes
//! of an HTTP request and of an enrolment. The server and every client
//! compute them with these functions; docs/PROTOCOL.md describes them.

use sha2::{Digest, Sha256};

use crate::DeviceId;

/// Header naming the requesting device (its id in hex).
pub const HEADER_DEVICE: &str = "lynchpin-device";
/// Header with the request time, unix milliseconds.
pub const HEADER_TIMESTAMP: &str = "lynchpin-timestamp";
/// Header with 16 random bytes in hex, never reused within the skew window.
pub const HEADER_NONCE: &str = "lynchpin-nonce";
/// Header with the device's Ed25519 signature over [`canonical_request`], in hex.
pub const HEADER_SIGNATURE: &str = "lynchpin-signature";
/// How far a request's timestamp may be from the server's clock.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// The bytes a device signs for an HTTP request:
///
/// ```text
/// lynchpin-request-v1\n
/// METHOD\n              the HTTP method in capitals, e.g. POST
/// PATH\n                the request path as sent, without the query, e.g. /v1/sync
/// TIMESTAMP\n           the Lynchpin-Timestamp header, as sent
/// NONCE\n               the Lynchpin-Nonce header, as sent
/// SHA256(BODY)          lowercase hex of the SHA-256 of the body bytes
/// ```
///
/// There is no newline after the body hash. The timestamp and nonce are
/// signed exactly as they appear in the headers, so the server never has to
/// re-format them. This is the one definition: the server uses it, and
/// clients in other languages must build the same bytes.
pub fn canonical_request(
    method: &str,
    path: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    format!(
        "lynchpin-request-v1\n{method}\n{path}\n{timestamp}\n{nonce}\n{}",
        hex::encode(Sha256::digest(body))
    )
    .into_bytes()
}

/// The bytes a device signs to enrol with an invite:
/// `"lynchpin-enroll-v1\n" INVITE "\n" DEVICE_HEX`.
pub fn canonical_enrolment(invite: &str, device: &DeviceId) -> Vec<u8> {
    format!("lynchpin-enroll-v1\n{invite}\n{device}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_request_is_stable() {
        let bytes = canonical_request("POST", "/v1/sync", "1700000000000", "00ff", b"");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "lynchpin-request-v1\nPOST\n/v1/sync\n1700000000000\n00ff\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
