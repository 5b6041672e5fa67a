#!/usr/bin/env python3
"""An independent check of docs/ENDORSEMENTS.md: rebuilds the test vectors
from the page's prose and tables alone (not from the Rust code) and compares
them with the hex blocks on the page.

    python3 scripts/endorsement_vectors.py    # needs the `cryptography` package

Prints one line per vector and exits non-zero on any mismatch.
"""

import datetime as dt
import hashlib
import pathlib
import re
import struct
import sys
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SPEC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "ENDORSEMENTS.md"


def u8(v): return struct.pack(">B", v)
def u32(v): return struct.pack(">I", v)
def i64(v): return struct.pack(">q", v)
def boolean(v): return b"\x01" if v else b"\x00"
def s(v): b = v.encode("utf-8"); return u32(len(b)) + b
def strs(vs): return u32(len(vs)) + b"".join(s(v) for v in vs)
def opt(v, enc): return b"\x00" if v is None else b"\x01" + enc(v)
def date(y, m, d): return struct.pack(">iBB", y, m, d)
def time(y, mo, d, h): return i64(int(dt.datetime(y, mo, d, h, tzinfo=dt.timezone.utc).timestamp()) * 1000)


def key(seed_start):
    k = Ed25519PrivateKey.from_private_bytes(bytes(range(seed_start, seed_start + 32)))
    return k, k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def content_bytes():
    return (b"lynchpin/resource-content/v1"
            + s("Harbour Text Line (fictional)")
            + s("Text support for 11\u201318 year olds, every evening.")
            + s("text-line") + s("Example Wellbeing Trust") + s("active")
            + strs(["getting-advice", "getting-risk-support"])
            + s("young-person") + opt(11, u8) + opt(18, u8)
            + strs(["North Example"]) + s("free") + strs(["English", "Welsh"])
            + strs([]) + strs(["07700 900123"])
            + opt("hello@example.org", s) + opt("https://example.org/harbour", s)
            + s("Every day 18:00\u201323:00") + boolean(False) + boolean(False)
            + opt(None, u8) + opt(None, date) + opt(None, s) + boolean(False))


def signed(private, context, body):
    return body + private.sign(context + body)


def main():
    spec = SPEC.read_text(encoding="utf-8")
    blocks = {m.group(1): "".join(m.group(2).split())
              for m in re.finditer(r"<!-- vector: ([a-z-]+) -->\n```text\n(.*?)```", spec, re.S)}
    org, org_pub = key(0x00)
    clin, clin_pub = key(0x20)
    content = content_bytes()
    content_hash = hashlib.sha256(content).digest()
    cert = signed(org, b"lynchpin/certificate/v1",
                  b"LYNC\x01" + org_pub + clin_pub + s("Dr Ada Example") + s("Clinical psychologist")
                  + s("PYL00000") + s("Example NHS Foundation Trust (fictional)")
                  + time(2026, 1, 1, 0) + time(2027, 12, 31, 23))
    endorsement = signed(clin, b"lynchpin/endorsement/v1",
                         b"LYNE\x01" + uuid.UUID("00112233-4455-4677-8899-aabbccddeeff").bytes
                         + uuid.UUID("0a0b0c0d-0e0f-4011-8213-141516171819").bytes + content_hash
                         + s("Evidence-based text support; volunteers trained in safety planning.")
                         + u8(0b10010) + time(2026, 11, 26, 9) + date(2027, 5, 26)
                         + u32(len(cert)) + cert)
    endorsement_id = hashlib.sha256(endorsement).digest()
    revocation = signed(org, b"lynchpin/revocation/v1",
                        b"LYNR\x01" + uuid.UUID("00112233-4455-4677-8899-aabbccddeeff").bytes
                        + endorsement_id + org_pub + time(2026, 12, 1, 12))
    mine = {
        "content-bytes": content, "content-hash": content_hash,
        "organisation-public-key": org_pub, "clinician-public-key": clin_pub,
        "certificate": cert, "certificate-signature": cert[-64:],
        "endorsement": endorsement, "endorsement-signature": endorsement[-64:],
        "endorsement-id": endorsement_id,
        "revocation": revocation, "revocation-signature": revocation[-64:],
    }
    failed = False
    for name, value in mine.items():
        ok = blocks.get(name) == value.hex()
        failed |= not ok
        print(("ok       " if ok else "MISMATCH ") + name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
