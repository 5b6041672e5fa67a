//! The `lynchpin-server` command line: serve, or make an invite.
//!
//! ```text
//! lynchpin-server --data DIR [--listen ADDR] [limits…]   serve the API
//! lynchpin-server invite --data DIR [--label TEXT] [--valid-hours N]
//! ```
//!
//! Once listening, the server prints exactly one line to stdout,
//! `lynchpin-server listening on ADDR` (tests and scripts read it), and logs
//! everything else with `tracing` to stderr (`RUST_LOG`, default `info`).
//! `invite` prints only the code. Everything else lives in the library.

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Args, Parser, Subcommand};
use lynchpin_server::{
    Limits,
    invite::{self, DEFAULT_VALID_HOURS},
    now_ms,
    storage::{NewInvite, ServerStore, sqlite::SqliteStore},
};
use tracing_subscriber::EnvFilter;

/// The Lynchpin relay server.
#[derive(Debug, Parser)]
#[command(
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a one-time invite code for a device to enrol with.
    Invite(InviteArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The data directory (created if needed).
    #[arg(long, required = true)]
    data: Option<PathBuf>,
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = Limits::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// The most documents in one sync request.
    #[arg(long, default_value_t = Limits::DEFAULT_MAX_DOCUMENTS_PER_REQUEST)]
    max_documents_per_request: usize,
    /// The most requests per device per minute.
    #[arg(long, default_value_t = Limits::DEFAULT_REQUESTS_PER_MINUTE)]
    requests_per_minute: u32,
    /// How many days access-log entries are kept.
    #[arg(long, default_value_t = Limits::DEFAULT_ACCESS_LOG_RETENTION_DAYS)]
    access_log_days: u32,
}

#[derive(Debug, Args)]
struct InviteArgs {
    /// The data directory of the server.
    #[arg(long)]
    data: PathBuf,
    /// A note for the admin about whom the invite is for (stored, never logged).
    #[arg(long)]
    label: Option<String>,
    /// How long the invite stays valid.
    #[arg(long, default_value_t = DEFAULT_VALID_HOURS)]
    valid_hours: u32,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Invite(args)) => make_invite(&args),
        None => serve(&cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[allow(clippy::print_stdout)]
fn make_invite(args: &InviteArgs) -> Result<(), BoxError> {
    let store = SqliteStore::open(&args.data)?;
    let code = invite::generate_code()?;
    let hash = invite::code_hash(&code).ok_or("a generated code did not normalise")?;
    let created_ms = now_ms();
    let valid_ms = u64::from(args.valid_hours).saturating_mul(3_600_000);
    store.create_invite(&NewInvite {
        code_hash: hash,
        label: args.label.clone(),
        created_ms,
        expires_ms: created_ms.saturating_add(valid_ms),
    })?;
    tracing::info!(valid_hours = args.valid_hours, "invite created");
    println!("{code}");
    Ok(())
}

/// Threads for blocking storage work. Every storage call takes the one
/// SQLite connection's lock, so more threads only wait on it. With tokio's
/// default (512), 200 devices syncing at once started 200 threads; each
/// thread that answered a large request kept that memory in its own malloc
/// arena, and the server peaked near 280 MB instead of under 60 MB
/// (BENCHMARKS-sync.md). Requests beyond this wait in tokio's queue.
const MAX_BLOCKING_THREADS: usize = 2;

#[allow(clippy::print_stdout)]
fn serve(args: &ServeArgs) -> Result<(), BoxError> {
    let data = args.data.as_ref().ok_or("--data is required")?;
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_documents_per_request: args.max_documents_per_request,
        requests_per_minute: args.requests_per_minute,
        access_log_retention_days: args.access_log_days,
    };
    let store: Arc<dyn ServerStore> = Arc::new(SqliteStore::open(data)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let addr = listener.local_addr()?;
        println!("lynchpin-server listening on {addr}");
        tracing::info!(%addr, server = %lynchpin_server::short_id(&store.server_id()), "listening");
        lynchpin_server::serve(listener, store, limits, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_needs_data_and_invite_takes_its_own_flags() {
        let cli =
            Cli::try_parse_from(["lynchpin-server", "--data", "d", "--listen", "127.0.0.1:0"])
                .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.listen.port(), 0);
        assert_eq!(cli.serve.requests_per_minute, 600);
        assert!(Cli::try_parse_from(["lynchpin-server"]).is_err());
        let cli = Cli::try_parse_from(["lynchpin-server", "invite", "--data", "d", "--label", "x"])
            .unwrap();
        match cli.command {
            Some(Command::Invite(args)) => {
                assert_eq!(args.valid_hours, 72);
                assert_eq!(args.label.as_deref(), Some("x"));
            }
            None => panic!("expected the invite command"),
        }
        let cli = Cli::try_parse_from([
            "lynchpin-server",
            "--data",
            "d",
            "--max-body-bytes",
            "10",
            "--max-documents-per-request",
            "2",
            "--requests-per-minute",
            "5",
        ])
        .unwrap();
        assert_eq!(cli.serve.max_body_bytes, 10);
        assert_eq!(cli.serve.max_documents_per_request, 2);
    }
}
