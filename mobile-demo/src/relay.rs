//! The relay for the demo: a real `lynchpin-server` running in this process,
//! on a free port of 127.0.0.1, with its data in a folder of its own.
//!
//! It is the same library the `lynchpin-server` binary runs
//! ([`lynchpin_server::serve`] over [`SqliteStore`]), on a tokio runtime of
//! its own thread, so the devices reach it over real HTTP exactly as they
//! would reach a relay on another machine. Invites are made the way the
//! server's `invite` command makes them. Nothing here prints.

use std::{
    error::Error,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use lynchpin_server::{
    Limits,
    invite::{self, DEFAULT_VALID_HOURS},
    now_ms,
    storage::{NewInvite, ServerStore, sqlite::SqliteStore},
};

/// How often the server checks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(20);

/// A relay server running on a thread of this process; stopped when dropped.
pub struct Relay {
    store: Arc<SqliteStore>,
    addr: SocketAddr,
    data: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Relay {
    /// Opens (or creates) the server's database in `data` and starts serving
    /// on a free port of 127.0.0.1.
    pub fn start(data: &Path) -> Result<Self, Box<dyn Error>> {
        let store = Arc::new(SqliteStore::open(data)?);
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        // Two workers and two blocking threads, as the server binary uses:
        // the machine is shared with the devices' own work.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(2)
            .enable_all()
            .build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let served: Arc<dyn ServerStore> = store.clone();
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("relay".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let shutdown = async move {
                        while !stopping.load(Ordering::Relaxed) {
                            tokio::time::sleep(STOP_POLL).await;
                        }
                    };
                    lynchpin_server::serve(listener, served, Limits::default(), shutdown).await
                })
            })?;
        Ok(Self {
            store,
            addr,
            data: data.to_path_buf(),
            stop,
            thread: Some(thread),
        })
    }

    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The folder holding the server's database.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// A one-time invite code for one device, as `lynchpin-server invite`
    /// makes it: only its hash is stored.
    pub fn invite(&self, label: &str) -> Result<String, Box<dyn Error>> {
        let code = invite::generate_code()?;
        let code_hash =
            invite::code_hash(&code).ok_or("a generated invite code did not normalise")?;
        let created_ms = now_ms();
        self.store.create_invite(&NewInvite {
            code_hash,
            label: Some(label.to_owned()),
            created_ms,
            expires_ms: created_ms + u64::from(DEFAULT_VALID_HOURS) * 3_600_000,
        })?;
        Ok(code)
    }

    /// Stops serving, lets the requests in flight finish and waits for the
    /// server's thread.
    pub fn stop(mut self) -> Result<(), Box<dyn Error>> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), Box<dyn Error>> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(served)) => Ok(served?),
            Some(Err(_)) => Err("the relay's thread panicked".into()),
            None => Ok(()),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}
