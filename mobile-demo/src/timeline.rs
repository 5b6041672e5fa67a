//! How the story is printed: scenes headed by their day, and under each
//! scene the devices that act, each with its actions indented beneath it.
//! With `--step` the timeline waits for Enter before each new scene.
//!
//! This is the only place that writes to stdout.

#![allow(clippy::print_stdout)]

use std::io::{BufRead, Write};

use chrono::NaiveDate;

use crate::device::{Device, Synced, describe};

/// Prints the timeline.
pub struct Timeline {
    step: bool,
    scenes: usize,
    actor: Option<&'static str>,
}

impl Timeline {
    /// A timeline that pauses between scenes when `step` is set.
    pub fn new(step: bool) -> Self {
        Self {
            step,
            scenes: 0,
            actor: None,
        }
    }

    /// A line before the story starts, or after it ends.
    pub fn banner(&self, text: &str) {
        println!("{text}");
    }

    /// Starts a scene on `day`; with `--step`, after the first scene, waits
    /// for Enter first (or carries on if stdin is closed).
    pub fn scene(&mut self, day: NaiveDate, title: &str) {
        if self.step && self.scenes > 0 {
            print!("\n   [Enter for the next scene] ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
        self.scenes += 1;
        self.actor = None;
        println!("\n── {} · {title}", day.format("%A %-d %B"));
    }

    /// A line about the scene as a whole (not one device's action).
    pub fn narrate(&mut self, text: &str) {
        self.actor = None;
        println!("   {text}");
    }

    /// One action of `device`, under its name (printed when the actor
    /// changes).
    pub fn act(&mut self, device: &Device, text: &str) {
        if self.actor != Some(device.name()) {
            self.actor = Some(device.name());
            let state = if device.is_online() {
                ""
            } else {
                "  (offline)"
            };
            println!("   {} — {}{state}", device.name(), device.profile.person);
        }
        println!("       {text}");
    }

    /// Syncs `device` and shows what the session did.
    pub fn sync(&mut self, device: &Device) -> Result<Synced, Box<dyn std::error::Error>> {
        let synced = device.sync()?;
        match &synced {
            Synced::Report(report) => self.act(device, &format!("⇅ syncs: {}", describe(report))),
            Synced::Offline => self.act(
                device,
                "⇅ tries to sync: no connection (Offline); the edits wait safely on the device",
            ),
        }
        Ok(synced)
    }
}
