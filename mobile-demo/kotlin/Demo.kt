// The mobile demo's story, shorter, through the Kotlin bindings: what an
// Android app does with Lynchpin. A real lynchpin-server runs as a process
// on 127.0.0.1; four devices (Alex's phone, a parent's phone, the care
// coordinator's tablet, a psychologist's laptop) each open an encrypted
// store, enrol with a one-time invite, edit offline and sync with the
// suspend `sync`. A crisis-number conflict is shown with its authors and
// resolved; Alex's journal never reaches the parent's phone. An
// organisation certifies the coordinator's clinician key; she endorses a
// helpline and a peer group in a directory she shares with the team and
// signposts the group into Alex's plan with its evidence; when the
// helpline's number is later edited, every device shows that it changed
// since its endorsement.
//
// People are fictional; numbers are in Ofcom's drama ranges.
//
// Run by scripts/test-bindings (the test "the Kotlin demo" in
// bindings/tests/kotlin/LynchpinTest.kt, which checks the kept stores). By
// hand, after scripts/bindings and `cargo build -p lynchpin-server`, with
// T=$CARGO_TARGET_DIR (or target) and K=the kotlinc's lib/ folder:
//
//   kotlinc -cp /usr/share/java/jna.jar:$K/kotlinx-coroutines-core-jvm.jar -d demo.jar \
//       $T/bindings/kotlin/org/lynchpin/lynchpin.kt mobile-demo/kotlin/Demo.kt
//   java -cp demo.jar:/usr/share/java/jna.jar:$K/kotlinx-coroutines-core-jvm.jar:$K/kotlin-stdlib.jar \
//       -Djna.library.path=$T/debug org.lynchpin.demo.DemoKt --server $T/debug/lynchpin-server [--keep DIR]
//
// With --keep DIR the stores, their keys (DIR/<device>.key, hex; on a phone
// the key lives in the Android Keystore, never in a file) and the relay's
// data (DIR/relay) stay for inspection, laid out as the Rust demo's, with
// the organisation's public key the devices trust
// (DIR/trusted-organisations.txt, hex).

package org.lynchpin.demo

import java.io.File
import java.nio.file.Files
import java.security.SecureRandom
import java.time.Duration
import java.time.Instant
import java.time.LocalDate
import kotlin.system.exitProcess
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import org.lynchpin.*

/** The relay: a lynchpin-server process on a free port of 127.0.0.1. */
class Relay(private val binary: String, private val data: File) : AutoCloseable {
    private val process = ProcessBuilder(binary, "--data", data.path, "--listen", "127.0.0.1:0")
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start()
    val url: String = process.inputStream.bufferedReader().readLine()
        ?.removePrefix("lynchpin-server listening on ")
        ?.let { "http://$it" }
        ?: error("the relay did not start")

    /** A one-time invite code, from the server's admin command. */
    fun invite(): String {
        val admin = ProcessBuilder(binary, "invite", "--data", data.path).start()
        val code = admin.inputStream.bufferedReader().readText().trim()
        check(admin.waitFor() == 0) { "lynchpin-server invite failed" }
        return code
    }

    override fun close() {
        process.destroy()
        process.waitFor()
    }
}

/** One device: its store, and the relay it enrolled with. */
class Device(val name: String, file: String, dir: File, keep: Boolean) {
    // An app gets this key from the Android Keystore (or the iOS Keychain).
    private val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
    val store: Store
    lateinit var relay: SyncServer

    init {
        if (keep) File(dir, "$file.key").writeText(key.joinToString("") { "%02x".format(it) } + "\n")
        store = Store.open(File(dir, "$file.lynchpin").path, key)
    }

    val id: String get() = store.deviceId()

    /** Syncs, or says it is offline: offline is normal, not a failure. */
    suspend fun sync(online: Boolean = true): SyncReport? {
        // Without a connection the call fails with Offline; nothing listens on port 0.
        val server = if (online) relay else relay.copy(url = "http://127.0.0.1:0")
        return try {
            store.sync(server, null).also {
                say(name, "syncs: sent ${it.documentsSent}, received ${it.documentsReceived} " +
                    "document(s), ${it.roundTrips} round trip(s), ${it.bytesSent} B up, ${it.bytesReceived} B down")
            }
        } catch (e: LynchpinException.Offline) {
            say(name, "no connection: the edits wait on the device")
            null
        }
    }
}

fun scene(title: String) = println("\n── $title")
fun say(who: String, what: String) = println("   %-22s %s".format(who, what))

fun describe(field: ConflictField) = when (field) {
    is ConflictField.CrisisContact -> "crisis contact's ${field.field.name.lowercase()}"
    is ConflictField.SafetyItem -> "an item of ${field.list.name.lowercase()}"
    ConflictField.CodeWord -> "the code word"
}

fun hex(bytes: ByteArray) = bytes.joinToString("") { "%02x".format(it) }

/** One line for a resource's endorsements, as a device works them out. */
fun statusLine(status: ResourceEndorsements?): String {
    val best = status?.best ?: return "not endorsed"
    val by = best.endorser?.let { " (${it.name}, ${it.organisation})" } ?: ""
    return best.state.name.lowercase().replace('_', ' ') + by
}

fun resource(name: String, kind: ResourceKind, phone: String, hours: String, alwaysOpen: Boolean) = ResourceDetails(
    name = name, description = "Support for young people in Testford", kind = kind,
    organisation = "Testford Wellbeing Network (fictional)", status = ResourceStatus.ACTIVE,
    thrive = listOf(Thrive.GETTING_ADVICE, Thrive.GETTING_HELP), audience = Audience.YOUNG_PERSON,
    minAge = 11u, maxAge = 18u, regions = listOf("Testford"), cost = Cost.FREE, languages = listOf("English"),
    contact = ResourceContact(phones = listOf(phone)), openingHours = hours, alwaysOpen = alwaysOpen,
    worksOffline = false, assessment = Assessment(), lastChecked = "2026-11-23", checkedBy = "Ada Example",
    reviewDue = "2027-05-01")

fun crisisLine(phone: String, checked: String) = CrisisContactDetails(
    name = "Testford CAMHS crisis line (fictional)", phone = phone, hours = "24/7",
    region = "Testford", lastChecked = checked)

fun main(args: Array<String>) {
    val server = args.indexOf("--server").let { if (it >= 0) args.getOrNull(it + 1) else null }
        ?: System.getProperty("lynchpin.server")
        ?: run { System.err.println("usage: Demo --server PATH-TO-lynchpin-server [--keep DIR]"); exitProcess(2) }
    val kept = args.indexOf("--keep").let { if (it >= 0) args.getOrNull(it + 1) else null }
    val dir = kept?.let { File(it).apply { mkdirs() } } ?: Files.createTempDirectory("lynchpin-demo").toFile()
    val failure = runBlocking { runCatching { week(server, dir, keep = kept != null) }.exceptionOrNull() }
    if (kept == null) dir.deleteRecursively() else println("\nKept in ${dir.path}")
    if (failure != null) {
        System.err.println("demo failed: $failure")
        exitProcess(1)
    }
}

suspend fun week(serverBinary: String, dir: File, keep: Boolean) = Relay(serverBinary, File(dir, "relay")).use { relay ->
    scene("Monday: four devices enrol with the relay at ${relay.url}")
    val alex = Device("Alex's phone", "alex-phone", dir, keep)
    val parent = Device("Parent's phone", "parent-phone", dir, keep)
    val coordinator = Device("Coordinator's tablet", "coordinator-tablet", dir, keep)
    val psychologist = Device("Psychologist's laptop", "psychologist-laptop", dir, keep)
    val everyone = listOf(alex, parent, coordinator, psychologist)
    for (device in everyone) {
        device.relay = device.store.enroll(relay.url, relay.invite())
        say(device.name, "enrolled as device ${device.id.take(8)}")
    }
    val names = everyone.associate { it.id to it.name }

    scene("Monday: the coordinator sets up Alex's plan; Alex decides who reads it")
    val plan = coordinator.store.createCarePlan(CarePlanDetails(
        subjectName = "Alex", status = PlanStatus.ACTIVE, nextReview = "2026-11-27"))
    val crisisLine = coordinator.store.addCrisisContact(plan, crisisLine("01632 960100", "2026-11-02"))
    val review = coordinator.store.addMeeting(plan, MeetingDetails(date = "2026-11-27",
        attendees = listOf("Alex", "Robin Example", "Ada Example", "Dr Eli Testcase")))
    coordinator.store.grant(plan, alex.id, Role.OWNER)
    coordinator.store.grant(plan, psychologist.id, Role.WRITER)
    say(coordinator.name, "creates the plan, crisis line 01632 960100; Alex owner, psychologist writer")
    coordinator.sync()
    alex.sync()
    alex.store.grant(plan, parent.id, Role.READER)          // Alex's own decision
    val journal = alex.store.createJournal()                // private: granted to no one
    alex.store.addCheckIn(journal, CheckInDetails(mood = 4u, feelings = listOf("nervous"), note = "Glad I went."))
    say(alex.name, "lets Robin read the plan; starts a journal only Alex holds")
    alex.sync()
    parent.sync()
    psychologist.sync()

    scene("Monday afternoon: the coordinator endorses support and signposts it, with its evidence")
    // The clinician's key stays on her tablet; the organisation's admin tool signs her request.
    val organisation = generateSigningKeys()
    val clinician = generateSigningKeys()
    val now = Instant.now()
    val certificate = issueCertificate(organisation.secret,
        createCertificateRequest(clinician.secret, "Ada Example", "CAMHS nurse (RMN)", "NMC 00X0000E (fictional)"),
        "Testford CAMHS (fictional)", now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(365)))
    say("Testford CAMHS", "certifies Ada Example's clinician key (CAMHS nurse, for a year)")
    // Held in memory only: an app sets it after each open.
    for (device in everyone) device.store.setTrustedOrganisations(listOf(organisation.publicKey))
    if (keep) File(dir, "trusted-organisations.txt").writeText(hex(organisation.publicKey) + "\n")
    say("every device", "trusts Testford CAMHS's key")
    val directory = coordinator.store.createDirectory("Testford Wellbeing Network (fictional)")
    val helpline = coordinator.store.addResource(directory, resource("Testford Youth Helpline (fictional)",
        ResourceKind.HELPLINE, "0808 157 0123", "24/7", alwaysOpen = true))
    val group = coordinator.store.addResource(directory, resource("Testford Young People's Peer Group (fictional)",
        ResourceKind.PEER_SUPPORT_GROUP, "01632 960200", "Wednesdays 17:00-18:30", alwaysOpen = false))
    coordinator.store.grant(directory, alex.id, Role.READER)
    coordinator.store.grant(directory, parent.id, Role.READER)
    coordinator.store.grant(directory, psychologist.id, Role.WRITER)
    say(coordinator.name, "publishes a directory (helpline 0808 157 0123, a peer group): team reads, psychologist writes")
    val reviewBy = LocalDate.now().plusDays(180).toString()  // signatures carry the real clock
    coordinator.store.endorseResource(directory, group, clinician.secret, certificate,
        "Peer-led, with a trained supporter and a safeguarding lead.",
        listOf(Thrive.GETTING_ADVICE, Thrive.GETTING_HELP), reviewBy)
    coordinator.store.endorseResource(directory, helpline, clinician.secret, certificate,
        "Free, 24/7, staff trained in safety planning.",
        listOf(Thrive.GETTING_ADVICE, Thrive.GETTING_RISK_SUPPORT), reviewBy)
    say(coordinator.name, "endorses the helpline and the peer group (review by $reviewBy)")
    val signpost = coordinator.store.addSignpostFromDirectory(plan, directory, group, "Ada Example",
        "Meeting others who get it, at Alex's own pace", "2026-11-23")
    say(coordinator.name, "signposts the peer group into Alex's plan, with its evidence")
    coordinator.sync()
    for (device in listOf(alex, parent, psychologist)) device.sync()
    for (device in everyone) {
        if (device.store.role(directory) == null) continue
        say(device.name, "helpline: ${statusLine(device.store.resourceEndorsements(directory, helpline))}")
        say(device.name, "peer group: ${statusLine(device.store.resourceEndorsements(directory, group))}")
    }
    say(alex.name, "in the plan, from the signpost's evidence: " +
        statusLine(alex.store.signpostEndorsements(plan, signpost)))

    scene("Tuesday to Thursday: no connection anywhere")
    alex.store.addSafetyItem(plan, SafetyList.WARNING_SIGNS, "Staying in my room all day")
    alex.store.addSafetyItem(plan, SafetyList.REASONS_FOR_LIVING, "My dog, Biscuit")
    alex.store.addCheckIn(journal, CheckInDetails(mood = 3u, feelings = listOf("low"), note = "Didn't tell anyone."))
    alex.store.setMeetingText(plan, review, MeetingText.MY_VOICE, "Mornings at school first, please.")
    say(alex.name, "adds a warning sign, a reason for living, a check-in; writes 'my voice'")
    alex.sync(online = false)
    coordinator.store.updateCrisisContact(plan, crisisLine, crisisLine("01632 960111", "2026-11-25"))
    say(coordinator.name, "changes the crisis number to 01632 960111")
    psychologist.store.updateCrisisContact(plan, crisisLine, crisisLine("01632 960155", "2026-11-25"))
    say(psychologist.name, "changes the same number to 01632 960155")

    scene("Friday: back online, everyone syncs at once (twice: out, then back)")
    repeat(2) { coroutineScope { everyone.map { async { it.sync() } }.awaitAll() } }
    // Every concurrent value of a safety-critical field, each with its author.
    val conflicts = coordinator.store.conflicts(plan)
    for (conflict in conflicts) {
        val values = conflict.values.joinToString(" | ") {
            "${it.value} (by ${it.author?.let(names::get) ?: "an unknown device"})"
        }
        say(coordinator.name, "conflict, ${describe(conflict.field)}: $values")
    }
    val phone = conflicts.map { it.field }.filterIsInstance<ConflictField.CrisisContact>()
        .singleOrNull { it.field == ContactField.PHONE }
        ?: error("expected one crisis-number conflict, found $conflicts")
    coordinator.store.resolveConflict(plan, phone, "01632 960155")
    say(coordinator.name, "checks with the line and keeps 01632 960155")
    coordinator.sync()
    for (device in listOf(alex, parent, psychologist)) device.sync()

    scene("Friday afternoon: the endorsed helpline's number is edited")
    val edited = psychologist.store.resource(directory, helpline).details
    psychologist.store.updateResource(directory, helpline,
        edited.copy(contact = edited.contact.copy(phones = listOf("0808 157 0456"))))
    say(psychologist.name, "edits the helpline's number (0808 157 0123 -> 0808 157 0456): " +
        "a writer may, but the endorsement was of the old version")
    psychologist.sync()
    for (device in listOf(coordinator, alex, parent)) device.sync()
    for (device in everyone) {
        if (device.store.role(directory) == null) continue
        val state = device.store.resourceEndorsements(directory, helpline).best?.state
        say(device.name, "helpline: ${statusLine(device.store.resourceEndorsements(directory, helpline))}")
        check(state == EndorsementState.CHANGED_SINCE_ENDORSEMENT) { "${device.name} shows the helpline $state" }
    }

    scene("Saturday: what each device holds")
    val reference = coordinator.store.carePlan(plan)
    for (device in everyone) {
        val kinds = device.store.documents().map { it.kind }
        val held = device.store.carePlan(plan)
        say(device.name, "${kinds.sorted()}, crisis line ${held.safetyPlan.crisisContacts[0].details.phone}, " +
            "conflicts ${device.store.conflicts(plan).size}, same plan as the coordinator: ${held == reference}")
        check(held == reference) { "${device.name} holds a different plan" }
        check(device.store.conflicts(plan).isEmpty()) { "${device.name} still shows a conflict" }
    }
    check(parent.store.documents().none { it.kind == DocumentKind.JOURNAL }) { "the parent holds a journal" }
    try {
        parent.store.journal(journal)
        error("the parent's phone opened Alex's journal")
    } catch (e: LynchpinException.NotFound) {
        say(parent.name, "has no journal: the relay never sent it")
    }
    val log = alex.store.accessLog(alex.relay, journal)
    check(log.all { it.device == alex.id }) { "another device touched the journal: $log" }
    say(alex.name, "the journal's access log on the relay: ${log.size} entries, all Alex's phone")
    for (device in everyone) device.store.close()
}
