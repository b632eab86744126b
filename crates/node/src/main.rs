//! The `switchyard-node` binary: resolves settings, opens the data folder, serves until Ctrl-C
//! or SIGTERM, then closes storage cleanly.

use std::process::ExitCode;

use clap::Parser;
use switchyard_node::config::Cli;
use switchyard_node::{run, Node};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
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
        println!("generated password for super user '{user}': {p}");
        println!("(shown once; change it with alter_user)");
    }
    let scheme = if node.tls.is_some() { "https" } else { "http" };
    println!("switchyard-node '{}' listening on {scheme}://{addr}", settings.node.node_name);
    if let Some(t) = &node.tls {
        println!("TLS certificate SHA-256: {}", t.fingerprint);
    }
    println!("data folder: {}", settings.node.data_dir.display());
    let shutdown = async {
        #[cfg(unix)]
        let term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => Some(async move { term.recv().await }),
            Err(e) => {
                eprintln!("switchyard-node: cannot handle SIGTERM ({e}); stop it with Ctrl-C");
                None
            }
        };
        #[cfg(not(unix))]
        let term: Option<std::future::Pending<()>> = None;
        stop_requested(tokio::signal::ctrl_c(), term).await;
    };
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
    println!("switchyard-node stopped");
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
