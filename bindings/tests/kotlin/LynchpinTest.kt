// The Kotlin bindings, end to end, on the JVM: a store, a care plan built and
// edited, an observer, typed exceptions, a wrong key, sync through a real
// relay server with the suspend `sync`, calls from several threads at once,
// and the Kotlin mobile demo (mobile-demo/kotlin/Demo.kt, compiled with these
// tests) run as its own process and checked from the stores it keeps.
//
// No test framework: `main` runs each test and exits non-zero if one fails.
// scripts/test-bindings compiles it with kotlinc against the generated
// bindings and passes the server binary as the system property
// `lynchpin.server`. `quickStart` is the quick start in bindings/README.md.

import java.io.File
import java.nio.file.Files
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking
import org.lynchpin.*

val KEY = ByteArray(32) { it.toByte() }

fun check(condition: Boolean, what: () -> String) {
    if (!condition) throw AssertionError(what())
}

fun <T> checkEqual(expected: T, actual: T) =
    check(expected == actual) { "expected $expected, got $actual" }

inline fun <reified E : Throwable> assertThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}

fun tempDir(): File = Files.createTempDirectory("lynchpin-kt").toFile().also { it.deleteOnExit() }

fun details(name: String = "Alex", nextReview: String? = null) =
    CarePlanDetails(subjectName = name, status = PlanStatus.ACTIVE, nextReview = nextReview)

class Recorder : DocumentObserver {
    val seen: MutableList<String> = Collections.synchronizedList(mutableListOf())
    override fun onUpdate(document: String) { seen.add(document) }
}

/** A lynchpin-server process on a free port of 127.0.0.1. */
class Server(private val binary: String) : AutoCloseable {
    private val data = tempDir()
    private val process = ProcessBuilder(binary, "--data", data.path, "--listen", "127.0.0.1:0")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .also { it.environment()["RUST_LOG"] = "warn" }
        .start()
    val url: String = process.inputStream.bufferedReader().readLine()
        .let { line ->
            val prefix = "lynchpin-server listening on "
            check(line != null && line.startsWith(prefix)) { "unexpected first line: $line" }
            "http://" + line.removePrefix(prefix)
        }

    fun invite(): String {
        val p = ProcessBuilder(binary, "invite", "--data", data.path).start()
        val code = p.inputStream.bufferedReader().readText().trim()
        check(p.waitFor() == 0) { "invite failed" }
        return code
    }

    override fun close() {
        process.destroyForcibly().waitFor()
    }
}

fun quickStart(dir: File, server: Server) {
    // --- quick start (bindings/README.md) ---
    val store = Store.open(File(dir, "alex.lynchpin").path, KEY)  // key from the Android Keystore
    val plan = store.createCarePlan(
        CarePlanDetails(subjectName = "Alex", status = PlanStatus.ACTIVE, nextReview = "2025-09-01"))
    store.addSafetyItem(plan, SafetyList.WARNING_SIGNS, "Not sleeping")

    val subscription = store.subscribe(plan, object : DocumentObserver {
        override fun onUpdate(document: String) {    // the current state first, then each change
            println("changed: " + store.safetyPlan(document).warningSigns.last().text)
        }
    })
    store.addSafetyItem(plan, SafetyList.WARNING_SIGNS, "Skipping meals")
    subscription.close()                              // stops the observer

    try {
        store.addGoal(plan, GoalDetails(description = " ", expressedBy = "Alex",
            lifecycle = GoalLifecycle.ACTIVE))
    } catch (e: LynchpinException.InvalidInput) {
        println("${e.field}: ${e.problem}")           // description: must not be empty
    }

    val report = runBlocking {                        // or any coroutine scope
        val relay = store.enroll(server.url, server.invite())   // once; keep `relay`
        store.sync(relay, null)
    }
    println("sent ${report.documentsSent} document(s)")
    // --- end of quick start ---
    checkEqual(1uL, report.documentsSent)
    checkEqual(listOf("Not sleeping", "Skipping meals"), store.safetyPlan(plan).warningSigns.map { it.text })
    store.close()
}

fun buildAndEditAPlan(dir: File) {
    Store.open(File(dir, "alex.lynchpin").path, KEY).use { store ->
        val plan = store.createCarePlan(details(nextReview = "2025-09-01"))
        val goal = store.addGoal(plan, GoalDetails(description = "Back to football", expressedBy = "Alex",
            lifecycle = GoalLifecycle.ACTIVE, targetDate = "2025-08-01"))
        store.recordGoalScore(plan, goal, "2025-06-01", 3u)
        val meeting = store.addMeeting(plan, MeetingDetails(date = "2025-06-15", attendees = listOf("Alex", "Dr Patel")))
        store.setMeetingText(plan, meeting, MeetingText.MY_VOICE, "I want to sleep better")
        store.addDecision(plan, meeting, "Try a sleep diary")
        store.addSafetyItem(plan, SafetyList.WARNING_SIGNS, "Not sleeping")
        store.addCrisisContact(plan, CrisisContactDetails(name = "Night line", phone = "0808 157 0001",
            hours = "24/7", region = "UK"))
        store.setCodeWord(plan, "pineapple")
        val journal = store.createJournal()
        store.addCheckIn(journal, CheckInDetails(mood = 7u, feelings = listOf("calm"), note = ""))

        store.updateGoal(plan, goal, GoalDetails(description = "Football twice a week", expressedBy = "Alex",
            lifecycle = GoalLifecycle.ACTIVE, achievement = GoalAchievement.IMPROVING))
        store.updateCarePlan(plan, details(nextReview = "2025-10-01"))

        val read = store.carePlan(plan)
        checkEqual("2025-10-01", read.details.nextReview)
        checkEqual("Football twice a week", read.goals[0].details.description)
        checkEqual(GoalAchievement.IMPROVING, read.goals[0].details.achievement)
        checkEqual(listOf<UByte>(3u), read.goals[0].scores.map { it.score })
        checkEqual("I want to sleep better", read.meetings[0].myVoice)
        checkEqual("Night line", read.safetyPlan.crisisContacts[0].details.name)
        checkEqual("pineapple", read.safetyPlan.codeWord)
        checkEqual(7.toUByte(), store.journal(journal).checkIns[0].details.mood)
        checkEqual(Role.OWNER, store.role(plan))
    }
}

fun observerFiresAndStops(dir: File) {
    Store.open(File(dir, "alex.lynchpin").path, KEY).use { store ->
        val plan = store.createCarePlan(details())
        val recorder = Recorder()
        val subscription = store.subscribe(plan, recorder)
        checkEqual(listOf(plan), recorder.seen.toList())      // the current state first
        store.addSafetyItem(plan, SafetyList.DISTRACTIONS, "Drawing")
        checkEqual(listOf(plan, plan), recorder.seen.toList())
        subscription.close()
        store.addSafetyItem(plan, SafetyList.DISTRACTIONS, "Gaming")
        checkEqual(2, recorder.seen.size)
    }
}

fun typedExceptions(dir: File) {
    Store.open(File(dir, "alex.lynchpin").path, KEY).use { store ->
        checkEqual("subject_name", assertThrows<LynchpinException.InvalidInput> {
            store.createCarePlan(details(name = ""))
        }.field)
        checkEqual("next_review", assertThrows<LynchpinException.InvalidInput> {
            store.createCarePlan(details(nextReview = "next tuesday"))
        }.field)
        val plan = store.createCarePlan(details())
        assertThrows<LynchpinException.NotFound> {
            store.removeGoal(plan, "00000000-0000-4000-8000-000000000000")
        }
        assertThrows<LynchpinException.WrongKind> { store.carePlan(store.createJournal()) }
        checkEqual("key", assertThrows<LynchpinException.InvalidInput> {
            Store.open(File(dir, "other.lynchpin").path, ByteArray(3))
        }.field)
    }
    // A wrong key: a typed exception, and the store still opens with the right one.
    assertThrows<LynchpinException.WrongKey> { Store.open(File(dir, "alex.lynchpin").path, ByteArray(32)) }
    Store.open(File(dir, "alex.lynchpin").path, KEY).use { checkEqual(2, it.documents().size) }
}

fun syncThroughAServer(dir: File, serverBinary: String) = runBlocking {
    Server(serverBinary).use { server ->
        val alex = Store.open(File(dir, "alex.lynchpin").path, KEY)
        val clinician = Store.open(File(dir, "clinician.lynchpin").path, ByteArray(32) { 9 })
        val alexServer = alex.enroll(server.url, server.invite())
        val clinicianServer = clinician.enroll(server.url, server.invite())

        val plan = alex.createCarePlan(details())
        alex.addSafetyItem(plan, SafetyList.WARNING_SIGNS, "Not sleeping")
        alex.grant(plan, clinician.deviceId(), Role.WRITER)
        val reports = Collections.synchronizedList(mutableListOf<SyncProgress>())
        val report = alex.sync(alexServer, object : SyncProgressListener {
            override fun onProgress(progress: SyncProgress) { reports.add(progress) }
        })
        checkEqual(1uL, report.documentsSent)
        check(reports.last().done) { "the last progress report says done" }

        val arrivals = Recorder()
        val subscription = clinician.subscribe(null, arrivals)
        checkEqual(1uL, clinician.sync(clinicianServer, null).documentsReceived)
        checkEqual(listOf(plan), arrivals.seen.toList())
        subscription.close()
        clinician.addSafetyItem(plan, SafetyList.PROFESSIONALS, "Dr Patel, CAMHS")
        clinician.sync(clinicianServer, null)
        alex.sync(alexServer, null)
        checkEqual(listOf("Dr Patel, CAMHS"), alex.safetyPlan(plan).professionals.map { it.text })

        server.close()
        assertThrows<LynchpinException.Offline> { runBlocking { alex.sync(alexServer, null) } }
        alex.close()
        clinician.close()
    }
}

fun manyThreadsAtOnce(dir: File, serverBinary: String) {
    Server(serverBinary).use { server ->
        val store = Store.open(File(dir, "alex.lynchpin").path, KEY)
        val parent = Store.open(File(dir, "parent.lynchpin").path, ByteArray(32) { 5 })
        val relay = runBlocking { store.enroll(server.url, server.invite()) }
        val parentRelay = runBlocking { parent.enroll(server.url, server.invite()) }
        val plan = store.createCarePlan(details())
        store.grant(plan, parent.deviceId(), Role.READER)
        val recorder = Recorder()
        val subscription = store.subscribe(plan, recorder)
        val pool = Executors.newFixedThreadPool(8)
        val start = CountDownLatch(1)
        val failures = Collections.synchronizedList(mutableListOf<Throwable>())
        repeat(8) { n ->
            pool.execute {
                try {
                    start.await()
                    repeat(10) { i ->
                        store.addSafetyItem(plan, SafetyList.COPING_STRATEGIES, "thread $n item $i")
                        store.carePlan(plan)
                        assertThrows<LynchpinException.InvalidInput> {
                            store.addSafetyItem(plan, SafetyList.COPING_STRATEGIES, "")
                        }
                    }
                } catch (e: Throwable) {
                    failures.add(e)
                }
            }
        }
        start.countDown()
        // Syncs on tokio's blocking pool while the threads edit: each session
        // delivers what existed when it started and finishes, however fast
        // the edits come; what is written meanwhile goes in the next one.
        repeat(3) { runBlocking { store.sync(relay, null) } }
        pool.shutdown()
        check(pool.awaitTermination(60, TimeUnit.SECONDS)) { "threads finished" }
        checkEqual(emptyList<Throwable>(), failures.toList())
        checkEqual(80, store.safetyPlan(plan).copingStrategies.size)
        checkEqual(81, recorder.seen.size)
        subscription.close()

        // Everything the threads wrote reaches another device.
        runBlocking { store.sync(relay, null); parent.sync(parentRelay, null) }
        checkEqual(80, parent.safetyPlan(plan).copingStrategies.size)
        store.close()
        parent.close()
    }
}

fun hexKey(file: File): ByteArray =
    file.readText().trim().chunked(2).map { it.toInt(16).toByte() }.toByteArray()

/**
 * mobile-demo/kotlin/Demo.kt, run as its own JVM process the way an app
 * developer runs it, then checked from the stores it keeps (not its output):
 * four equal plans, the crisis-number conflict resolved everywhere, Alex's
 * offline work on the coordinator's tablet, no journal on the parent's phone,
 * and, trusting the organisation key the demo keeps, the peer group endorsed
 * and the edited helpline changed since its endorsement on every device that
 * holds the directory.
 */
fun kotlinDemo(dir: File, serverBinary: String) {
    val kept = File(dir, "kept")
    val output = File(dir, "demo-output.txt")
    val java = File(System.getProperty("java.home"), "bin/java").path
    val demo = ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "-Djna.library.path=" + System.getProperty("jna.library.path"),
        "org.lynchpin.demo.DemoKt", "--server", serverBinary, "--keep", kept.path)
        .redirectErrorStream(true).redirectOutput(output).start()
    if (!demo.waitFor(120, TimeUnit.SECONDS)) {
        demo.destroyForcibly()
        throw AssertionError("the demo did not finish in 120 s:\n${output.readText()}")
    }
    check(demo.exitValue() == 0) { "the demo exited with ${demo.exitValue()}:\n${output.readText()}" }
    output.readLines().forEach { println("        | $it") }

    fun open(file: String) = Store.open(File(kept, "$file.lynchpin").path, hexKey(File(kept, "$file.key")))
    val alex = open("alex-phone")
    val parent = open("parent-phone")
    val coordinator = open("coordinator-tablet")
    val psychologist = open("psychologist-laptop")
    val everyone = listOf(alex, parent, coordinator, psychologist)
    val plan = coordinator.documents().single { it.kind == DocumentKind.CARE_PLAN }.id
    val journal = alex.documents().single { it.kind == DocumentKind.JOURNAL }.id

    val reference = coordinator.carePlan(plan)
    for (store in everyone) {
        checkEqual(reference, store.carePlan(plan))
        checkEqual(emptyList<Conflict>(), store.conflicts(plan))
    }
    checkEqual("01632 960155", reference.safetyPlan.crisisContacts.single().details.phone)
    check(reference.safetyPlan.warningSigns.any { it.addedBy == alex.deviceId() }) { "Alex's warning sign" }
    check(reference.safetyPlan.reasonsForLiving.any { it.addedBy == alex.deviceId() }) { "Alex's reason" }
    check(reference.meetings.any { it.myVoice.isNotEmpty() }) { "Alex's 'my voice'" }

    checkEqual(Role.READER, parent.role(plan))
    checkEqual(listOf(alex.deviceId()), alex.access(journal).map { it.device })
    checkEqual(2, alex.journal(journal).checkIns.size)
    for (store in listOf(parent, coordinator, psychologist)) {
        check(store.documents().none { it.kind == DocumentKind.JOURNAL }) { "a journal on another device" }
    }
    assertThrows<LynchpinException.NotFound> { parent.journal(journal) }

    val trusted = hexKey(File(kept, "trusted-organisations.txt"))
    val directory = coordinator.documents().single { it.kind == DocumentKind.RESOURCE_DIRECTORY }.id
    val resources = coordinator.directory(directory).resources
    val group = resources.single { it.details.kind == ResourceKind.PEER_SUPPORT_GROUP }.id
    val helpline = resources.single { it.details.kind == ResourceKind.HELPLINE }
    checkEqual(listOf("0808 157 0456"), helpline.details.contact.phones)
    val holders = everyone.filter { it.role(directory) != null }
    checkEqual(4, holders.size)
    for (store in holders) {
        store.setTrustedOrganisations(listOf(trusted))
        checkEqual(EndorsementState.ENDORSED, store.resourceEndorsements(directory, group).best?.state)
        checkEqual(EndorsementState.CHANGED_SINCE_ENDORSEMENT,
            store.resourceEndorsements(directory, helpline.id).best?.state)
    }
    val signpost = alex.carePlan(plan).signposts.single { it.resource.resource == group }
    checkEqual(EndorsementState.ENDORSED, alex.signpostEndorsements(plan, signpost.id)?.best?.state)
    everyone.forEach { it.close() }
}

/** Syncs two stores directly (no server), as two devices nearby would. */
fun directSync(initiator: Store, responder: Store): SyncReport {
    val start = initiator.startSync(responder.deviceId(), SyncScope.Granted)
    var request = start.request
    while (true) {
        val response = responder.respondSync(initiator.deviceId(), request, SyncScope.Granted)
        when (val step = start.session.receive(response)) {
            is SyncStep.Done -> return step.report
            is SyncStep.Send -> request = step.request
        }
    }
}

fun helpline(name: String, phone: String) = ResourceDetails(
    name = name, description = "Support for young people", kind = ResourceKind.HELPLINE,
    organisation = "Riverside Youth Trust", status = ResourceStatus.ACTIVE, thrive = listOf(Thrive.GETTING_HELP),
    audience = Audience.YOUNG_PERSON, minAge = null, maxAge = null, regions = listOf("Riverside"),
    cost = Cost.FREE, languages = listOf("en"), contact = ResourceContact(phones = listOf(phone)),
    openingHours = "24/7", alwaysOpen = true, worksOffline = false, assessment = Assessment(),
    lastChecked = null, checkedBy = "Dr Patel", reviewDue = null)

fun endorsements(dir: File) {
    // The organisation certifies a clinician.
    val organisation = generateSigningKeys()
    val clinician = generateSigningKeys()
    check(publicKeyOf(clinician.secret).contentEquals(clinician.publicKey)) { "public key of the secret" }
    val request = createCertificateRequest(clinician.secret, "Dr Priya Patel", "Clinical psychologist", "PYL12345")
    val now = java.time.Instant.now()
    val day = java.time.Duration.ofDays(1)
    val certificate = issueCertificate(organisation.secret, request, "Riverside CAMHS",
        now.minus(day), now.plus(day.multipliedBy(365)))

    val app = Store.open(File(dir, "app.lynchpin").path, KEY)
    val clinic = Store.open(File(dir, "clinic.lynchpin").path, ByteArray(32) { 7 })
    app.setTrustedOrganisations(listOf(organisation.publicKey))
    check(app.trustedOrganisations().single().contentEquals(organisation.publicKey)) { "trusted keys" }
    val directory = app.createDirectory("Riverside Youth Trust")
    val night = app.addResource(directory, helpline("Night helpline", "0808 000 0001"))
    val day2 = app.addResource(directory, helpline("Day helpline", "0808 000 0002"))
    app.grant(directory, clinic.deviceId(), Role.WRITER)
    directSync(app, clinic)

    val validUntil = java.time.LocalDate.now().plusDays(180).toString()
    val endorsement = clinic.endorseResource(directory, night, clinician.secret, certificate,
        "Well run, answers quickly", listOf(Thrive.GETTING_HELP), validUntil)
    directSync(app, clinic)
    val best = app.resourceEndorsements(directory, night).best!!
    checkEqual(EndorsementState.ENDORSED, best.state)
    checkEqual(endorsement, best.id)
    checkEqual("Dr Priya Patel", best.endorser?.name)
    checkEqual("Riverside CAMHS", best.endorser?.organisation)
    checkEqual(validUntil, best.validUntil)
    checkEqual(EndorsementState.REVIEW_OVERDUE,
        app.resourceEndorsements(directory, night, now.plus(day.multipliedBy(200))).best?.state)

    val matches = app.queryResources(directory, ResourceQuery(text = "helpline"))
    checkEqual(listOf(night, day2), matches.map { it.resource.id })
    checkEqual(listOf(night), app.queryResources(directory, ResourceQuery(endorsedOnly = true)).map { it.resource.id })

    // A self-signed certificate is not trusted.
    val selfSigned = issueCertificate(clinician.secret, request, "Myself", now.minus(day), now.plus(day))
    clinic.endorseResource(directory, day2, clinician.secret, selfSigned, "Trust me", listOf(Thrive.GETTING_HELP), validUntil)
    directSync(app, clinic)
    val mine = app.resourceEndorsements(directory, day2).best!!
    checkEqual(EndorsementState.NOT_TRUSTED, mine.state)
    checkEqual(NotTrustedReason.SELF_SIGNED, mine.notTrusted)

    // Editing the phone number: changed since endorsement.
    app.updateResource(directory, night, helpline("Night helpline", "0808 999 9999"))
    checkEqual(EndorsementState.CHANGED_SINCE_ENDORSEMENT, app.resourceEndorsements(directory, night).best?.state)

    assertThrows<LynchpinException.NotAllowed> {
        app.revokeEndorsement(directory, endorsement, generateSigningKeys().secret)
    }
    app.revokeEndorsement(directory, endorsement, clinician.secret)
    checkEqual(EndorsementState.REVOKED, app.resourceEndorsements(directory, night).best?.state)

    val e = assertThrows<LynchpinException.InvalidInput> {
        app.setTrustedOrganisations(listOf(ByteArray(31)))
    }
    checkEqual("public_key", e.field)
    assertThrows<LynchpinException.InvalidInput> {
        clinic.endorseResource(directory, night, clinician.secret, ByteArray(3), "x", listOf(), validUntil)
    }
    app.close()
    clinic.close()
}

fun main() {
    val server = System.getProperty("lynchpin.server")
        ?: error("pass -Dlynchpin.server=PATH to the lynchpin-server binary")
    val tests = listOf<Pair<String, (File) -> Unit>>(
        "quick start" to { dir -> Server(server).use { quickStart(dir, it) } },
        "build and edit a plan" to ::buildAndEditAPlan,
        "observer fires and stops" to ::observerFiresAndStops,
        "typed exceptions for bad input and a wrong key" to ::typedExceptions,
        "sync two stores through a server" to { dir -> syncThroughAServer(dir, server) },
        "calls from many threads at once" to { dir -> manyThreadsAtOnce(dir, server) },
        "clinicians' endorsements" to ::endorsements,
        "the Kotlin demo (mobile-demo/kotlin/Demo.kt)" to { dir -> kotlinDemo(dir, server) },
    )
    var failed = 0
    for ((name, test) in tests) {
        try {
            test(tempDir())
            println("ok      $name")
        } catch (e: Throwable) {
            failed++
            println("FAILED  $name: $e")
            e.printStackTrace()
        }
    }
    println("${tests.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
