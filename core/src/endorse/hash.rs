//! The canonical content hash of a resource: what an endorsement is about.
//!
//! docs/ENDORSEMENTS.md ("Canonical content hash") is the specification;
//! the order of the writes below is the order of its table.

use sha2::{Digest, Sha256};

use super::{ContentHash, encoding::Writer};
use crate::ResourceDetails;

/// The domain prefix of the content hash.
pub(crate) const CONTENT_CONTEXT: &[u8] = b"lynchpin/resource-content/v1";

/// The canonical hash of what a resource offers and how to reach it:
/// SHA-256 over `"lynchpin/resource-content/v1"` and every field of
/// `details` except the directory's own bookkeeping (`last_checked`,
/// `checked_by`, `review_due`), in a fixed order, strings exactly as
/// stored (no normalisation). Any change a young person could notice —
/// a phone number, the opening hours, the age range — changes the hash.
pub fn content_hash(details: &ResourceDetails) -> ContentHash {
    ContentHash(Sha256::digest(content_bytes(details)).into())
}

/// The bytes that [`content_hash`] hashes.
pub(crate) fn content_bytes(d: &ResourceDetails) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(512));
    w.bytes(CONTENT_CONTEXT);
    w.str(&d.name);
    w.str(&d.description);
    w.str(d.kind.code());
    w.str(&d.organisation);
    w.str(d.status.code());
    let thrive: Vec<String> = d.thrive.iter().map(|t| t.code().to_owned()).collect();
    w.strs(&thrive);
    w.str(d.audience.code());
    w.opt_u8(d.min_age);
    w.opt_u8(d.max_age);
    w.strs(&d.regions);
    w.str(d.cost.code());
    w.strs(&d.languages);
    w.strs(&d.contact.phones);
    w.strs(&d.contact.text_numbers);
    w.opt_str(d.contact.email.as_deref());
    w.opt_str(d.contact.url.as_deref());
    w.str(&d.opening_hours);
    w.bool(d.always_open);
    w.bool(d.works_offline);
    w.opt_u8(d.assessment.orcha_score);
    w.opt_date(d.assessment.orcha_date);
    w.opt_str(d.assessment.nice_tier.as_deref());
    w.bool(d.assessment.nhs_recommended);
    w.0
}
