//! A real `lynchpin-server` process on 127.0.0.1 for tests: started on a
//! free port with its own data folder, killed when dropped.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
};

/// The server binary, built on first use if the test run did not build it.
pub fn server_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let binary = crate::profile_dir().join("lynchpin-server");
            if binary.exists() {
                binary
            } else {
                crate::build_binary("lynchpin-server")
            }
        })
        .clone()
}

/// A running server process.
pub struct ServerProcess {
    child: Child,
    data: PathBuf,
    /// The address it listens on, `127.0.0.1:PORT`.
    pub addr: String,
}

impl ServerProcess {
    /// Starts a server on a free port with its data in `data`.
    pub fn start(data: &Path) -> Self {
        Self::start_on(data, "127.0.0.1:0")
    }

    /// Starts a server on a given address (to restart on the same port).
    pub fn start_on(data: &Path, listen: &str) -> Self {
        let mut child = Command::new(server_binary())
            .args(["--data"])
            .arg(data)
            .args(["--listen", listen])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start lynchpin-server");
        let stdout = child.stdout.take().expect("server stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .trim()
            .strip_prefix("lynchpin-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .to_owned();
        Self {
            child,
            data: data.to_path_buf(),
            addr,
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes a one-time invite code with the admin command.
    pub fn invite(&self) -> String {
        invite(&self.data)
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Makes a one-time invite code for the server whose data is in `data`.
pub fn invite(data: &Path) -> String {
    let output = Command::new(server_binary())
        .args(["invite", "--data"])
        .arg(data)
        .output()
        .expect("run lynchpin-server invite");
    assert!(output.status.success(), "invite failed: {output:?}");
    String::from_utf8(output.stdout)
        .expect("utf-8 invite")
        .trim()
        .to_owned()
}
