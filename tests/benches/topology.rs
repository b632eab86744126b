//! The Cluster view at 100 nodes and 300 links (or `-- --nodes N --links M`: a fleet's 1,000 and
//! 3,000), in the release app under Xvfb through WebDriver.
//! The topology is synthetic: made-up cluster_status answers of 100 instances, joined by the
//! studio's own `topology::build` (the same code the app runs on real answers) and fed to the
//! canvas's store through its bench hook. Measured: the time from opening the view to the first
//! paint of every node and edge, and the longest frame (gap between animation frames) while a node
//! is dragged, while the canvas is panned, and while poll answers arrive (three unchanged, three
//! with a tenth of the edges carrying). Targets: < 300 ms and < 50 ms. Then the view is
//! left and opened again (the second open in one process, for what the first pays once).
//!
//! Run: `cargo build --release -p switchyard-app` then
//! `SWITCHYARD_STUDIO_BIN=target/release/switchyard-studio cargo bench -p switchyard-e2e --bench topology`.
//! Also printed: the studio's CPU time per frame (its processes' from /proc, over the frames seen),
//! which the machine's other load changes less than the frames' spacing. To learn what a part of
//! the view costs, `TOPOLOGY_BENCH_CSS` (a style sheet, e.g. `.react-flow__minimap{display:none}`)
//! and `TOPOLOGY_BENCH_JS` (a script) are applied before the view opens.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::json;
use switchyard_e2e::studio::{processes_named, StudioApp};
use switchyard_protocol::ops::{ChannelStatus, ClusterStatus, LinkState, LinkStatus, NodeSubscription, ReceiverStatus};
use switchyard_protocol::tls::Trust;
use switchyard_studio::topology::{self, Observed, TopologyView};
use switchyard_studio::{InstanceKind, InstanceSpec, InstanceStatus};

const T: Duration = Duration::from_secs(60);
/// The size by default: `--nodes` and `--links` change it.
const NODES: usize = 100;
const LINKS: usize = 300;

/// The value after `--name` on the command line, or `default`.
fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `nodes` instances with 10 tables each; `links` links, each pulling one channel from another
/// node.
fn synthetic(nodes: usize, links: usize) -> TopologyView {
    let name = |i: usize| if nodes > 100 { format!("n{i:03}") } else { format!("n{i:02}") };
    let mut connections: Vec<Vec<LinkStatus>> = vec![Vec::new(); nodes];
    let mut receivers: Vec<Vec<ReceiverStatus>> = vec![Vec::new(); nodes];
    for l in 0..links {
        // Every link joins a different pair: offsets 1, 18, 35, … from the dialler.
        let dialer = l % nodes;
        let peer = (dialer + 1 + 17 * (l / nodes)) % nodes;
        let channel = format!("dev:t{}", l % 10);
        // The source's view of the dialler's pull: its backlog and lag in time (drawn on the edge).
        receivers[peer].push(ReceiverStatus { peer: name(dialer), channel: channel.clone(), acknowledged: l as i64 * 10, backlog: (l % 5) as i64 * 3, lag_ms: (l % 7) as f64 * 900.0 });
        connections[dialer].push(LinkStatus {
            name: name(peer),
            host: "127.0.0.1".into(),
            port: 10_000 + peer as u16,
            tls: false,
            // Every 17th retrying after a failure: a failing link, warned and drawn so.
            state: if l % 17 == 0 { LinkState::Connecting } else { LinkState::Open },
            since: 0.0,
            latency_ms: Some(1.0),
            last_error: (l % 17 == 0).then(|| "connection refused".to_string()),
            refused_by: None,
            subscriptions: vec![NodeSubscription { channel: channel.parse().expect("a channel"), subscribe: true, publish: false }],
            channels: vec![ChannelStatus {
                channel,
                subscribe: true,
                publish: false,
                last_received: Some(l as i64 * 10),
                last_sent: None,
                last_acknowledged: None,
                local_head: 0,
                backlog: 0,
                gaps: 0,
                error: None,
                entries_received: l as u64 * 10,
                entries_sent: 0,
            }],
        });
    }
    let observed: Vec<Observed> = connections
        .into_iter()
        .zip(receivers)
        .enumerate()
        .map(|(i, (connections, receivers))| Observed {
            spec: InstanceSpec { id: format!("id-{i}"), name: name(i), url: format!("http://127.0.0.1:{}", 10_000 + i), username: "admin".into(), kind: InstanceKind::Remote, tls: Trust::System, port: None },
            status: InstanceStatus {
                id: format!("id-{i}"),
                online: true,
                latency_ms: Some(1.0),
                version: Some("0.1.0".into()),
                server_kind: Some(switchyard_client::ServerKind::SwitchyardNode),
                node_name: Some(name(i)),
                error: None,
                certificate_fingerprint: None,
            },
            channels: (0..10).map(|t| format!("dev:t{t}")).collect(),
            channels_last_known: false,
            cluster: Ok(ClusterStatus { kind: "cluster-status".into(), node_name: name(i), is_enabled: true, read_only: None, connections, receivers, log_head: 0 }),
            harperdb: None,
        })
        .collect();
    topology::build(&observed)
}

/// Opens the view on the preloaded store and answers the ms until the canvas is painted: nodes
/// and edges drawn (those in view; zoomed out, edges are the segments of one layer's paths)
/// and steady for two frames.
const FIRST_PAINT: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.now();
document.querySelector('[data-testid=open-cluster]').click();
const clicked = performance.now() - t0;
let last = -1, steady = 0, at = 0, first = 0, frames = 0;
const check = () => {
  frames += 1;
  const n = document.querySelectorAll('.react-flow__node').length;
  // Edges: xyflow's own (zoomed in), or the segments of the zoomed-out layer's paths.
  const far = [...document.querySelectorAll('[data-testid=topo-far-edges] path')].reduce((k, p) => k + (p.getAttribute('d').match(/M/g) || []).length, 0);
  const e = document.querySelectorAll('.react-flow__edge').length + far;
  if (n > 0 && !first) first = performance.now() - t0;
  if (n > 0 && e > 0 && n === last) {
    if (steady === 0) at = performance.now();
    steady += 1;
  } else steady = 0;
  last = n;
  if (steady >= 2) done([at - t0, n, e, first, frames, clicked]); else requestAnimationFrame(check);
};
requestAnimationFrame(check);
"#;

/** The test id of the node whose centre is nearest the canvas's centre. */
const NEAREST_NODE: &str = r#"
const pane = document.querySelector('.react-flow__pane').getBoundingClientRect();
const [cx, cy] = [pane.x + pane.width / 2, pane.y + pane.height / 2];
let best = null, dist = Infinity;
for (const n of document.querySelectorAll('.topo-node')) {
  const r = n.getBoundingClientRect();
  const d = Math.hypot(r.x + r.width / 2 - cx, r.y + r.height / 2 - cy);
  if (d < dist) { dist = d; best = n.dataset.testid; }
}
return best;
"#;

/// CPU time (ms) the studio's processes (the app and its WebKit processes, not the driver) have
/// used so far: a frame's work measured apart from how the machine paced the frames.
fn studio_cpu_ms() -> f64 {
    let mut ticks = 0u64;
    for dir in processes_named(&["switchyard-stud", "WebKitWebProces", "WebKitNetworkPr"]) {
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // utime and stime: the 12th and 13th fields after the command's closing parenthesis.
        let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
        ticks += fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    ticks as f64 * 1000.0 / clock_ticks_per_second()
}

/// The kernel's clock ticks per second, in which /proc states CPU times (`getconf CLK_TCK`).
fn clock_ticks_per_second() -> f64 {
    static HZ: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *HZ.get_or_init(|| {
        let out = std::process::Command::new("getconf").arg("CLK_TCK").output().expect("getconf runs");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("getconf CLK_TCK prints a number")
    })
}

fn longest(gaps: &[f64]) -> f64 {
    gaps.iter().cloned().fold(0.0, f64::max)
}

/// How many gaps exceed `ms`, and at which frames (`#3: 92 ms`).
fn over(gaps: &[f64], ms: f64) -> String {
    let long: Vec<String> = gaps.iter().enumerate().filter(|(_, g)| **g > ms).map(|(i, g)| format!("#{i}: {g:.0} ms")).collect();
    format!("{} ({})", long.len(), long.join(", "))
}

fn p95(gaps: &[f64]) -> f64 {
    let mut g = gaps.to_vec();
    g.sort_by(|a, b| a.total_cmp(b));
    g.get(g.len() * 95 / 100).copied().unwrap_or(0.0)
}

async fn run(app: &StudioApp, view: &TopologyView) -> Result<(f64, f64, Vec<f64>, Vec<f64>)> {
    let s = app.s();
    s.wait("[data-testid='open-cluster']", T).await?;
    s.execute("window.switchyardBench.loadTopology(arguments[0]);", json!([view])).await.context("the bench hook")?;
    // The studio loads the Cluster view's code a second after start (App.tsx): the view is
    // opened well after that, as a user would (5 s, as every run since the warm-up went).
    tokio::time::sleep(Duration::from_secs(5)).await;
    // Experiments (what a frame would cost without a part of the view): a script run and a style
    // sheet added before the view opens.
    if let Ok(js) = std::env::var("TOPOLOGY_BENCH_JS") {
        s.execute(&js, json!([])).await?;
    }
    if let Ok(css) = std::env::var("TOPOLOGY_BENCH_CSS") {
        s.execute("const st = document.createElement('style'); st.textContent = arguments[0]; document.head.appendChild(st);", json!([css])).await?;
    }
    let (first_paint, drawn_nodes, drawn_edges, first_nodes, frames, clicked): (f64, u64, u64, f64, u64, f64) =
        serde_json::from_value(s.execute_async(FIRST_PAINT, json!([])).await?)?;
    println!(
        "first paint: {first_paint:.0} ms with {drawn_nodes} nodes and {drawn_edges} edges drawn (the click's own work {clicked:.0} ms; \
         first nodes in the page at {first_nodes:.0} ms; {frames} frames)"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.shot(&format!("topology-{}", view.nodes.len())).await?;
    // The panel's warnings are counted in full and drawn as they scroll into their box.
    let (total, rows): (u64, u64) = serde_json::from_value(s.execute(
        "return [Number(document.querySelector('[data-testid=topo-warnings-count]')?.textContent ?? 0), document.querySelectorAll('[data-testid=topo-warnings] [role=listitem]').length];",
        json!([]),
    ).await?)?;
    println!("warnings: {total}, {rows} of them drawn");
    ensure!(total as usize == view.warnings.len() && rows > 0 && rows <= total.min(40), "{total} warnings counted ({} in the view), {rows} drawn", view.warnings.len());

    // Drag the node nearest the canvas's centre 200 px across, the way a hand would (1.5 s).
    let target: String = serde_json::from_value(s.execute(NEAREST_NODE, json!([])).await?).context("a node in view")?;
    s.frames_start().await?;
    let cpu0 = studio_cpu_ms();
    s.drag_by(&format!("[data-testid='{target}'] .topo-node-head"), 200, 80, 30).await?;
    let cpu1 = studio_cpu_ms();
    let dragging: Vec<f64> = s.frames_stop().await?;
    // After the drag every edge is drawn once again (during it the dragged node's were apart).
    let segments: u64 = serde_json::from_value(s.execute(
        "return [...document.querySelectorAll('[data-testid=topo-far-edges] path')].reduce((k, p) => k + (p.getAttribute('d').match(/M/g) || []).length, 0);",
        json!([]),
    ).await?)?;
    ensure!(segments == 0 || segments == drawn_edges, "after the drag {segments} far edges are drawn, {drawn_edges} before it");

    // Pan the canvas from an empty corner of the pane.
    s.frames_start().await?;
    let cpu2 = studio_cpu_ms();
    s.drag_by_at(".react-flow__pane", 12, 12, 250, 150, 30).await?;
    let cpu3 = studio_cpu_ms();
    let panning: Vec<f64> = s.frames_stop().await?;
    ensure!(!dragging.is_empty() && !panning.is_empty(), "no frames were seen");
    // The studio's CPU time per frame seen (whatever the machine's other load did to pacing).
    println!(
        "the studio's CPU time per frame: dragging {:.1} ms ({} frames), panning {:.1} ms ({} frames)",
        (cpu1 - cpu0) / dragging.len() as f64, dragging.len(), (cpu3 - cpu2) / panning.len() as f64, panning.len()
    );
    app.shot(&format!("topology-{}-panned", view.nodes.len())).await?;
    // A poll's answer, as the canvas gets one about once a second: three, 300 ms apart, while the
    // frames are watched (each parsed from the view's text: a new object of every node and edge,
    // equal to the last).
    // Then three more with traffic: every tenth edge carried more (its rate changes).
    for (every_nth, what) in [(0, "unchanged"), (10, "a tenth of the edges carrying")] {
        s.frames_start().await?;
        let cpu4 = studio_cpu_ms();
        for _ in 0..3 {
            s.execute("window.switchyardBench.refreshTopology(arguments[0]);", json!([every_nth])).await.context("the bench hook")?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let cpu5 = studio_cpu_ms();
        let refreshing: Vec<f64> = s.frames_stop().await?;
        ensure!(!refreshing.is_empty(), "no frames were seen while refreshing");
        println!(
            "refreshed three times ({what}): longest frame {:.0} ms, the studio's CPU {:.0} ms per refresh ({} frames)",
            longest(&refreshing), (cpu5 - cpu4) / 3.0, refreshing.len()
        );
    }

    // Away (the local instance's tail) and back: the open again, in a process that has drawn
    // the view once (what the first open pays only once: fonts, compiled code).
    s.click_css("[data-testid='instance-local'] .tree-row", T).await?;
    s.click_css("[data-testid='instance-local'] [data-testid='open-tail']", T).await?;
    s.wait("[data-testid='tail-view']", T).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (again, n, e, ..): (f64, u64, u64, f64, u64, f64) = serde_json::from_value(s.execute_async(FIRST_PAINT, json!([])).await?)?;
    println!("opened again: {again:.0} ms with {n} nodes and {e} edges drawn");
    ensure!(n == drawn_nodes, "opened again with {n} nodes drawn, {drawn_nodes} the first time");

    // Zoomed in past half zoom, xyflow draws the edges in view from the nodes' handles, which
    // the zoomed-out nodes did not have: they are measured again on the way in.
    for _ in 0..12 {
        let zoom: f64 = serde_json::from_value(s.execute(
            "const m = getComputedStyle(document.querySelector('.react-flow__viewport')).transform.match(/matrix\\(([^,]+)/); return m ? parseFloat(m[1]) : 0;",
            json!([]),
        ).await?)?;
        if zoom >= 0.6 {
            break;
        }
        s.click_css(".react-flow__controls-zoomin", T).await?;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    s.wait("[data-testid^='topo-edge-'] .chans", T).await.context("zoomed in, no edge was drawn with its label")?;
    let drawn: u64 = serde_json::from_value(s.execute("return document.querySelectorAll('.react-flow__edge').length;", json!([])).await?)?;
    ensure!(drawn > 0, "zoomed in, xyflow drew no edge");
    println!("zoomed in: {drawn} edges drawn by xyflow");
    app.shot(&format!("topology-{}-zoomed-in", view.nodes.len())).await?;
    Ok((first_paint, again, dragging, panning))
}

/// A link `dialer` runs to `peer`: `(channel, subscribe, publish)` each, in a state.
fn link(peer: &str, port: u16, channels: &[(&str, bool, bool)], state: LinkState, error: Option<&str>) -> LinkStatus {
    LinkStatus {
        name: peer.into(),
        host: "127.0.0.1".into(),
        port,
        tls: false,
        state,
        since: 0.0,
        latency_ms: Some(0.8),
        last_error: error.map(str::to_string),
        refused_by: None,
        subscriptions: channels.iter().map(|(c, sub, publ)| NodeSubscription { channel: c.parse().expect("a channel"), subscribe: *sub, publish: *publ }).collect(),
        channels: channels
            .iter()
            .map(|(c, sub, publ)| ChannelStatus {
                channel: (*c).into(),
                subscribe: *sub,
                publish: *publ,
                last_received: sub.then_some(1200),
                last_sent: publ.then_some(800),
                last_acknowledged: publ.then_some(800),
                local_head: 900,
                backlog: if *publ { 100 } else { 0 },
                gaps: 0,
                error: None,
                entries_received: 0,
                entries_sent: 0,
            })
            .collect(),
    }
}

/// Six instances with mixed edges: a hub with two-way links, an edge that dials out from
/// behind a firewall, a two-node cycle, a connecting link and one to a peer not registered.
fn six_nodes() -> TopologyView {
    let names = ["hq", "edge-1", "edge-2", "edge-3", "dr", "lab"];
    let port = |n: &str| 10_000 + names.iter().position(|x| *x == n).unwrap_or(9) as u16;
    let open = LinkState::Open;
    let links: Vec<(&str, LinkStatus)> = vec![
        ("hq", link("edge-1", port("edge-1"), &[("factory:sensor_data", true, false), ("factory:config", false, true)], open, None)),
        ("hq", link("edge-2", port("edge-2"), &[("factory:sensor_data", true, false), ("factory:config", false, true)], open, None)),
        ("edge-3", link("hq", port("hq"), &[("factory:sensor_data", false, true)], LinkState::Connecting, Some("connection refused"))),
        ("hq", link("dr", port("dr"), &[("factory:sensor_data", false, true), ("factory:config", false, true)], open, None)),
        ("dr", link("hq", port("hq"), &[("factory:config", false, true)], open, None)),
        ("lab", link("old-hq", 9925, &[("factory:config", true, false)], LinkState::Closed, Some("connection refused"))),
    ];
    let observed: Vec<Observed> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Observed {
            spec: InstanceSpec { id: format!("id-{n}"), name: (*n).into(), url: format!("http://127.0.0.1:{}", port(n)), username: "admin".into(), kind: if i < 4 { InstanceKind::Local } else { InstanceKind::Remote }, tls: Trust::System, port: None },
            status: InstanceStatus {
                id: format!("id-{n}"),
                online: true,
                latency_ms: Some(1.0),
                version: Some("0.1.0".into()),
                server_kind: Some(switchyard_client::ServerKind::SwitchyardNode),
                node_name: Some((*n).into()),
                error: None,
                certificate_fingerprint: None,
            },
            channels_last_known: false,
            channels: vec!["factory:sensor_data".into(), "factory:config".into()],
            cluster: Ok(ClusterStatus {
                kind: "cluster-status".into(),
                node_name: (*n).into(),
                is_enabled: true,
                read_only: None,
                connections: links.iter().filter(|(d, _)| d == n).map(|(_, l)| l.clone()).collect(),
                receivers: vec![],
                log_head: 0,
            }),
            harperdb: None,
        })
        .collect();
    topology::build(&observed)
}

/// Six nodes with mixed edges, for the screenshots in both themes.
async fn six(app: &StudioApp) -> Result<()> {
    let s = app.s();
    let view = six_nodes();
    s.execute("window.switchyardBench.loadTopology(arguments[0]);", json!([view])).await?;
    s.click_css("[data-testid='open-cluster']", T).await?;
    s.wait("[data-testid='topo-node-lab']", T).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.shot("topology-six-light").await?;
    s.click_css("[data-testid='theme-toggle']", T).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.shot("topology-six-dark").await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` lists; nothing to list here
    }
    let view = synthetic(arg("--nodes", NODES), arg("--links", LINKS));
    let reach: usize = view.flows.iter().map(|f| f.reach.values().map(Vec::len).sum::<usize>()).sum();
    println!(
        "synthetic topology: {} nodes, {} edges, {} channels ({reach} nodes reached, over every channel's sources); {} kB as JSON",
        view.nodes.len(), view.edges.len(), view.flows.len(), serde_json::to_string(&view)?.len() / 1000
    );
    let app = StudioApp::launch("bench_topology").await?;
    let (first_paint, again, dragging, panning) = match run(&app, &view).await {
        Ok(r) => r,
        Err(e) => app.fail("bench-topology-failure", e).await,
    };
    drop(app);
    let small = StudioApp::launch("topology_six").await?;
    if let Err(e) = six(&small).await {
        small.fail("topology-six-failure", e).await;
    }
    let date = std::env::var("BENCH_DATE").unwrap_or_else(|_| "today".into());
    println!("\n### {date} — the Cluster view at {} nodes and {} edges\n", view.nodes.len(), view.edges.len());
    println!("| measure | value | target |");
    println!("|---|---:|---:|");
    println!("| opening the view to every node painted (ms) | {first_paint:.0} | < 300 |");
    println!("| opening it again, after another view (ms) | {again:.0} | — |");
    println!("| longest frame while dragging a node (ms) | {:.1} | < 50 |", longest(&dragging));
    println!("| p95 frame while dragging (ms) | {:.1} | — |", p95(&dragging));
    println!("| longest frame while panning (ms) | {:.1} | < 50 |", longest(&panning));
    println!("| p95 frame while panning (ms) | {:.1} | — |", p95(&panning));
    println!("| frames seen dragging / panning | {} / {} | — |", dragging.len(), panning.len());
    println!("| frames over 50 ms dragging (their places among the frames) | {} | — |", over(&dragging, 50.0));
    Ok(())
}
