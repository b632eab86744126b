//! The `switchyard-node` binary: resolves settings, opens the data folder, serves until Ctrl-C
//! or SIGTERM, then closes storage cleanly.

/// mimalloc instead of glibc's malloc: the write path allocates per record (JSON values, keys,
/// SQL arguments), and glibc spent ~20 % of an insert batch in malloc and free (BENCHMARKS.md,
/// "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;
use switchyard_node::config::Cli;
use switchyard_node::{run, Node};
use tokio::net::TcpListener;

/// A line on stdout that never panics: a closed stdout (a reader gone) must not stop a server.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[tokio::main]
async fn main() -> ExitCode {
    switchyard_node::without_huge_pages();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    match serve(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard-node: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.resolve()?;
    let listener = TcpListener::bind((settings.host.as_str(), settings.port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", settings.host, settings.port))?;
    let addr = listener.local_addr()?;
    let user = settings.node.admin_user.clone();
    let (node, generated) = Node::open(settings.node.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(p) = generated {
        say!("generated password for super user '{user}': {p}");
        say!("(shown once; change it with alter_user)");
    }
    // The handlers are in place before the address is printed: a SIGTERM sent as soon as the
    // node says it listens is a clean stop, not a kill.
    #[cfg(unix)]
    let (term, interrupt) = {
        use tokio::signal::unix::{signal, SignalKind};
        let term = match signal(SignalKind::terminate()) {
            Ok(mut term) => Some(async move { term.recv().await }),
            Err(e) => {
                eprintln!("switchyard-node: cannot handle SIGTERM ({e}); stop it with Ctrl-C");
                None
            }
        };
        (term, signal(SignalKind::interrupt()).ok())
    };
    #[cfg(not(unix))]
    let (term, interrupt): (Option<std::future::Pending<()>>, Option<()>) = (None, None);
    let ctrl_c = async move {
        #[cfg(unix)]
        if let Some(mut i) = interrupt {
            i.recv().await;
            return;
        }
        #[cfg(not(unix))]
        let _ = interrupt;
        let _ = tokio::signal::ctrl_c().await;
    };
    let shutdown = stop_requested(ctrl_c, term);
    let scheme = if node.tls.is_some() { "https" } else { "http" };
    say!("switchyard-node '{}' listening on {scheme}://{addr}", settings.node.node_name);
    if let Some(t) = &node.tls {
        say!("TLS certificate SHA-256: {}", t.fingerprint);
    }
    say!("data folder: {}", settings.node.data_dir.display());
    node.start_background().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let stop = node.shutdown.clone();
    run(listener, node.clone(), async move {
        tokio::select! {
            _ = shutdown => stop.cancel(),
            _ = stop.cancelled() => {}
        }
    })
    .await?;
    node.stop().await;
    say!("switchyard-node stopped");
    Ok(())
}

/// Resolves on Ctrl-C or on SIGTERM; on Ctrl-C alone when SIGTERM could not be handled.
async fn stop_requested<C: std::future::Future, T: std::future::Future>(ctrl_c: C, term: Option<T>) {
    match term {
        Some(term) => tokio::select! { _ = ctrl_c => {}, _ = term => {} },
        None => {
            let _ = ctrl_c.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stop_requested;
    use std::future::{pending, ready};
    use std::time::Duration;

    #[tokio::test]
    async fn ctrl_c_stops_the_node_also_without_a_sigterm_handler() {
        let wait = Duration::from_secs(5);
        let without_term = tokio::time::timeout(wait, stop_requested(ready(()), None::<std::future::Pending<()>>)).await;
        assert!(without_term.is_ok(), "Ctrl-C is heard when SIGTERM has no handler");
        let by_term = tokio::time::timeout(wait, stop_requested(pending::<()>(), Some(ready(())))).await;
        assert!(by_term.is_ok(), "SIGTERM is heard");
        let neither = tokio::time::timeout(Duration::from_millis(50), stop_requested(pending::<()>(), Some(pending::<()>()))).await;
        assert!(neither.is_err(), "nothing stops the node until a signal comes");
    }
}
