//! `switchyard`, the command line over switchyard-studio: the instances of a registry, a
//! cluster's wiring exported, planned and applied (exit 2 when a plan has changes), and SQL on a
//! node. Passwords come from the keychain as the studio keeps them, or, for scripts and CI, from
//! `SWITCHYARD_PASSWORD_<NAME>` (the instance name upper-cased, other characters as `_`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchyard_client::{Credentials, OpsClient};
use switchyard_studio::wiring::{live_of, Wiring, WiringPlan};
use switchyard_studio::{InstanceSpec, Keychain, Registry, RegistryStorage};

const EXAMPLES: &str = "Examples:
  switchyard instances list
  switchyard wiring export > cluster.toml
  switchyard wiring plan cluster.toml      # exit 2: the cluster differs from the file
  switchyard wiring apply cluster.toml
  switchyard sql --node hq \"SELECT COUNT(*) AS n FROM factory.sensor_data\"

The instances are the studio's (its registry and keychain), or --registry FILE (a JSON list of
{id, name, url, username, kind}, or the studio's instances.json) with each password in
SWITCHYARD_PASSWORD_<NAME>.";

#[derive(Parser)]
#[command(name = "switchyard", version, about = "The Switchyard studio from a terminal", after_help = EXAMPLES)]
struct Cli {
    /// The instances: a JSON file instead of the studio's registry.
    #[arg(long, global = true, env = "SWITCHYARD_REGISTRY")]
    registry: Option<PathBuf>,
    /// Machine output (JSON) instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The registered instances.
    Instances {
        #[command(subcommand)]
        command: Instances,
    },
    /// The cluster's links as a file: export, plan, apply.
    Wiring {
        #[command(subcommand)]
        command: WiringCommand,
    },
    /// Runs one SQL statement on an instance and prints its rows.
    Sql {
        /// The instance, by name.
        #[arg(long)]
        node: String,
        statement: String,
    },
}

#[derive(Subcommand)]
enum Instances {
    /// Lists them with whether each answers.
    List,
}

#[derive(Subcommand)]
enum WiringCommand {
    /// Prints the live cluster's wiring (no password in it).
    Export,
    /// Says what making FILE true would change; exit 2 when anything would.
    Plan { file: PathBuf },
    /// Makes FILE true (what `plan` lists), with the canvas's undo on failure.
    Apply { file: PathBuf },
}

/// A failure to say, and the exit code it ends with.
struct Failed(String);

impl<E: std::fmt::Display> From<E> for Failed {
    fn from(e: E) -> Failed {
        Failed(e.to_string())
    }
}

/// The instance list as the studio keeps it (`{"instances": [...]}`) or a bare list.
struct FileStorage(PathBuf);

impl RegistryStorage for FileStorage {
    fn load(&self) -> switchyard_studio::Result<Vec<InstanceSpec>> {
        let text = std::fs::read_to_string(&self.0).map_err(|e| switchyard_studio::Error::Store(format!("{}: {e}", self.0.display())))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| switchyard_studio::Error::Store(format!("{} is not JSON: {e}", self.0.display())))?;
        let list = v.get("instances").cloned().unwrap_or(v);
        serde_json::from_value(list).map_err(|e| switchyard_studio::Error::Store(format!("{} is not a list of instances: {e}", self.0.display())))
    }

    fn save(&self, _: &[InstanceSpec]) -> switchyard_studio::Result<()> {
        Err(switchyard_studio::Error::Invalid("the command line does not change the instance list".into()))
    }
}

/// The studio's own instance list (the app's data folder), when no --registry is given.
fn studio_registry_file() -> Result<PathBuf, Failed> {
    let base = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    base.map(|b| b.join("dev.switchyard.studio/instances.json")).ok_or_else(|| Failed("no --registry, and no home folder to find the studio's instances in".into()))
}

/// `SWITCHYARD_PASSWORD_<NAME>` for an instance name.
fn password_env(name: &str) -> String {
    format!("SWITCHYARD_PASSWORD_{}", name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect::<String>())
}

/// Every instance with a client: its password from the environment, else the keychain.
fn instances(cli: &Cli) -> Result<Vec<(InstanceSpec, OpsClient)>, Failed> {
    let file = match &cli.registry {
        Some(f) => f.clone(),
        None => studio_registry_file()?,
    };
    let registry = Registry::open(Box::new(FileStorage(file)), Keychain::default())?;
    let mut out = Vec::new();
    for spec in registry.list()? {
        let client = match std::env::var(password_env(&spec.name)) {
            Ok(pw) => OpsClient::with_trust(spec.url.clone(), Credentials::basic(&spec.username, pw), std::time::Duration::from_secs(30), &spec.tls)?,
            Err(_) => registry.client(&spec.id)?,
        };
        out.push((spec, client));
    }
    Ok(out)
}

async fn run(cli: Cli) -> Result<ExitCode, Failed> {
    match &cli.command {
        Command::Instances { command: Instances::List } => {
            let mut rows = Vec::new();
            for (spec, client) in instances(&cli)? {
                let status = switchyard_studio::probe::status(&spec.id, &client).await;
                rows.push(serde_json::json!({"name": spec.name, "url": spec.url, "online": status.online, "version": status.version, "error": status.error.map(|e| e.message)}));
            }
            if cli.json {
                println!("{}", serde_json::Value::from(rows));
            } else {
                for r in rows {
                    let state = if r["online"] == true { format!("online {}", r["version"].as_str().unwrap_or("")) } else { format!("offline: {}", r["error"].as_str().unwrap_or("")) };
                    println!("{}\t{}\t{state}", r["name"].as_str().unwrap_or(""), r["url"].as_str().unwrap_or(""));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Wiring { command } => {
            let (live, parties, left_out) = live_of(instances(&cli)?).await?;
            for l in &left_out {
                eprintln!("switchyard: left out: {l}");
            }
            match command {
                WiringCommand::Export => {
                    print!("{}", live.to_toml()?);
                    Ok(ExitCode::SUCCESS)
                }
                WiringCommand::Plan { file } | WiringCommand::Apply { file } => {
                    let wanted = Wiring::parse(&std::fs::read_to_string(file).map_err(|e| Failed(format!("{}: {e}", file.display())))?)?;
                    let plan = WiringPlan::make(&wanted, &live, &parties).await?;
                    let apply = matches!(command, WiringCommand::Apply { .. });
                    if cli.json && !apply {
                        println!("{}", serde_json::json!({"changes": plan.changes.iter().map(|c| c.words()).collect::<Vec<_>>(), "requests": plan.plans.iter().enumerate().map(|(i, p)| p.preview(&i.to_string())).collect::<Vec<_>>()}));
                    } else {
                        for c in &plan.changes {
                            println!("{}", c.words());
                        }
                    }
                    if !apply {
                        return Ok(if plan.changes.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) });
                    }
                    let reports = plan.apply(&live).await?;
                    let ok = reports.iter().all(|r| r.ok);
                    for r in &reports {
                        for s in &r.steps {
                            eprintln!("{} {} · {}: {}", if s.ok { "ok" } else { "FAILED" }, s.instance_name, s.operation, s.message);
                        }
                        for u in &r.undone {
                            eprintln!("undone {} · {}: {}", u.instance_name, u.operation, u.message);
                        }
                    }
                    if ok {
                        println!("applied: {} link change{}", reports.len(), if reports.len() == 1 { "" } else { "s" });
                        Ok(ExitCode::SUCCESS)
                    } else {
                        Err(Failed("not everything was applied (see above)".into()))
                    }
                }
            }
        }
        Command::Sql { node, statement } => {
            let (_, client) = instances(&cli)?.into_iter().find(|(s, _)| &s.name == node).ok_or_else(|| Failed(format!("no instance named '{node}'")))?;
            let rows = client.call(&serde_json::json!({"operation": "sql", "sql": statement})).await?;
            match rows.as_array() {
                Some(rows) if !cli.json => {
                    for r in rows {
                        println!("{r}");
                    }
                }
                _ => println!("{rows}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(Failed(why)) => {
            eprintln!("switchyard: {why}");
            ExitCode::FAILURE
        }
    }
}

