//! Invite codes and the enrolment proof.
//!
//! An invite code is 120 random bits in RFC 4648 base32 (24 characters,
//! `A`–`Z` and `2`–`7`), printed in six groups of four:
//! `ABCD-EFGH-IJKL-MNOP-QRST-UVWX`. People type them, so they are accepted
//! in any case and with or without dashes and spaces. The server stores only
//! the SHA-256 of the normalised code ([`code_hash`]).
//!
//! To enrol, a device signs [`enroll_message`] with its key, proving that it
//! holds the key it is enrolling. Storing invites and consuming them lives in
//! `storage`; the HTTP route lives in `http`.

use sha2::{Digest, Sha256};

/// The random bits in a code.
pub const CODE_BITS: usize = 120;
/// The characters of a normalised code.
pub const CODE_CHARS: usize = CODE_BITS / 5;
/// Characters per printed group.
const GROUP: usize = 4;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The first line of the bytes a device signs to enrol.
const ENROLL_SCHEME: &str = "lynchpin-enroll-v1";

/// How long an invite is valid unless the admin says otherwise.
pub const DEFAULT_VALID_HOURS: u32 = 72;

/// The system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random number generator is unavailable")]
pub struct RandomnessUnavailable;

/// A fresh invite code, grouped for printing.
pub fn generate_code() -> Result<String, RandomnessUnavailable> {
    let mut bytes = [0u8; CODE_BITS / 8];
    getrandom::fill(&mut bytes).map_err(|_| RandomnessUnavailable)?;
    Ok(group(&base32(&bytes)))
}

/// RFC 4648 base32 without padding (the input is a multiple of 5 bytes here,
/// so there is none to leave out).
fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

/// The base32 symbol for the low five bits of `value`.
fn symbol(value: u16) -> char {
    char::from(
        ALPHABET
            .get(usize::from(value & 0x1f))
            .copied()
            .unwrap_or(b'A'),
    )
}

fn group(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / GROUP);
    for (i, c) in code.chars().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// The normalised form of a code as typed: capitals, no dashes or spaces.
/// `None` if it cannot be a code.
pub fn normalise(code: &str) -> Option<String> {
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (normal.len() == CODE_CHARS && normal.bytes().all(|b| ALPHABET.contains(&b))).then_some(normal)
}

/// What the server stores for a code: the SHA-256 of its normalised form.
/// `None` if `code` cannot be a code.
pub fn code_hash(code: &str) -> Option<[u8; 32]> {
    normalise(code).map(|normal| Sha256::digest(normal.as_bytes()).into())
}

/// The bytes a device signs to enrol: `"lynchpin-enroll-v1\n" + invite +
/// "\n" + device_hex`, with the invite and the device id exactly as sent in
/// the enrolment request.
pub fn enroll_message(invite: &str, device_hex: &str) -> Vec<u8> {
    [ENROLL_SCHEME, "\n", invite, "\n", device_hex]
        .concat()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_groups_of_four_base32_characters() {
        let code = generate_code().unwrap();
        assert_eq!(code.len(), 29, "{code}");
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 6);
        for g in groups {
            assert_eq!(g.len(), 4);
            assert!(g.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
        }
        assert_ne!(generate_code().unwrap(), code);
    }

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foo"), "MZXW6");
        assert_eq!(base32(b"foob"), "MZXW6YQ");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(&[0xff; 15]), "7".repeat(24));
    }

    #[test]
    fn codes_are_accepted_in_any_case_with_or_without_dashes() {
        let code = "ABCD-EFGH-IJKL-MNOP-QRST-UV23";
        let hash = code_hash(code).unwrap();
        for typed in [
            "abcd-efgh-ijkl-mnop-qrst-uv23",
            "ABCDEFGHIJKLMNOPQRSTUV23",
            "abcdEFGHijklMNOPqrstUV23",
            " ABCD EFGH IJKL MNOP QRST UV23 ",
        ] {
            assert_eq!(code_hash(typed), Some(hash), "{typed}");
        }
        assert_eq!(
            hash,
            <[u8; 32]>::from(Sha256::digest(b"ABCDEFGHIJKLMNOPQRSTUV23"))
        );
        assert_ne!(code_hash("ABCD-EFGH-IJKL-MNOP-QRST-UV24"), Some(hash));
    }

    #[test]
    fn things_that_are_not_codes_are_refused() {
        for bad in [
            "",
            "ABCD-EFGH",
            "ABCD-EFGH-IJKL-MNOP-QRST-UV231",
            "ABCD-EFGH-IJKL-MNOP-QRST-UV21", // 1 is not in the alphabet
            "ABCD-EFGH-IJKL-MNOP-QRST-UV2Ä",
            "ABCD_EFGH_IJKL_MNOP_QRST_UV23",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_enrolment_message_is_the_documented_bytes() {
        assert_eq!(
            enroll_message("abcd-EFGH", "00ff"),
            b"lynchpin-enroll-v1\nabcd-EFGH\n00ff".to_vec()
        );
        // The device library builds the same bytes independently.
        let device = lynchpin_core::DeviceId::from_slice(&[0xab; 32]).unwrap();
        assert_eq!(
            enroll_message("ABCD-EFGH-IJKL-MNOP-QRST-UV23", &device.to_string()),
            lynchpin_core::sync::auth::canonical_enrolment(
                "ABCD-EFGH-IJKL-MNOP-QRST-UV23",
                &device
            )
        );
    }
}
