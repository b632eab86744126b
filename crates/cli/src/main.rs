//! `switchyard`, the command line over switchyard-studio: the instances of a registry, a
//! cluster's wiring exported, planned and applied (exit 2 when a plan has changes), Verify,
//! a node's tail as NDJSON and SQL. Passwords come from the keychain as the studio keeps them,
//! or, for scripts and CI, from `SWITCHYARD_PASSWORD_<NAME>` (the instance name upper-cased,
//! other characters as `_`).

mod instances;
mod out;
mod registry;
mod tail;
mod verify;
mod wiring;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use out::{Failed, Out};

const EXAMPLES: &str = "Examples:
  switchyard instances add hq https://hq.example:9925 --username admin --password-stdin < pw.txt
  switchyard instances list
  switchyard wiring export > cluster.toml
  switchyard wiring plan cluster.toml --out plan.json   # exit 2: the cluster differs from the file
  switchyard wiring apply --plan plan.json               # refused if the cluster changed since
  switchyard verify factory:sensor_data --nodes hq,edge-1,edge-2
  switchyard tail factory:sensor_data --node hq --from 0 | jq .data
  switchyard sql --node hq \"SELECT COUNT(*) AS n FROM factory.sensor_data\"

Exit codes: 0 done; 1 an error (said on stderr); 2 a plan has changes, or verify found
differences.

The instances are the studio's (its registry and keychain; the studio reads its list when it
starts), or --registry FILE (a JSON list of {id, name, url, username, kind}, or the studio's
instances.json). A password in SWITCHYARD_PASSWORD_<NAME> is used before the keychain. Output is
coloured only on a terminal, never with NO_COLOR set; progress goes to stderr, only on a
terminal.";

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
    /// The registered instances: list, add, test, remove.
    Instances {
        #[command(subcommand)]
        command: Instances,
    },
    /// The cluster's links as a file: export, plan, apply.
    Wiring {
        #[command(subcommand)]
        command: WiringCommand,
    },
    /// Whether channels hold the same records on every node given; exit 2 when not.
    Verify {
        /// `database:table`, one or more.
        #[arg(required = true)]
        channels: Vec<String>,
        /// The instances to compare, by name (default: every registered one).
        #[arg(long, value_delimiter = ',')]
        nodes: Vec<String>,
    },
    /// A node's channel traffic as NDJSON, one transaction per line, then live.
    Tail {
        /// `database:table`, one or more.
        #[arg(required = true)]
        channels: Vec<String>,
        /// The instance, by name.
        #[arg(long)]
        node: String,
        /// Every transaction after this log id first (0: the whole log), instead of the recent ones.
        #[arg(long)]
        from: Option<i64>,
        /// Recent transactions per channel shown first (without --from).
        #[arg(long, default_value_t = 0)]
        window: u32,
        /// Only these operations (insert, update, upsert, delete).
        #[arg(long = "op", value_delimiter = ',')]
        operations: Vec<String>,
        /// Only transactions whose records or origin contain this text (any case).
        #[arg(long)]
        grep: Option<String>,
        /// Stop after this many transactions.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Runs one SQL statement on an instance and prints its rows (one JSON object a line).
    Sql {
        /// The instance, by name.
        #[arg(long)]
        node: String,
        statement: String,
    },
    /// Prints a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum Instances {
    /// Lists them with whether each answers.
    List,
    /// Registers an instance once it answers with these credentials. The password is read from
    /// SWITCHYARD_PASSWORD_<NAME> (then never stored) or from stdin (then kept in the keychain).
    Add {
        name: String,
        /// http(s)://host:port of its Operations API.
        url: String,
        #[arg(long)]
        username: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// Add it without asking it first (it may be down now).
        #[arg(long)]
        no_test: bool,
    },
    /// Asks one instance; exit 1 when it does not answer.
    Test { name: String },
    /// Forgets an instance and its password.
    Remove { name: String },
}

#[derive(Subcommand)]
enum WiringCommand {
    /// Prints the live cluster's wiring (TOML, no password in it).
    Export,
    /// Says what making FILE true would change; exit 2 when anything would.
    Plan {
        file: PathBuf,
        /// Save the plan for `apply --plan` (what it saw of the cluster, no password).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Makes FILE true (what `plan` lists), or a saved plan, with the canvas's undo on failure.
    Apply {
        #[arg(required_unless_present = "plan", conflicts_with = "plan")]
        file: Option<PathBuf>,
        /// A plan saved by `plan --out`: refused when the cluster changed since.
        #[arg(long)]
        plan: Option<PathBuf>,
    },
}

async fn run(cli: Cli, out: &Out) -> Result<ExitCode, Failed> {
    let ok = Ok(ExitCode::SUCCESS);
    let changes = |c: bool| Ok(if c { ExitCode::from(2) } else { ExitCode::SUCCESS });
    if let Command::Completions { shell } = cli.command {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "switchyard", &mut text);
        out.line(String::from_utf8_lossy(&text).trim_end_matches('\n'))?;
        return ok;
    }
    let registry = registry::open(cli.registry.as_ref())?;
    let json = cli.json;
    match cli.command {
        Command::Instances { command } => {
            match command {
                Instances::List => instances::list(&registry, out, json).await?,
                Instances::Add { name, url, username, password_stdin, no_test } => instances::add(&registry, out, json, instances::Add { name, url, username, password_stdin, no_test }).await?,
                Instances::Test { name } => instances::test(&registry, out, json, &name).await?,
                Instances::Remove { name } => instances::remove(&registry, out, &name)?,
            }
            ok
        }
        Command::Wiring { command } => match command {
            WiringCommand::Export => {
                wiring::export(&registry, out).await?;
                ok
            }
            WiringCommand::Plan { file, out: save } => changes(wiring::plan(&registry, out, json, &file, save.as_deref()).await?),
            WiringCommand::Apply { file, plan } => {
                wiring::apply(&registry, out, json, file.as_deref(), plan.as_deref()).await?;
                ok
            }
        },
        Command::Verify { channels, nodes } => changes(!verify::run(&registry, out, json, channels, nodes).await?),
        Command::Tail { channels, node, from, window, operations, grep, count } => {
            tail::run(&registry, out, tail::TailArgs { channels, node, from, window, operations, grep, count }).await?;
            ok
        }
        Command::Sql { node, statement } => {
            let spec = registry::named(&registry, &node)?;
            let client = registry.client(&spec.id)?;
            let rows = client.call(&serde_json::json!({"operation": "sql", "sql": statement})).await?;
            match rows.as_array() {
                Some(rows) if !json => {
                    for r in rows {
                        out.line(&r.to_string())?;
                    }
                }
                _ => out.line(&rows.to_string())?,
            }
            ok
        }
        Command::Completions { .. } => ok,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out::new();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchyard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli, &out)) {
        Ok(code) => code,
        // The reader of stdout went away (`| head`): a normal end.
        Err(Failed::Closed) => ExitCode::SUCCESS,
        Err(Failed::Error(why)) => {
            out.progress_done();
            eprintln!("switchyard: {why}");
            ExitCode::FAILURE
        }
    };
    // A tail's connection tasks are not waited for.
    runtime.shutdown_background();
    code
}
