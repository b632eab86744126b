//! The HarperDB 4.7 conformance transcript, run against a real switchyard-node and a real
//! HarperDB 4.7 (from npm, installed by `make test`): every case either answers alike on both or
//! carries the difference, with its reason, in the transcript.

use switchyard_client::DIFFERENCES;
use switchyard_e2e::conformance::{differences_named, run, Target};
use switchyard_e2e::harperdb::HarperDb;
use switchyard_node::{start, NodeConfig};
use tokio::net::TcpListener;

#[tokio::test]
async fn switchyard_node_answers_like_harperdb_4_7() {
    let dir = tempfile::tempdir().unwrap();
    let config = NodeConfig::new(dir.path(), "conformance").with_admin("admin", "conformance-pw");
    let node = start(config, TcpListener::bind("127.0.0.1:0").await.unwrap()).await.unwrap();
    let target = Target { kind: "switchyard", url: node.url(), admin_user: "admin".into(), admin_password: "conformance-pw".into() };
    let (ran, failures) = run(&target).await.unwrap();
    assert!(ran >= 80, "only {ran} cases ran");
    assert!(failures.is_empty(), "{} of {ran} cases failed:\n{}", failures.len(), failures.join("\n"));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harperdb_4_7_answers_as_the_transcript_records() {
    let _alone = crate::ALONE.write().await;
    let hdb = HarperDb::start().await.expect("a real HarperDB 4.7 (installed by `make test` into .cache/harperdb)");
    let target = Target { kind: "harperdb", url: hdb.url.clone(), admin_user: hdb.user.clone(), admin_password: hdb.password.clone() };
    let (ran, failures) = run(&target).await.unwrap();
    assert!(ran >= 80, "only {ran} cases ran");
    assert!(failures.is_empty(), "{} of {ran} cases failed against HarperDB:\n{}", failures.len(), failures.join("\n"));
}

/// The transcript and the client's list of differences agree: every override names a listed
/// difference, and every difference the transcript can show is shown by some case.
#[test]
fn every_difference_in_the_transcript_is_listed_and_every_listed_one_is_shown() {
    let named = differences_named().unwrap();
    assert!(!named.is_empty(), "the transcript names no difference");
    for d in DIFFERENCES.iter().filter(|d| d.in_transcript) {
        assert!(named.iter().any(|(id, _)| id == d.id), "difference '{}' is marked in_transcript but no case shows it", d.id);
    }
    for (id, case) in &named {
        let d = DIFFERENCES.iter().find(|d| d.id == id).unwrap();
        assert!(d.in_transcript, "case '{case}' shows '{id}', which is not marked in_transcript");
    }
}
