//! A care team's week with Lynchpin, in one command: a real relay server on
//! 127.0.0.1 and four devices, each with its own encrypted store — Alex's
//! phone, a parent's phone, the care coordinator's tablet and a
//! psychologist's laptop. They enrol with one-time invites, edit offline,
//! sync through the relay and converge; a conflict on the safety plan's
//! crisis line is shown with its authors and resolved; Alex's journal never
//! reaches the parent. A clinician certified by an organisation the apps
//! trust endorses resources in the region's directory and signposts them
//! with their evidence; when an endorsed helpline's number is edited, every
//! device shows that it changed since its endorsement.
//!
//! ```text
//! cargo run -p mobile-demo                  # the whole week, in seconds
//! cargo run -p mobile-demo -- --step        # waits for Enter between scenes
//! cargo run -p mobile-demo -- --keep DIR    # keeps the stores, keys and relay data in DIR
//! ```
//!
//! Files: `relay.rs` runs the server in-process; `device.rs` is one device
//! (store, key, enrolment, connection); `cast.rs` the people; `scenes/`
//! the week, a function per scene; `summary.rs` the ending and the demo's
//! check of its own claims; `timeline.rs` all the printing.
//!
//! A kept folder holds `<device>.lynchpin` (each store), `<device>.key` (its
//! key in hex: a stand-in for the platform keystore, written only with
//! `--keep`), `trusted-organisations.txt` (the organisation public key the
//! apps trust, in hex, one a line), `relay/` (the server's data) and a
//! `README.txt` saying so.

#![allow(clippy::print_stderr)]

mod cast;
mod device;
mod relay;
mod scenes;
mod summary;
mod timeline;

use std::{
    error::Error,
    fs,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use clap::Parser;
use lynchpin_core::{SigningKeyPair, TrustedOrganisations};

use crate::{cast::Cast, relay::Relay, timeline::Timeline};

/// A care team working offline and syncing through a relay: Alex (15), a
/// parent, the care coordinator and a psychologist, over one week. All
/// people are fictional; all numbers are in Ofcom's drama ranges.
#[derive(Debug, Parser)]
#[command(name = "mobile-demo", version)]
struct Args {
    /// Keep the devices' stores, their keys and the relay's data in DIR
    /// (created; must be empty) instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Wait for Enter between scenes.
    #[arg(long)]
    step: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            eprintln!("mobile-demo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    // Dropped last: the stores and the relay close before it is removed.
    let temp = tempfile::tempdir()?;
    let dir = match &args.keep {
        Some(dir) => prepare_kept(dir)?,
        None => temp.path().to_path_buf(),
    };
    let mut t = Timeline::new(args.step);
    t.banner("Lynchpin: a care team's week, offline first (fictional people, drama-range numbers)");

    t.scene(scenes::day::monday(), "a relay and four devices");
    let relay = Relay::start(&dir.join("relay"))?;
    t.narrate(&format!(
        "The relay (lynchpin-server) listens on {}, its data in {}",
        relay.url(),
        relay.data().display()
    ));
    let cast = Cast::enrol(&mut t, &dir, args.keep.is_some(), &relay)?;
    // The organisation that certifies clinicians. Its secret stays with its
    // admin tool (here, this process); each app is configured with its
    // public key after opening the store.
    let organisation = SigningKeyPair::generate()?;
    let trusted = TrustedOrganisations::new([organisation.public_key()]);
    for device in cast.all() {
        device.store.set_trusted_organisations(trusted.clone());
    }
    if args.keep.is_some() {
        fs::write(
            dir.join("trusted-organisations.txt"),
            format!("{}\n", organisation.public_key()),
        )?;
    }
    t.narrate(&format!(
        "Each app trusts one organisation to certify clinicians: {} (key {}…)",
        scenes::ORGANISATION,
        &organisation.public_key().to_string()[..12]
    ));

    let records = scenes::first_appointment(&mut t, &cast)?;
    let directory = scenes::publish_directory(&mut t, &cast)?;
    let signposted =
        scenes::endorse_and_signpost(&mut t, &cast, &records, &directory, &organisation)?;
    scenes::offline_evening(&mut t, &cast, &records)?;
    scenes::concurrent_safety_edits(&mut t, &cast, &records)?;
    scenes::before_the_review(&mut t, &cast, &records)?;
    scenes::back_online(&mut t, &cast, &records)?;
    scenes::review_meeting(&mut t, &cast, &records)?;
    scenes::endorsed_helpline_edited(&mut t, &cast, &records, &signposted)?;
    summary::summary(&mut t, &cast, &records, &signposted)?;

    drop(cast);
    relay.stop()?;
    if args.keep.is_some() {
        t.banner(&format!(
            "\nKept in {}: the four stores (*.lynchpin), their keys (*.key; see README.txt), \
             the trusted organisation's key (trusted-organisations.txt) and the relay's data \
             (relay/).",
            dir.display()
        ));
    }
    t.banner(&format!(
        "\nThe week took {:.1} s.",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Creates the kept folder, which must be new or empty (the demo makes
/// fresh stores under fresh keys), and writes its README.txt.
fn prepare_kept(dir: &Path) -> Result<PathBuf, Box<dyn Error>> {
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let dir = &fs::canonicalize(dir)?;
    if fs::read_dir(dir)?.next().is_some() {
        return Err(format!(
            "{} is not empty: give --keep a new or empty folder",
            dir.display()
        )
        .into());
    }
    let mut readme = String::from(
        "Kept by `cargo run -p mobile-demo -- --keep DIR`.\n\n\
         Each device's encrypted store and its key:\n\n",
    );
    for profile in cast::PROFILES {
        readme.push_str(&format!(
            "  {file}.lynchpin  {file}.key  {name} ({person})\n",
            file = profile.file,
            name = profile.name,
            person = profile.person,
        ));
    }
    readme.push_str(
        "\nA .key file is the store's 32-byte key in hex. It is here only so the stores can be\n\
         opened again for inspection (e.g. lynchpin_core::Store::open with that key). A real app\n\
         never writes its key to a file: it keeps it in the Android Keystore or the iOS Keychain.\n\n\
         trusted-organisations.txt holds the public key (64 hex digits, one a line) of the\n\
         organisation whose certificates the apps trust: Example NHS Foundation Trust\n\
         (fictional). Set it on a reopened store (Store::set_trusted_organisations) to see the\n\
         endorsements' statuses as the devices did; the secret keys were never kept.\n\n\
         relay/ is the relay server's data folder (lynchpin-server.db): documents, grants,\n\
         enrolled devices and the access log. This serves it again:\n\n",
    );
    readme.push_str(&format!(
        "  cargo run -p lynchpin-server -- --data {} --listen 127.0.0.1:0\n",
        dir.join("relay").display()
    ));
    fs::write(dir.join("README.txt"), readme)?;
    Ok(dir.to_path_buf())
}
