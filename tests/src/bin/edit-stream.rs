//! `edit-stream [--durability full|process-crash] STORE KEY_HEX FIRST [PLAN JOURNAL GOAL MEETING NOTES]`:
//! opens the store at STORE with the 32-byte key given as 64 hex digits
//! (with `Durability::Full`, the default, or `Durability::ProcessCrash`) and
//! makes edits FIRST, FIRST+1, … (see `lynchpin_tests::edits`) until it is
//! killed, printing `ack N` and flushing stdout after each call returns `Ok`.
//!
//! Without the last five arguments it finds the care plan, journal, goal and
//! meeting it edits in the store (creating what is missing) and reads the
//! meeting's notes from there; with them it carries on from what the caller
//! read, without reading the store itself.
//!
//! The crash test (`tests/crash.rs`) kills it with SIGKILL at random moments
//! and checks that every acknowledged edit survived.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{
    io::{self, Write},
    process::ExitCode,
};

use lynchpin_core::{Durability, Store, StoreOptions};
use lynchpin_tests::{
    edits::{Editor, Targets},
    key_from_hex,
};

const USAGE: &str = "usage: edit-stream [--durability full|process-crash] \
                     STORE KEY_HEX FIRST [PLAN JOURNAL GOAL MEETING NOTES]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edit-stream: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (durability, args) = match args.as_slice() {
        [flag, mode, rest @ ..] if flag == "--durability" => (
            match mode.as_str() {
                "full" => Durability::Full,
                "process-crash" => Durability::ProcessCrash,
                _ => return Err(USAGE.into()),
            },
            rest,
        ),
        args => (Durability::Full, args),
    };
    let [path, key, first, targets @ ..] = args else {
        return Err(USAGE.into());
    };
    let key = key_from_hex(key).ok_or("the key must be 64 hex digits")?;
    let first: u64 = first.parse().map_err(|_| USAGE)?;

    let store = Store::open_with(path, &key, StoreOptions { durability })?;
    let mut editor = if targets.is_empty() {
        Editor::open(&store)?
    } else {
        Editor::resume(Targets::from_args(targets)?)
    };
    let mut out = io::stdout().lock();
    for n in first.. {
        editor.apply(&store, n)?;
        writeln!(out, "ack {n}")?;
        out.flush()?;
    }
    Ok(())
}
