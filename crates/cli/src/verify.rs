//! `switchyard verify`: whether channels hold the same records on the given nodes (digests, or
//! every record read where a node keeps none), with progress on a terminal and Ctrl-C to
//! cancel; exit 0 in sync, 2 when they differ (or replication is still bringing writes), 1 on
//! an error.

use switchyard_studio::verify::{Cell, CellState, Verdict};
use switchyard_studio::{topology, Registry};
use tokio_util::sync::CancellationToken;

use crate::out::{fail, Colour, Failed, Out};
use crate::registry::named;

fn cell_words(c: &Cell) -> String {
    let state = match c.state {
        CellState::Live => "live",
        CellState::Deleted => "deleted",
        CellState::Absent => "absent",
    };
    match (&c.version, &c.origin) {
        (Some(v), Some(o)) => format!("{state} v{v} from {o}"),
        (Some(v), None) => format!("{state} v{v}"),
        _ => state.to_string(),
    }
}

/// Answers whether every channel is in sync.
pub async fn run(registry: &Registry, out: &Out, json: bool, channels: Vec<String>, nodes: Vec<String>) -> Result<bool, Failed> {
    let names = if nodes.is_empty() { registry.list()?.into_iter().map(|s| s.name).collect() } else { nodes };
    let mut ids = Vec::new();
    for n in &names {
        ids.push(named(registry, n)?.id);
    }
    if ids.len() < 2 {
        return fail("verify compares two or more instances (--nodes a,b)");
    }
    let members = switchyard_studio::verify_members(registry, &ids).await?;
    let view = topology::build(&switchyard_studio::observe(registry).await?);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let progress = |share: f64| out.progress(&format!("verifying {} … {:.0} %", channels.join(", "), share * 100.0));
    let (report, _) = switchyard_studio::verify::verify(&members, &channels, &view, &cancel, &progress).await;
    out.progress_done();
    if cancel.is_cancelled() {
        return fail("cancelled");
    }
    if json {
        out.line(&serde_json::to_string(&report)?)?;
    } else {
        for c in &report.channels {
            let (word, colour) = match c.verdict {
                Verdict::InSync => ("in sync", Colour::Green),
                Verdict::InFlight => ("in flight", Colour::Yellow),
                Verdict::Differs => ("DIFFERS", Colour::Red),
                Verdict::Failed => ("FAILED", Colour::Red),
            };
            let counts: Vec<String> = c.nodes.iter().map(|n| format!("{} {}", n.name, n.count)).collect();
            out.line(&format!("{}\t{}\t{} (scanned {}; {})", c.channel, out.paint(word, colour), if c.differing > 0.0 { format!("{} differing", c.differing) } else { "0 differing".into() }, c.scanned, counts.join(", ")))?;
            if let Some(e) = &c.error {
                out.line(&format!("  {}", out.paint(e, Colour::Red)))?;
            }
            for row in &c.rows {
                let cells: Vec<String> = c.nodes.iter().zip(&row.cells).enumerate().map(|(i, (n, cell))| {
                    let mark = if row.winner == Some(i as u32) { " (winner)" } else if row.behind.contains(&(i as u32)) { " (behind)" } else { "" };
                    format!("{}: {}{mark}", n.name, cell_words(cell))
                }).collect();
                let flight = if row.in_flight { out.paint(" in flight", Colour::Dim) } else { String::new() };
                out.line(&format!("  key {}{flight} · {}", row.key, cells.join(" · ")))?;
            }
            let more = c.differing as usize - c.rows.len().min(c.differing as usize);
            if more > 0 || c.truncated {
                out.line(&format!("  … {more} more not shown{}", if c.truncated { " (the listing stopped at its bound; more may differ)" } else { "" }))?;
            }
        }
        out.line(&report.summary)?;
    }
    match report.verdict {
        Verdict::InSync => Ok(true),
        Verdict::InFlight | Verdict::Differs => Ok(false),
        Verdict::Failed => fail(format!("verify failed: {}", report.summary)),
    }
}
