//! `switchyard wiring export|plan|apply`: the cluster's links as a file, what making a file true
//! would change (exit 2 when anything), and applying it, from the file or from a saved plan,
//! which is refused when the cluster changed since it was made.

use std::path::Path;

use serde::{Deserialize, Serialize};
use switchyard_studio::wiring::{live_of, Change, Wiring, WiringPlan};
use switchyard_studio::Registry;

use crate::out::{fail, Colour, Failed, Out};
use crate::registry::clients;

/// A plan saved for review (`plan --out`): the wanted wiring and the live one it was made
/// against. No password: the link users' passwords are made when it is applied.
#[derive(Serialize, Deserialize)]
struct SavedPlan {
    version: u32,
    wanted: String,
    seen: String,
    changes: Vec<String>,
}

const SAVED_VERSION: u32 = 1;

fn read(path: &Path) -> Result<String, Failed> {
    std::fs::read_to_string(path).map_err(|e| Failed::Error(format!("{}: {e}", path.display())))
}

fn change_line(out: &Out, c: &Change) -> String {
    let words = c.words();
    match c {
        Change::Add(_) => out.paint(&words, Colour::Green),
        Change::Remove(_) => out.paint(&words, Colour::Red),
        Change::Change { .. } => out.paint(&words, Colour::Yellow),
    }
}

/// The live cluster's wiring and its parties by file name; what it leaves out is said on stderr.
async fn live(registry: &Registry) -> Result<(Wiring, std::collections::BTreeMap<String, switchyard_studio::links::Party>), Failed> {
    let (live, parties, left_out) = live_of(clients(registry)?).await?;
    for l in &left_out {
        eprintln!("switchyard: left out: {l}");
    }
    Ok((live, parties))
}

pub async fn export(registry: &Registry, out: &Out) -> Result<(), Failed> {
    let (live, _) = live(registry).await?;
    let text = live.to_toml()?;
    out.line(text.trim_end_matches('\n'))
}

/// Answers whether the plan has changes (exit 2).
pub async fn plan(registry: &Registry, out: &Out, json: bool, file: &Path, save: Option<&Path>) -> Result<bool, Failed> {
    let wanted_text = read(file)?;
    let wanted = Wiring::parse(&wanted_text)?;
    let (live, parties) = live(registry).await?;
    let plan = WiringPlan::make(&wanted, &live, &parties).await?;
    if json {
        let requests: Vec<_> = plan.plans.iter().enumerate().map(|(i, p)| p.preview(&i.to_string())).collect();
        out.line(&serde_json::json!({"changes": plan.changes.iter().map(|c| c.words()).collect::<Vec<_>>(), "requests": requests}).to_string())?;
    } else {
        for c in &plan.changes {
            out.line(&change_line(out, c))?;
        }
    }
    if let Some(path) = save {
        let saved = SavedPlan { version: SAVED_VERSION, wanted: wanted.to_toml()?, seen: plan.seen.clone(), changes: plan.changes.iter().map(|c| c.words()).collect() };
        std::fs::write(path, serde_json::to_string_pretty(&saved)?).map_err(|e| Failed::Error(format!("{}: {e}", path.display())))?;
        eprintln!("switchyard: plan saved to {} (apply it with `switchyard wiring apply --plan {}`)", path.display(), path.display());
    }
    Ok(!plan.changes.is_empty())
}

/// Applies a wiring file, or a saved plan (refused when the cluster changed since).
pub async fn apply(registry: &Registry, out: &Out, json: bool, file: Option<&Path>, saved: Option<&Path>) -> Result<(), Failed> {
    let (wanted, seen) = match (file, saved) {
        (Some(f), None) => (Wiring::parse(&read(f)?)?, None),
        (None, Some(p)) => {
            let saved: SavedPlan = serde_json::from_str(&read(p)?).map_err(|e| Failed::Error(format!("{} is not a saved plan: {e}", p.display())))?;
            if saved.version != SAVED_VERSION {
                return fail(format!("{} is a plan of version {}; this switchyard reads version {SAVED_VERSION}", p.display(), saved.version));
            }
            (Wiring::parse(&saved.wanted)?, Some(saved.seen))
        }
        _ => return fail("give a wiring file or --plan FILE"),
    };
    let (live, parties) = live(registry).await?;
    let mut plan = WiringPlan::make(&wanted, &live, &parties).await?;
    if let Some(seen) = seen {
        // What the saved plan saw must still be what is live (`apply` refuses otherwise).
        plan.seen = seen;
    }
    let reports = plan.apply(&live).await?;
    let ok = reports.iter().all(|r| r.ok);
    for (c, r) in plan.changes.iter().zip(&reports) {
        if !json {
            out.line(&format!("{} {}", if r.ok { out.paint("applied", Colour::Green) } else { out.paint("FAILED", Colour::Red) }, c.words()))?;
        }
        for s in r.steps.iter().filter(|s| !s.ok) {
            eprintln!("switchyard: {} · {}: {}", s.instance_name, s.operation, s.message);
        }
        for u in &r.undone {
            eprintln!("switchyard: undone {} · {}: {}", u.instance_name, u.operation, u.message);
        }
        for left in &r.left_behind {
            eprintln!("switchyard: LEFT BEHIND (take it back by hand): {left}");
        }
    }
    if json {
        out.line(&serde_json::to_string(&reports)?)?;
    } else if plan.changes.is_empty() {
        out.line("nothing to do: the cluster is as the file says")?;
    }
    if ok {
        Ok(())
    } else {
        fail("not everything was applied (see above): what failed was undone, except anything listed as left behind")
    }
}
