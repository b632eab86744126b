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
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
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
