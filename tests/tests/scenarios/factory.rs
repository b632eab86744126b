//! The factory scenario's load against real nodes on loopback (issue 15, its Rust core): two
//! edges and headquarters, `factory:sensor_data` linked edge → hq through the canvas's link plans,
//! the generator writing on both edges at the rate asked (never faster) while edge-1 is taken
//! offline and brought back, and the check that hq holds every out-of-range reading written.

use std::time::{Duration, Instant};

use switchyard_e2e::loopback::LoopbackNode;
use switchyard_testkit::eventually_some;
use switchyard_studio::factory::{check_arrival, Generator, DATA, DATABASE, RAW};
use switchyard_studio::links::{plan_link, Direction, LinkChannel, LinkRequest};
use switchyard_studio::NewTable;
use switchyard_studio::Browse;

const PW: &str = "factory-pw";

async fn node(name: &str) -> LoopbackNode {
    LoopbackNode::start(name, PW).await.expect("a node on loopback")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hq_holds_every_out_of_range_reading_the_edges_wrote_through_an_outage() {
    let (mut edge1, edge2, hq) = (node("edge-1").await, node("edge-2").await, node("hq").await);
    for n in [&edge1, &edge2, &hq] {
        let c = n.client();
        c.new_database(DATABASE).await.unwrap();
        for (table, expiration) in [(RAW, Some(600.0)), (DATA, None), ("config", None)] {
            c.new_table(&NewTable { database: DATABASE.into(), table: table.into(), primary_key: "id".into(), expiration }).await.unwrap();
        }
    }
    for e in [&edge1, &edge2] {
        let req = LinkRequest { a: e.party().id, b: hq.party().id, channels: vec![LinkChannel { channel: format!("{DATABASE}:{DATA}"), direction: Direction::AToB }], b_dials: false, ..Default::default() };
        let report = plan_link(&req, e.party(), hq.party()).await.unwrap().apply().await;
        assert!(report.ok, "{report:#?}");
    }

    const RATE: u32 = 1000;
    let began = Instant::now();
    let mut generator = Generator::start(vec![("edge-1".into(), edge1.client()), ("edge-2".into(), edge2.client())], RATE, 50).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // edge-1 goes offline for 1.5 s: its batches fail meanwhile (counted, not written), and what
    // it wrote before and after still reaches hq.
    edge1.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = generator.stats();
    assert!(during.edges[0].last_error.is_some(), "edge-1's outage shows while it lasts: {:?}", during.edges[0]);
    edge1.restart().await.expect("edge-1 restarts");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stats = generator.stop().await;
    let elapsed = began.elapsed().as_secs_f64();

    let (e1, e2) = (&stats.edges[0], &stats.edges[1]);
    // Never faster than asked (how close to the rate it came is the benchmark's business);
    // edge-2 lost nothing; edge-1's batches during its outage failed and were counted.
    for e in [e1, e2] {
        assert!(e.written > 0.0 && e.written <= (RATE as f64 * elapsed).ceil(), "{} wrote {} in {elapsed:.2} s at {RATE}/s", e.edge, e.written);
    }
    assert_eq!((e2.failed_batches, e2.last_error.as_deref()), (0.0, None), "{e2:?}");
    assert!(e1.failed_batches > 0.0, "edge-1's outage is counted: {e1:?}");
    assert_eq!(e1.last_error, None, "edge-1 is back and writing: its error is cleared: {e1:?}");
    assert!(e1.out_of_range > 0.0 && e2.out_of_range > 0.0, "{stats:?}");
    let raw = edge2.client().describe_table(DATABASE, RAW).await.unwrap().record_count;
    assert_eq!(raw as f64, e2.written, "every reading counted as written is in edge-2's sensor_raw");

    let ids = generator.out_of_range_ids();
    assert_eq!(ids.len() as f64, e1.out_of_range + e2.out_of_range);
    let arrival = eventually_some("every out-of-range reading arrives on hq", async || Some(check_arrival(&hq.client(), &ids).await.unwrap()).filter(|a| a.arrived == a.expected)).await;
    assert!(arrival.missing.is_empty(), "{arrival:?}");
    let n = ids.len();
    assert!(arrival.summary.ends_with(" readings arrived, none twice"), "{}", arrival.summary);
    assert!(arrival.summary.replace(',', "").starts_with(&format!("{n} of {n} ")), "{}", arrival.summary);
    // Readings that were never written are not counted as arrived.
    let bogus = check_arrival(&hq.client(), &["edge-9-x-1".to_string()]).await.unwrap();
    assert_eq!((bogus.arrived, bogus.summary.as_str()), (0.0, "0 of 1 reading arrived; 1 missing"));
}
