//! `switchyard tail`: a node's channel traffic as NDJSON on stdout (one transaction per line, as
//! the studio's tail holds it), from the recent window or `--from` a log id, then live, with
//! filters; what happens to the connection goes to stderr. Ends quietly when stdout's reader
//! goes (`| head`), after `--count` transactions, or when the node refuses every channel.

use std::collections::BTreeSet;

use switchyard_studio::instance::Instance;
use switchyard_studio::{Registry, TailEvent, TailRecord, TailRequest};

use crate::out::{fail, Failed, Out};
use crate::registry::named;

pub struct TailArgs {
    pub channels: Vec<String>,
    pub node: String,
    pub from: Option<i64>,
    pub window: u32,
    pub operations: Vec<String>,
    pub grep: Option<String>,
    pub count: Option<u64>,
}

fn wanted(a: &TailArgs, grep: Option<&str>, r: &TailRecord) -> bool {
    (a.operations.is_empty() || a.operations.iter().any(|o| o == &r.operation))
        && grep.is_none_or(|g| r.data.get().to_lowercase().contains(g) || r.origin.to_lowercase().contains(g))
}

pub async fn run(registry: &Registry, out: &Out, a: TailArgs) -> Result<(), Failed> {
    let spec = named(registry, &a.node)?;
    let (instance, _) = Instance::online(registry, &spec.id).await?;
    let mut request = TailRequest::new(a.channels.clone());
    request.window = a.window;
    request.from = a.from;
    let (mut tail, operations) = instance.tail(registry, request)?;
    if let Some(bad) = a.operations.iter().find(|o| !operations.contains(&o.as_str())) {
        return fail(format!("--op {bad}: {} tails carry {}", spec.name, operations.join(", ")));
    }
    let grep = a.grep.as_ref().map(|g| g.to_lowercase());
    let mut refused = BTreeSet::new();
    let mut shown = 0u64;
    if a.count == Some(0) {
        return Ok(());
    }
    while let Some(event) = tail.next().await {
        match event {
            TailEvent::Record(r) => {
                if !wanted(&a, grep.as_deref(), &r) {
                    continue;
                }
                out.line(&serde_json::to_string(&r)?)?;
                shown += 1;
                if a.count.is_some_and(|c| shown >= c) {
                    return Ok(());
                }
            }
            TailEvent::Live => out.progress(&format!("live on {} · {}", spec.name, a.channels.join(", "))),
            TailEvent::Reconnecting { error, retry_in_ms } => {
                out.progress_done();
                eprintln!("switchyard: connection lost ({error}); again in {:.1} s", retry_in_ms as f64 / 1000.0);
            }
            TailEvent::Healed { channel, count } => eprintln!("switchyard: {channel}: {count} missed transactions read from the log"),
            TailEvent::Gap { channel, after, before, reason } => {
                let upto = before.map(|b| format!(" up to #{b}")).unwrap_or_default();
                eprintln!("switchyard: {channel}: GAP after #{after}{upto}: {reason}");
            }
            TailEvent::Refused { channel, reason } => {
                eprintln!("switchyard: {channel} refused: {reason}");
                refused.insert(channel);
                if refused.len() == a.channels.len() {
                    return fail("every channel was refused");
                }
            }
            TailEvent::NotExported { channel } => {
                eprintln!("switchyard: {channel}: this HarperDB publishes nothing of the table (export it from the studio's tail)");
                refused.insert(channel);
                if refused.len() == a.channels.len() {
                    return fail("nothing to tail");
                }
            }
            TailEvent::Failed { reason } => return fail(format!("the tail stopped: {reason}")),
        }
    }
    Ok(())
}
