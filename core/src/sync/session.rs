//! The initiator's side of a session, as a state machine: [`Session::start`]
//! gives the first request; [`Session::receive`] takes each response and
//! gives the next request or the report.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    time::Instant,
};

use automerge::{Automerge, ChangeHash, ReadDoc, sync::State};

use super::{
    DocOutcome, Host, MAX_ROUNDS, PeerRecord, RESPONSE_BUDGET_BYTES, SyncError, SyncReport,
    entry_for, fetch_since, generate_for, receive, session_state,
    wire::{DocEntry, DocStatus, EXCHANGE_ID_BYTES, Request, Response, exchange_extension},
    worth_sending,
};
use crate::{DeviceId, DocumentId};

/// A session in progress, on the initiating side.
#[derive(Debug)]
pub struct Session {
    peer: DeviceId,
    record: PeerRecord,
    start_clock: u64,
    states: HashMap<DocumentId, State>,
    /// Local documents changed since the last session, not yet offered.
    pending: VecDeque<DocumentId>,
    /// Documents this side sent changes of in this session.
    offered: HashSet<DocumentId>,
    /// Each document's heads when this session first generated a message
    /// for it: what the session undertakes to deliver. Changes made during
    /// the session are left to the next one, so that a device that keeps
    /// editing still finishes its sessions.
    targets: HashMap<DocumentId, Vec<ChangeHash>>,
    /// Documents in step as of their target, no longer pursued.
    settled: HashMap<DocumentId, State>,
    /// Documents whose last answer held changes that could not be applied:
    /// while any is left, the session does not move the peer's cursor past
    /// them.
    incomplete: HashSet<DocumentId>,
    /// Documents to ask for again, without a Bloom filter, in the next
    /// request (once per session).
    refetch: HashSet<DocumentId>,
    /// Documents already asked for again in this session.
    refetched: HashSet<DocumentId>,
    /// The exchange id of the request in flight: the answer must return it.
    exchange: [u8; EXCHANGE_ID_BYTES],
    report: SyncReport,
    started: Instant,
}

/// What to do after a response.
#[derive(Debug)]
pub enum Step {
    /// Send these bytes to the peer and pass its answer to [`Session::receive`].
    Send(Vec<u8>),
    /// The session is complete.
    Done(SyncReport),
}

impl Session {
    /// Starts a session with `peer`: returns the session and the first request.
    pub fn start<H: Host>(host: &mut H, peer: DeviceId) -> Result<(Self, Vec<u8>), H::Error> {
        let started = Instant::now();
        let record = host.load_peer(&peer)?;
        let start_clock = host.clock()?;
        let pending = host
            .changed(&peer, record.synced_clock, start_clock)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut session = Self {
            peer,
            record,
            start_clock,
            states: HashMap::new(),
            pending,
            offered: HashSet::new(),
            targets: HashMap::new(),
            settled: HashMap::new(),
            incomplete: HashSet::new(),
            refetch: HashSet::new(),
            refetched: HashSet::new(),
            exchange: [0; EXCHANGE_ID_BYTES],
            report: SyncReport::default(),
            started,
        };
        let mut docs = Vec::new();
        session.offer_pending(host, &mut docs)?;
        let request = session.request(session.record.cursor, docs)?;
        Ok((session, request))
    }

    /// Adds messages for local documents changed since the last session, up
    /// to the size budget; the rest go in the next request.
    fn offer_pending<H: Host>(
        &mut self,
        host: &mut H,
        docs: &mut Vec<DocEntry>,
    ) -> Result<(), H::Error> {
        let mut size: usize = docs.iter().map(|d| d.message.len()).sum();
        while size < RESPONSE_BUDGET_BYTES {
            let Some(id) = self.pending.pop_front() else {
                break;
            };
            if self.states.contains_key(&id) {
                continue;
            }
            let mut state = session_state(&host.load_state(&self.peer, &id)?);
            // Only documents with changes the peer may lack are worth a message
            // now; the peer's answer covers everything else.
            if let Some(generated) = generate_for(host, &self.peer, &id, &mut state)?
                .filter(|g| !g.message.changes.is_empty())
            {
                self.targets.insert(id, generated.heads.clone());
                let entry = entry_for(host, &self.peer, id, generated)?;
                size += entry.message.len();
                docs.push(entry);
                self.offered.insert(id);
                self.states.insert(id, state);
            }
        }
        Ok(())
    }

    /// Encodes the next request, under a fresh exchange id.
    fn request(
        &mut self,
        cursor: Option<super::wire::Cursor>,
        docs: Vec<DocEntry>,
    ) -> Result<Vec<u8>, SyncError> {
        crate::crypto::fill_random(&mut self.exchange)?;
        self.report.documents_sent += docs.len();
        let bytes = Request {
            cursor,
            docs,
            extensions: vec![exchange_extension(self.exchange)],
        }
        .encode();
        self.report.bytes_sent += bytes.len();
        Ok(bytes)
    }

    /// Whether, for every document this side sent changes of, the peer is
    /// known to hold what the session set out to deliver.
    fn all_offered_confirmed<H: Host>(&self, host: &mut H) -> Result<bool, H::Error> {
        for id in &self.offered {
            let Some(state) = self.states.get(id).or_else(|| self.settled.get(id)) else {
                return Ok(false);
            };
            let Some(target) = self.targets.get(id) else {
                return Ok(false);
            };
            if !peer_holds(host, &self.peer, id, state, target)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether a document is in step as of its target: the peer holds the
    /// target, and this side holds everything the peer said it has. Only
    /// changes made during the session would be left to send.
    fn in_step<H: Host>(
        &self,
        host: &mut H,
        id: &DocumentId,
        state: &State,
        message: &automerge::sync::Message,
    ) -> Result<bool, H::Error> {
        let Some(target) = self.targets.get(id) else {
            return Ok(false);
        };
        let Some(their_heads) = &state.their_heads else {
            return Ok(false);
        };
        if !message.need.is_empty() {
            return Ok(false);
        }
        // A reset (the peer believes this side holds changes it does not)
        // asks for nothing by hash, so look at the peer's heads themselves.
        let (holds_theirs, _) =
            host.with_document(&self.peer, id, &[], |doc: &mut Automerge| {
                their_heads
                    .iter()
                    .all(|h| doc.get_change_by_hash(h).is_some())
            })?;
        Ok(holds_theirs && peer_holds(host, &self.peer, id, state, target)?)
    }

    /// Applies a response and says what to do next.
    pub fn receive<H: Host>(&mut self, host: &mut H, bytes: &[u8]) -> Result<Step, H::Error> {
        self.report.bytes_received += bytes.len();
        self.report.round_trips += 1;
        let response = Response::decode(bytes).map_err(SyncError::from)?;
        // Only the answer to the request just sent may be applied: its
        // cursor acknowledges what the responder sent to this device.
        if response.exchange() != Some(self.exchange) {
            return Err(SyncError::UnexpectedResponse.into());
        }
        let peer = self.peer;
        let answered: HashSet<DocumentId> = response.docs.iter().map(|d| d.id).collect();
        // A document this side pushed that the peer did not answer is not
        // pursued further in this session (the next one offers it again).
        self.states.retain(|id, _| answered.contains(id));
        for entry in &response.docs {
            if entry.status != DocStatus::Ok {
                tracing::warn!(document = %entry.id, status = ?entry.status, "peer refused a document");
                self.report.rejected.push((entry.id, entry.status));
            }
            if entry.message.is_empty() {
                continue;
            }
            if !host.may_sync(&peer, &entry.id)? {
                tracing::warn!(document = %entry.id, "ignoring a document outside this session's scope");
                continue;
            }
            let state = match self.states.remove(&entry.id) {
                Some(state) => state,
                None => session_state(&host.load_state(&peer, &entry.id)?),
            };
            let mut state = state;
            let Ok(signatures) = entry.signatures() else {
                tracing::warn!(document = %entry.id, "peer sent malformed signatures");
                continue;
            };
            let (ok, outcome) = host.with_document(&peer, &entry.id, &signatures, |doc| {
                receive(doc, &mut state, &entry.message)
            })?;
            if !ok {
                tracing::warn!(document = %entry.id, "peer sent a malformed sync message");
                continue;
            }
            if outcome == DocOutcome::Stored {
                self.report.documents_received += 1;
            }
            if outcome == DocOutcome::Incomplete {
                // Nothing was stored. Ask again from what both sides hold,
                // once; failing that, the cursor stays where it was and the
                // next session brings the document again.
                self.incomplete.insert(entry.id);
                if self.refetched.insert(entry.id) {
                    self.refetch.insert(entry.id);
                    let persisted = host.load_state(&peer, &entry.id)?;
                    self.states.insert(entry.id, session_state(&persisted));
                }
                continue;
            }
            self.incomplete.remove(&entry.id);
            if let DocOutcome::Rejected(status) = outcome {
                self.report.rejected.push((entry.id, status));
                continue;
            }
            host.store_state(
                &peer,
                &entry.id,
                &super::PeerDocState {
                    shared_heads: state.shared_heads.clone(),
                    sent: None,
                },
            )?;
            self.states.insert(entry.id, state);
        }

        let mut docs = Vec::new();
        let ids: Vec<DocumentId> = self.states.keys().copied().collect();
        for id in ids {
            let Some(mut state) = self.states.remove(&id) else {
                continue;
            };
            if self.refetch.remove(&id) {
                let (message, _) = host.with_document(&peer, &id, &[], |doc: &mut Automerge| {
                    fetch_since(doc, &state.shared_heads)
                })?;
                docs.push(DocEntry {
                    id,
                    status: DocStatus::Ok,
                    message: message.encode(),
                    extensions: Vec::new(),
                });
                self.states.insert(id, state);
                continue;
            }
            let generated = generate_for(host, &peer, &id, &mut state)?
                .filter(|g| worth_sending(&g.message, &state, &g.heads));
            let target_set = self.targets.contains_key(&id);
            if let Some(generated) = generated {
                if target_set && self.in_step(host, &id, &state, &generated.message)? {
                    self.settled.insert(id, state);
                    continue;
                }
                if !target_set {
                    self.targets.insert(id, generated.heads.clone());
                }
                docs.push(entry_for(host, &self.peer, id, generated)?);
            }
            self.states.insert(id, state);
        }
        self.offer_pending(host, &mut docs)?;

        if docs.is_empty() && !response.more && self.pending.is_empty() {
            // The cursor acknowledges everything the peer sent: not if some
            // of it could not be applied.
            if self.incomplete.is_empty() {
                self.record.cursor = Some(response.cursor);
            }
            // Local changes count as delivered only if the peer's last word
            // on each document offered shows it holds them (an answer can
            // be lost, stale or meant for someone else); otherwise the next
            // session offers them again.
            if self.all_offered_confirmed(host)? {
                self.record.synced_clock = self.start_clock;
            } else {
                tracing::debug!(
                    "some local changes are not confirmed; offering them again next time"
                );
            }
            host.store_peer(&peer, &self.record)?;
            self.report.duration = self.started.elapsed();
            tracing::debug!(
                sent = self.report.documents_sent,
                received = self.report.documents_received,
                rounds = self.report.round_trips,
                "sync session complete"
            );
            return Ok(Step::Done(std::mem::take(&mut self.report)));
        }
        if self.report.round_trips >= MAX_ROUNDS {
            return Err(SyncError::TooManyRounds.into());
        }
        Ok(Step::Send(self.request(Some(response.cursor), docs)?))
    }
}

/// Whether the peer, as `state` knows it, holds every change in `target`:
/// each is one of the heads both sides share or an ancestor of them.
fn peer_holds<H: Host>(
    host: &mut H,
    peer: &DeviceId,
    id: &DocumentId,
    state: &State,
    target: &[ChangeHash],
) -> Result<bool, H::Error> {
    if target.iter().all(|h| state.shared_heads.contains(h)) {
        return Ok(true);
    }
    let (holds, _) = host.with_document(peer, id, &[], |doc: &mut Automerge| {
        if !state
            .shared_heads
            .iter()
            .all(|h| doc.get_change_by_hash(h).is_some())
        {
            return false;
        }
        let beyond: HashSet<ChangeHash> = doc
            .get_changes(&state.shared_heads)
            .iter()
            .map(|c| c.hash())
            .collect();
        target.iter().all(|h| !beyond.contains(h))
    })?;
    Ok(holds)
}
