"""The Python bindings, end to end: a store, a care plan built and edited, an
observer, typed errors, a wrong key, sync through a real relay server, a
direct sync with a conflict, and calls from several threads at once.

The quick start in bindings/README.md is `test_quick_start`, line for line.
"""

import asyncio
import datetime
import os
import threading

import pytest

from lynchpin import (
    ActivityDetails, ActivityStatus, Assessment, Audience, CarePlanDetails, Cost, CheckInDetails, ConflictField,
    CrisisContactDetails, DocumentKind, DocumentObserver, GoalDetails, GoalLifecycle,
    LynchpinError, MeetingDetails, MeetingText, PlanStatus, ResourceContact, ResourceDetails,
    ResourceKind, ResourceRef, ResourceStatus, Role, SafetyList, SignpostFeedback, Store,
    SyncProgressListener, SyncScope, SyncStep, Thrive,
    EndorsementState, NotTrustedReason, ResourceQuery,
    create_certificate_request, generate_signing_keys, issue_certificate, public_key_of,
)

KEY = bytes(range(32))


def plan_details(name="Alex", **more):
    return CarePlanDetails(subject_name=name, status=PlanStatus.ACTIVE, **more)


class Recorder(DocumentObserver):
    """Collects the ids the observer is told about, from any thread."""

    def __init__(self):
        self.seen = []
        self.lock = threading.Lock()

    def on_update(self, document):
        with self.lock:
            self.seen.append(document)


def test_quick_start(path, server):
    # --- quick start (bindings/README.md) ---
    store = Store.open(path("alex"), KEY)   # the key comes from the Android Keystore / iOS Keychain
    plan = store.create_care_plan(CarePlanDetails(
        subject_name="Alex", status=PlanStatus.ACTIVE, next_review="2025-09-01"))
    store.add_safety_item(plan, SafetyList.WARNING_SIGNS, "Not sleeping")

    class Show(DocumentObserver):
        def on_update(self, document):
            print("changed:", store.safety_plan(document).warning_signs[-1].text)

    subscription = store.subscribe(plan, Show())   # prints the current state first
    store.add_safety_item(plan, SafetyList.WARNING_SIGNS, "Skipping meals")
    subscription.cancel()                           # or let it be garbage-collected

    try:
        store.add_goal(plan, GoalDetails(description=" ", expressed_by="Alex",
                                         lifecycle=GoalLifecycle.ACTIVE))
    except LynchpinError.InvalidInput as e:
        print(e.field, e.problem)                   # description must not be empty

    async def sync_now():                           # in the app's event loop
        relay = await store.enroll(server.url, server.invite())   # once; keep `relay`
        report = await store.sync(relay, None)
        print("sent", report.documents_sent, "document(s)")
        return report

    report = asyncio.run(sync_now())
    # --- end of quick start ---
    assert report.documents_sent == 1
    texts = [i.text for i in store.safety_plan(plan).warning_signs]
    assert texts == ["Not sleeping", "Skipping meals"]


def test_build_and_edit_a_plan(path):
    store = Store.open(path("alex"), KEY)
    plan = store.create_care_plan(plan_details(next_review="2025-09-01"))
    goal = store.add_goal(plan, GoalDetails(
        description="Go back to football on Saturdays", expressed_by="Alex",
        lifecycle=GoalLifecycle.ACTIVE, achievement=None, target_date="2025-08-01"))
    store.record_goal_score(plan, goal, "2025-06-01", 3)
    store.record_goal_score(plan, goal, "2025-07-01", 6)
    meeting = store.add_meeting(plan, MeetingDetails(date="2025-06-15", attendees=["Alex", "Dr Patel"]))
    store.set_meeting_text(plan, meeting, MeetingText.MY_VOICE, "I want to sleep better")
    store.splice_meeting_text(plan, meeting, MeetingText.MY_VOICE, 0, 1, "We")
    store.add_decision(plan, meeting, "Try a sleep diary for two weeks")
    action = store.add_meeting_action(plan, meeting, ActivityDetails(
        description="Keep a sleep diary", status=ActivityStatus.SCHEDULED, performer="Alex"))
    for text in ["Not sleeping", "Staying in my room"]:
        store.add_safety_item(plan, SafetyList.WARNING_SIGNS, text)
    reason = store.add_safety_item(plan, SafetyList.REASONS_FOR_LIVING, "My dog, Biscuit")
    store.add_crisis_contact(plan, CrisisContactDetails(
        name="Night line", phone="0808 157 0001", hours="24/7", region="UK"))
    store.set_code_word(plan, "pineapple")

    directory = store.create_directory("Riverside Youth Trust")
    assert store.kind(directory) == DocumentKind.RESOURCE_DIRECTORY
    assert store.directory(directory).organisation == "Riverside Youth Trust"
    resource = store.add_resource(directory, ResourceDetails(
        name="Saturday peer group", description="Young people meeting to talk and play games",
        kind=ResourceKind.PEER_SUPPORT_GROUP, organisation="Riverside Youth Trust",
        status=ResourceStatus.ACTIVE, thrive=[Thrive.GETTING_HELP], audience=Audience.YOUNG_PERSON,
        min_age=12, max_age=18, regions=["Riverside"], cost=Cost.FREE, languages=["en"],
        contact=ResourceContact(url="https://peer.example.org"), opening_hours="Sat 10:00-12:00",
        always_open=False, works_offline=False, assessment=Assessment(), last_checked="2025-05-01",
        checked_by="Dr Patel", review_due="2026-05-01"))
    signpost = store.add_signpost(plan, ResourceRef(directory=directory, resource=resource),
                                  "Dr Patel", "Peer support nearby", "2025-06-15")
    store.set_signpost_feedback(plan, signpost, SignpostFeedback.HELPFUL)

    # Edit: change the goal and the plan, remove and restore an item.
    store.update_goal(plan, goal, GoalDetails(
        description="Football on Saturdays and Wednesdays", expressed_by="Alex",
        lifecycle=GoalLifecycle.ACTIVE, target_date="2025-08-01"))
    store.update_care_plan(plan, plan_details(next_review="2025-10-01"))
    store.remove_safety_item(plan, reason)
    assert store.safety_plan(plan).reasons_for_living == []
    store.restore_safety_item(plan, reason)

    read = store.care_plan(plan)
    assert read.details.next_review == "2025-10-01"
    assert read.goals[0].details.description == "Football on Saturdays and Wednesdays"
    assert [s.score for s in read.goals[0].scores] == [3, 6]
    assert read.meetings[0].my_voice == "We want to sleep better"
    assert read.meetings[0].actions == [action]
    assert read.meetings[0].decisions[0].text == "Try a sleep diary for two weeks"
    assert [i.text for i in read.safety_plan.warning_signs] == ["Not sleeping", "Staying in my room"]
    assert read.safety_plan.reasons_for_living[0].text == "My dog, Biscuit"
    assert read.safety_plan.crisis_contacts[0].details.phone == "0808 157 0001"
    assert read.safety_plan.code_word == "pineapple"
    assert read.signposts[0].feedback == SignpostFeedback.HELPFUL
    assert read.signposts[0].resource.resource == resource
    assert store.resource(directory, resource).details.min_age == 12
    assert store.role(plan) == Role.OWNER

    journal = store.create_journal()
    store.add_check_in(journal, CheckInDetails(mood=6, feelings=["tired"], note="ok day"))
    store.add_journal_note(journal, "Saturday", "Went to football")
    assert store.journal(journal).check_ins[0].details.mood == 6
    assert {d.kind for d in store.documents()} == {
        DocumentKind.CARE_PLAN, DocumentKind.RESOURCE_DIRECTORY, DocumentKind.JOURNAL}


def test_observer_fires_and_stops(path):
    store = Store.open(path("alex"), KEY)
    plan = store.create_care_plan(plan_details())
    other = store.create_journal()
    recorder = Recorder()
    subscription = store.subscribe(plan, recorder)
    assert recorder.seen == [plan]                  # the current state first
    store.add_safety_item(plan, SafetyList.COPING_STRATEGIES, "Music")
    store.add_check_in(other, CheckInDetails(mood=5, feelings=[], note=""))
    assert recorder.seen == [plan, plan]            # not the journal
    with pytest.raises(LynchpinError.InvalidInput):
        store.add_safety_item(plan, SafetyList.COPING_STRATEGIES, "")
    assert recorder.seen == [plan, plan]            # a failed edit stores nothing
    del subscription                                # dropped: stops
    store.add_safety_item(plan, SafetyList.COPING_STRATEGIES, "Walk")
    assert recorder.seen == [plan, plan]

    everything = Recorder()
    all_docs = store.subscribe(None, everything)
    assert sorted(everything.seen) == sorted([plan, other])
    all_docs.cancel()


def test_typed_errors_for_bad_input(path):
    store = Store.open(path("alex"), KEY)
    with pytest.raises(LynchpinError.InvalidInput) as e:
        store.create_care_plan(plan_details(name=""))
    assert e.value.field == "subject_name"
    with pytest.raises(LynchpinError.InvalidInput) as e:
        store.create_care_plan(plan_details(next_review="01/09/2025"))
    assert e.value.field == "next_review"
    plan = store.create_care_plan(plan_details())
    goal = store.add_goal(plan, GoalDetails(description="Sleep", expressed_by="Alex",
                                            lifecycle=GoalLifecycle.ACTIVE))
    with pytest.raises(LynchpinError.InvalidInput) as e:
        store.record_goal_score(plan, goal, "2025-06-01", 11)
    assert e.value.field == "score"
    with pytest.raises(LynchpinError.InvalidInput) as e:
        store.care_plan("not-an-id")
    assert e.value.field == "document"
    with pytest.raises(LynchpinError.NotFound):
        store.remove_goal(plan, "00000000-0000-4000-8000-000000000000")
    journal = store.create_journal()
    with pytest.raises(LynchpinError.WrongKind):
        store.care_plan(journal)
    with pytest.raises(LynchpinError.InvalidInput) as e:
        Store.open(path("short-key"), b"too short")
    assert e.value.field == "key"
    with pytest.raises(LynchpinError.InvalidDocument):
        store.import_document(b"not an automerge document")


def test_wrong_key_and_locked_store(path):
    store = Store.open(path("alex"), KEY)
    plan = store.create_care_plan(plan_details())
    with pytest.raises(LynchpinError.StoreLocked):
        Store.open(path("alex"), KEY)
    del store
    with pytest.raises(LynchpinError.WrongKey):
        Store.open(path("alex"), bytes(32))
    again = Store.open(path("alex"), KEY)           # nothing was overwritten
    assert again.care_plan(plan).details.subject_name == "Alex"


class Progress(SyncProgressListener):
    def __init__(self):
        self.reports = []

    def on_progress(self, progress):
        self.reports.append(progress)


def test_sync_two_stores_through_a_server(server, path):
    async def scenario():
        alex = Store.open(path("alex"), KEY)
        clinician = Store.open(path("clinician"), bytes([9] * 32))
        alex_server = await alex.enroll(server.url, server.invite())
        clinician_server = await clinician.enroll(server.url, server.invite())

        plan = alex.create_care_plan(plan_details())
        alex.add_safety_item(plan, SafetyList.WARNING_SIGNS, "Not sleeping")
        alex.grant(plan, clinician.device_id(), Role.WRITER)
        progress = Progress()
        sent = await alex.sync(alex_server, progress)
        assert sent.documents_sent == 1
        assert progress.reports[-1].done and progress.reports[-1].round_trips >= 1

        arrivals = Recorder()
        subscription = clinician.subscribe(None, arrivals)
        received = await clinician.sync(clinician_server, None)
        assert received.documents_received == 1
        assert arrivals.seen == [plan]              # fired from the sync worker
        subscription.cancel()
        assert clinician.role(plan) == Role.WRITER
        clinician.add_safety_item(plan, SafetyList.PROFESSIONALS, "Dr Patel, CAMHS")
        await clinician.sync(clinician_server, None)
        await alex.sync(alex_server, None)
        professionals = alex.safety_plan(plan).professionals
        assert [p.text for p in professionals] == ["Dr Patel, CAMHS"]
        assert professionals[0].added_by == clinician.device_id()

        server.stop()
        with pytest.raises(LynchpinError.Offline):
            await alex.sync(alex_server, None)

    asyncio.run(scenario())


def direct_sync(initiator, responder):
    """Syncs two stores directly (no server), as two devices nearby would."""
    start = initiator.start_sync(responder.device_id(), SyncScope.GRANTED())
    request, session = start.request, start.session
    while True:
        response = responder.respond_sync(initiator.device_id(), request, SyncScope.GRANTED())
        step = session.receive(response)
        if isinstance(step, SyncStep.DONE):
            return step.report
        request = step.request


def test_direct_sync_and_conflicts(path):
    alex = Store.open(path("alex"), KEY)
    parent = Store.open(path("parent"), bytes([5] * 32))
    sync = direct_sync

    plan = alex.create_care_plan(plan_details())
    alex.set_code_word(plan, "pineapple")
    alex.create_journal()                           # private: never sent
    alex.grant(plan, parent.device_id(), Role.WRITER)
    assert sync(alex, parent).documents_sent == 1
    assert [d.id for d in parent.documents()] == [plan]

    alex.set_code_word(plan, "mango")               # concurrent edits of a
    parent.set_code_word(plan, "kiwi")              # safety-critical field
    sync(alex, parent)
    conflicts = alex.conflicts(plan)
    assert len(conflicts) == 1
    assert conflicts[0].field == ConflictField.CODE_WORD()
    assert sorted(v.value for v in conflicts[0].values) == ["kiwi", "mango"]
    assert {v.author for v in conflicts[0].values} == {alex.device_id(), parent.device_id()}
    alex.resolve_conflict(plan, ConflictField.CODE_WORD(), "kiwi")
    assert alex.conflicts(plan) == []
    assert alex.safety_plan(plan).code_word == "kiwi"


def test_calls_from_many_threads_at_once(path):
    store = Store.open(path("alex"), KEY)
    plan = store.create_care_plan(plan_details())
    recorder = Recorder()
    subscription = store.subscribe(plan, recorder)
    errors = []

    def work(n):
        try:
            for i in range(10):
                store.add_safety_item(plan, SafetyList.DISTRACTIONS, f"thread {n} item {i}")
                store.care_plan(plan)
                with pytest.raises(LynchpinError.InvalidInput):
                    store.add_safety_item(plan, SafetyList.DISTRACTIONS, "")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.safety_plan(plan).distractions) == 80
    assert len(recorder.seen) == 1 + 80
    subscription.cancel()


def resource_details(name, phone, thrive=Thrive.GETTING_HELP):
    return ResourceDetails(
        name=name, description="Support for young people", kind=ResourceKind.HELPLINE,
        organisation="Riverside Youth Trust", status=ResourceStatus.ACTIVE, thrive=[thrive],
        audience=Audience.YOUNG_PERSON, regions=["Riverside"], cost=Cost.FREE, languages=["en"],
        contact=ResourceContact(phones=[phone]), opening_hours="24/7", always_open=True,
        works_offline=False, assessment=Assessment(), checked_by="Dr Patel")


def test_endorsements(path):
    # The organisation certifies a clinician: the clinician sends a signed
    # request, the organisation returns a certificate (bytes to keep).
    organisation = generate_signing_keys()
    clinician = generate_signing_keys()
    assert public_key_of(clinician.secret) == clinician.public_key
    request = create_certificate_request(clinician.secret, "Dr Priya Patel",
                                         "Clinical psychologist", "PYL12345")
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = issue_certificate(organisation.secret, request, "Riverside CAMHS",
                                    now - datetime.timedelta(days=1),
                                    now + datetime.timedelta(days=365))

    # The app (the young person's store) holds the directory and trusts the
    # organisation; the clinician's store writes to it.
    app = Store.open(path("app"), KEY)
    clinic = Store.open(path("clinic"), bytes([7] * 32))
    app.set_trusted_organisations([organisation.public_key])
    assert app.trusted_organisations() == [organisation.public_key]
    clinic.set_trusted_organisations([organisation.public_key])
    directory = app.create_directory("Riverside Youth Trust")
    helpline = app.add_resource(directory, resource_details("Night helpline", "0808 000 0001"))
    other = app.add_resource(directory, resource_details("Day helpline", "0808 000 0002"))
    app.grant(directory, clinic.device_id(), Role.WRITER)
    direct_sync(app, clinic)

    valid_until = (now + datetime.timedelta(days=180)).date().isoformat()
    endorsement = clinic.endorse_resource(directory, helpline, clinician.secret, certificate,
                                          "Well run, answers quickly", [Thrive.GETTING_HELP],
                                          valid_until)
    assert len(endorsement) == 64
    direct_sync(app, clinic)
    status = app.resource_endorsements(directory, helpline)
    assert status.best.state == EndorsementState.ENDORSED
    assert status.best.id == endorsement
    assert status.best.not_trusted is None
    assert status.best.endorser.name == "Dr Priya Patel"
    assert status.best.endorser.profession == "Clinical psychologist"
    assert status.best.endorser.registration == "PYL12345"
    assert status.best.endorser.organisation == "Riverside CAMHS"
    assert status.best.rationale == "Well run, answers quickly"
    assert status.best.thrive == [Thrive.GETTING_HELP]
    assert status.best.valid_until == valid_until
    assert status.best.issued_at is not None
    assert [s.id for s in status.all] == [endorsement]
    # An explicit evaluation time: after the review date the endorsement is overdue.
    later = app.resource_endorsements(directory, helpline, now + datetime.timedelta(days=200))
    assert later.best.state == EndorsementState.REVIEW_OVERDUE
    assert app.resource_endorsements(directory, other).best is None

    # Queries: the endorsed resource comes first, and alone when endorsed only.
    matches = app.query_resources(directory, ResourceQuery(text="helpline"))
    assert [m.resource.id for m in matches] == [helpline, other]
    assert matches[0].endorsement.state == EndorsementState.ENDORSED
    endorsed = app.query_resources(directory, ResourceQuery(endorsed_only=True))
    assert [m.resource.id for m in endorsed] == [helpline]

    # A signpost carries the evidence into a care plan.
    plan = app.create_care_plan(plan_details())
    signpost = app.add_signpost_from_directory(plan, directory, helpline, "Dr Patel",
                                               "For nights", "2025-06-15")
    carried = app.signpost_endorsements(plan, signpost)
    assert carried.best.state == EndorsementState.ENDORSED

    # A self-signed certificate is not trusted.
    self_signed = issue_certificate(clinician.secret, request, "Myself",
                                    now - datetime.timedelta(days=1),
                                    now + datetime.timedelta(days=365))
    clinic.endorse_resource(directory, other, clinician.secret, self_signed, "Trust me",
                            [Thrive.GETTING_HELP], valid_until)
    direct_sync(app, clinic)
    mine = app.resource_endorsements(directory, other).best
    assert mine.state == EndorsementState.NOT_TRUSTED
    assert mine.not_trusted == NotTrustedReason.SELF_SIGNED

    # Editing the resource's phone number: changed since endorsement.
    app.update_resource(directory, helpline, resource_details("Night helpline", "0808 999 9999"))
    assert (app.resource_endorsements(directory, helpline).best.state
            == EndorsementState.CHANGED_SINCE_ENDORSEMENT)
    assert app.query_resources(directory, ResourceQuery(endorsed_only=True)) == []

    # Only the clinician or their organisation may revoke.
    with pytest.raises(LynchpinError.NotAllowed):
        app.revoke_endorsement(directory, endorsement, generate_signing_keys().secret)
    app.revoke_endorsement(directory, endorsement, organisation.secret)
    assert (app.resource_endorsements(directory, helpline).best.state
            == EndorsementState.REVOKED)

    # Wrong key lengths and malformed statements are invalid input.
    with pytest.raises(LynchpinError.InvalidInput):
        app.set_trusted_organisations([b"too short"])
    with pytest.raises(LynchpinError.InvalidInput) as e:
        create_certificate_request(b"short", "Dr Patel", "Psychologist", "PYL1")
    assert e.value.field == "clinician_secret"
    with pytest.raises(LynchpinError.InvalidInput) as e:
        clinic.endorse_resource(directory, helpline, clinician.secret, b"not a certificate",
                                "x", [], valid_until)
    assert e.value.field == "certificate"
