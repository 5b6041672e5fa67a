use automerge::{ROOT, ReadDoc, transaction::Transactable};

use super::*;
use crate::doc;

/// The receiver's clock in these tests, in milliseconds.
const NOW: i64 = 10_000_000;

fn key() -> DeviceKey {
    DeviceKey::generate().unwrap()
}

/// A document created by `owner`, with its genesis; returns its id.
fn created(owner: &DeviceKey) -> (DocumentId, Automerge, ChangeSignature) {
    let genesis = Grant::genesis(owner, [9; 16], 1_000);
    let id = genesis.document;
    let mut am = doc::empty(owner.device_id());
    am.transact(|tx| {
        doc::init_header(tx, id, crate::DocumentKind::Journal)?;
        doc::access::add(tx, &genesis)
    })
    .unwrap();
    let hash = am.get_last_local_change().unwrap().hash();
    (id, am, ChangeSignature::sign(owner, &id, hash))
}

/// One change by `author` on a fork of `base`; returns the fork and the
/// author's signature over it.
fn edit_by(base: &Automerge, author: &DeviceKey, id: &DocumentId) -> (Automerge, ChangeSignature) {
    let mut fork = base.fork().with_actor(author.device_id().actor());
    let n = base.get_changes(&[]).len() as i64;
    fork.transact(|tx| tx.put(ROOT, "note", n)).unwrap();
    let hash = fork.get_last_local_change().unwrap().hash();
    (fork, ChangeSignature::sign(author, id, hash))
}

fn grant_into(am: &mut Automerge, grant: &Grant) {
    am.transact(|tx| doc::access::add(tx, grant)).unwrap();
}

#[test]
fn grants_round_trip_and_a_flipped_bit_breaks_the_signature() {
    let admin = key();
    let subject = key().device_id();
    let grant = Grant::issue(
        &admin,
        DocumentId::random(),
        subject,
        Some(Role::Writer),
        42,
    );
    let bytes = grant.encode();
    assert_eq!(Grant::decode(&bytes).unwrap(), grant);
    for i in [5, 30, 60, bytes.len() - 1] {
        let mut forged = bytes.clone();
        forged[i] ^= 1;
        assert!(Grant::decode(&forged).is_err(), "byte {i}");
    }
    assert_eq!(Grant::decode(&bytes[..10]), Err(GrantError::Malformed));
}

#[test]
fn document_ids_are_bound_to_their_creator() {
    let creator = key();
    let genesis = Grant::genesis(&creator, [1; 16], 5);
    assert_eq!(
        genesis.document,
        DocumentId::derive(&creator.device_id(), &[1; 16])
    );
    assert_eq!(genesis.document.as_bytes()[6] >> 4, 8, "UUID version 8");
    let list = AccessList::replay(&genesis.document, [&genesis]);
    assert_eq!(list.role(&creator.device_id()), Some(Role::Owner));

    // Someone else cannot claim to be the creator of that id.
    let thief = key();
    let mut claim = Grant::genesis(&thief, [1; 16], 1);
    claim.document = genesis.document;
    let claim = Grant::sign(
        &thief,
        claim.document,
        thief.device_id(),
        Some(Role::Owner),
        1,
        Some([1; 16]),
    );
    let list = AccessList::replay(&genesis.document, [&claim]);
    assert!(list.entries().is_empty());
}

#[test]
fn only_admins_grant_and_owners_keep_their_access() {
    let owner = key();
    let (admin, writer, reader) = (key(), key(), key());
    let genesis = Grant::genesis(&owner, [2; 16], 10);
    let id = genesis.document;
    let statements = [
        genesis.clone(),
        Grant::issue(&owner, id, admin.device_id(), Some(Role::Admin), 20),
        Grant::issue(&admin, id, writer.device_id(), Some(Role::Writer), 30),
        // A writer cannot grant.
        Grant::issue(&writer, id, reader.device_id(), Some(Role::Admin), 40),
        // An admin cannot revoke the owner, nor make an owner.
        Grant::issue(&admin, id, owner.device_id(), None, 50),
        Grant::issue(&admin, id, admin.device_id(), Some(Role::Owner), 60),
        Grant::issue(&admin, id, reader.device_id(), Some(Role::Reader), 70),
    ];
    let list = AccessList::replay(&id, &statements);
    assert_eq!(list.role(&owner.device_id()), Some(Role::Owner));
    assert_eq!(list.role(&admin.device_id()), Some(Role::Admin));
    assert_eq!(list.role(&writer.device_id()), Some(Role::Writer));
    assert_eq!(list.role(&reader.device_id()), Some(Role::Reader));
    assert!(!list.may_write(&reader.device_id()));

    // The order of the set does not matter.
    let mut reversed = statements.to_vec();
    reversed.reverse();
    assert_eq!(AccessList::replay(&id, &reversed), list);

    // A revocation takes the writer out, and it stays known as a past writer.
    let revoked = Grant::issue(&owner, id, writer.device_id(), None, 80);
    let list = AccessList::replay(&id, statements.iter().chain([&revoked]));
    assert_eq!(list.role(&writer.device_id()), None);
    assert!(list.has_written(&writer.device_id()));
    assert!(!list.has_written(&reader.device_id()));
    assert_eq!(list.next_issue_ms(0), 81);
}

#[test]
fn verify_accepts_signed_changes_of_writers_only() {
    let owner = key();
    let (id, base, genesis_sig) = created(&owner);
    let statements = BTreeSet::new();
    let keep = verify_changes(
        &id,
        &base,
        &[],
        &statements,
        &[genesis_sig],
        WriteRule::Current,
        NOW,
    )
    .unwrap();
    assert_eq!(keep.len(), 1);
    assert_eq!(keep[0].author, owner.device_id());

    // Without the signature, or with someone else's, the changes are refused.
    assert_eq!(
        verify_changes(&id, &base, &[], &statements, &[], WriteRule::Current, NOW),
        Err(Refusal::Unsigned)
    );
    let other = key();
    let forged = ChangeSignature::sign(&other, &id, genesis_sig.hash);
    assert_eq!(
        verify_changes(
            &id,
            &base,
            &[],
            &statements,
            &[forged],
            WriteRule::Current,
            NOW
        ),
        Err(Refusal::Unsigned)
    );

    // A device with no grant writes: refused even though it signed.
    let stranger = key();
    let (changed, sig) = edit_by(&base, &stranger, &id);
    assert_eq!(
        verify_changes(
            &id,
            &changed,
            &base.get_heads(),
            &statements,
            &[sig],
            WriteRule::Ever,
            NOW,
        ),
        Err(Refusal::NotAllowed)
    );

    // A reader too; a writer may.
    let mut granted = base.fork().with_actor(owner.device_id().actor());
    grant_into(
        &mut granted,
        &Grant::issue(&owner, id, stranger.device_id(), Some(Role::Reader), 2_000),
    );
    let (changed, sig) = edit_by(&granted, &stranger, &id);
    assert_eq!(
        verify_changes(
            &id,
            &changed,
            &granted.get_heads(),
            &statements,
            &[sig],
            WriteRule::Ever,
            NOW,
        ),
        Err(Refusal::NotAllowed)
    );
    grant_into(
        &mut granted,
        &Grant::issue(&owner, id, stranger.device_id(), Some(Role::Writer), 3_000),
    );
    let (changed, sig) = edit_by(&granted, &stranger, &id);
    assert!(
        verify_changes(
            &id,
            &changed,
            &granted.get_heads(),
            &statements,
            &[sig],
            WriteRule::Current,
            NOW,
        )
        .is_ok()
    );

    // After a revocation the server refuses, devices still accept.
    let mut revoked = changed.fork().with_actor(owner.device_id().actor());
    grant_into(
        &mut revoked,
        &Grant::issue(&owner, id, stranger.device_id(), None, 4_000),
    );
    let (late, sig) = edit_by(&revoked, &stranger, &id);
    let heads = revoked.get_heads();
    assert_eq!(
        verify_changes(
            &id,
            &late,
            &heads,
            &statements,
            &[sig],
            WriteRule::Current,
            NOW
        ),
        Err(Refusal::NotAllowed)
    );
    assert!(
        verify_changes(
            &id,
            &late,
            &heads,
            &statements,
            &[sig],
            WriteRule::Ever,
            NOW
        )
        .is_ok()
    );
}

#[test]
fn a_signature_over_the_latest_change_covers_the_earlier_ones() {
    let owner = key();
    let (id, base, _) = created(&owner);
    let mut am = base.fork().with_actor(owner.device_id().actor());
    for i in 0..5 {
        am.transact(|tx| tx.put(ROOT, "n", i as i64)).unwrap();
    }
    let last = am.get_last_local_change().unwrap().hash();
    let sig = ChangeSignature::sign(&owner, &id, last);
    let keep = verify_changes(
        &id,
        &am,
        &[],
        &BTreeSet::new(),
        &[sig],
        WriteRule::Current,
        NOW,
    )
    .unwrap();
    assert_eq!(keep[0].seq, 6);
    // A signature over an earlier change does not cover later ones.
    let first_edit = am.get_changes(&base.get_heads())[0].hash();
    let early = ChangeSignature::sign(&owner, &id, first_edit);
    assert_eq!(
        verify_changes(
            &id,
            &am,
            &[],
            &BTreeSet::new(),
            &[early],
            WriteRule::Current,
            NOW,
        ),
        Err(Refusal::Unsigned)
    );
}

#[test]
fn removing_a_statement_is_refused() {
    let owner = key();
    let (id, mut am, _) = created(&owner);
    let reader = key();
    grant_into(
        &mut am,
        &Grant::issue(&owner, id, reader.device_id(), Some(Role::Reader), 5_000),
    );
    let before: BTreeSet<[u8; 32]> = doc::access::statements(&am)
        .iter()
        .map(Grant::hash)
        .collect();
    let heads = am.get_heads();
    am.transact(|tx| tx.delete(ROOT, "@access")).unwrap();
    let sig = ChangeSignature::sign(&owner, &id, am.get_last_local_change().unwrap().hash());
    assert_eq!(
        verify_changes(&id, &am, &heads, &before, &[sig], WriteRule::Current, NOW),
        Err(Refusal::StatementsRemoved)
    );
}

#[test]
fn backdated_and_far_future_statements_are_refused() {
    let owner = key();
    let admin = key();
    let (id, mut am, _) = created(&owner);
    let owner_at = |am: &mut Automerge| {
        let doc = std::mem::take(am);
        *am = doc.with_actor(owner.device_id().actor());
    };
    owner_at(&mut am);
    grant_into(
        &mut am,
        &Grant::issue(&owner, id, admin.device_id(), Some(Role::Admin), 2_000),
    );
    grant_into(
        &mut am,
        &Grant::issue(&owner, id, admin.device_id(), None, 5_000),
    );
    let before: BTreeSet<[u8; 32]> = doc::access::statements(&am)
        .iter()
        .map(Grant::hash)
        .collect();
    let heads = am.get_heads();

    // The revoked admin stamps a grant just before its revocation.
    let accomplice = key();
    let mut backdated = am.fork().with_actor(owner.device_id().actor());
    grant_into(
        &mut backdated,
        &Grant::issue(&admin, id, accomplice.device_id(), Some(Role::Admin), 4_999),
    );
    let sig = ChangeSignature::sign(
        &owner,
        &id,
        backdated.get_last_local_change().unwrap().hash(),
    );
    assert_eq!(
        verify_changes(
            &id,
            &backdated,
            &heads,
            &before,
            &[sig],
            WriteRule::Current,
            NOW
        ),
        Err(Refusal::Backdated)
    );

    // A statement from far in the future.
    let mut future = am.fork().with_actor(owner.device_id().actor());
    grant_into(
        &mut future,
        &Grant::issue(
            &owner,
            id,
            accomplice.device_id(),
            Some(Role::Reader),
            i64::MAX,
        ),
    );
    let sig = ChangeSignature::sign(&owner, &id, future.get_last_local_change().unwrap().hash());
    assert_eq!(
        verify_changes(
            &id,
            &future,
            &heads,
            &before,
            &[sig],
            WriteRule::Current,
            NOW
        ),
        Err(Refusal::BadStatement)
    );

    // Junk under @access.
    let mut junk = am.fork().with_actor(owner.device_id().actor());
    junk.transact(|tx| {
        let map = match tx.get(ROOT, "@access")? {
            Some((_, map)) => map,
            None => unreachable!("the genesis made the map"),
        };
        tx.put(&map, "junk", automerge::ScalarValue::Bytes(vec![1, 2, 3]))
    })
    .unwrap();
    let sig = ChangeSignature::sign(&owner, &id, junk.get_last_local_change().unwrap().hash());
    assert_eq!(
        verify_changes(&id, &junk, &heads, &before, &[sig], WriteRule::Current, NOW),
        Err(Refusal::BadStatement)
    );

    // The same statements, stamped honestly, are accepted.
    let mut honest = am.fork().with_actor(owner.device_id().actor());
    grant_into(
        &mut honest,
        &Grant::issue(
            &owner,
            id,
            accomplice.device_id(),
            Some(Role::Reader),
            6_000,
        ),
    );
    let sig = ChangeSignature::sign(&owner, &id, honest.get_last_local_change().unwrap().hash());
    assert!(
        verify_changes(
            &id,
            &honest,
            &heads,
            &before,
            &[sig],
            WriteRule::Current,
            NOW
        )
        .is_ok()
    );
}

#[test]
fn junk_statements_do_not_move_the_issue_clock() {
    let owner = key();
    let stranger = key();
    let genesis = Grant::genesis(&owner, [4; 16], 100);
    let id = genesis.document;
    let junk = Grant::issue(
        &stranger,
        id,
        stranger.device_id(),
        Some(Role::Owner),
        i64::MAX,
    );
    let list = AccessList::replay(&id, [&genesis, &junk]);
    assert_eq!(list.role(&stranger.device_id()), None);
    assert_eq!(list.next_issue_ms(500), 500);
}
