//! The TypeScript declarations of every IPC type (`ui/src/platform/ipc.ts`, checked by the
//! `ipc_types` test). It names the types of every feature, so nothing depends on it.

use serde_json::Value;
use switchyard_client::ServerKind;
use switchyard_protocol::tls::Trust;
use switchyard_protocol::{ErrorBody, ErrorCode};
use ts_rs::TS;

use crate::types::*;
use crate::{factory, health, links, tail, topology, verify, wiring};

/// Every IPC type, in declaration order, for the generated TypeScript file.
pub fn typescript_declarations() -> String {
    let cfg = ts_rs::Config::default();
    let decls = [
        <Value as TS>::decl(&cfg),
        Trust::decl(&cfg),
        InstanceKind::decl(&cfg),
        InstanceSpec::decl(&cfg),
        InstanceInput::decl(&cfg),
        ErrorBody::decl(&cfg),
        InstanceStatus::decl(&cfg),
        RegistryView::decl(&cfg),
        About::decl(&cfg),
        TreeTable::decl(&cfg),
        TreeDatabase::decl(&cfg),
        FilterOp::decl(&cfg),
        ColumnFilter::decl(&cfg),
        SortSpec::decl(&cfg),
        PageAnchor::decl(&cfg),
        PageRequest::decl(&cfg),
        Page::decl(&cfg),
        SqlResult::decl(&cfg),
        WriteMode::decl(&cfg),
        WriteReport::decl(&cfg),
        NewTable::decl(&cfg),
        LocalState::decl(&cfg),
        LocalCredentials::decl(&cfg),
        tail::TailRequest::decl(&cfg),
        tail::TailSource::decl(&cfg),
        tail::TailRecord::decl(&cfg),
        tail::TailEvent::decl(&cfg),
        tail::TailFilter::decl(&cfg),
        tail::Dropped::decl(&cfg),
        tail::TailNotice::decl(&cfg),
        tail::Connection::decl(&cfg),
        tail::Order::decl(&cfg),
        tail::TailPort::decl(&cfg),
        tail::TailLine::decl(&cfg),
        tail::TailUpdate::decl(&cfg),
        tail::TailAction::decl(&cfg),
        tail::TailExported::decl(&cfg),
        tail::compare::Presence::decl(&cfg),
        tail::compare::CrossingLine::decl(&cfg),
        tail::compare::CompareNode::decl(&cfg),
        tail::compare::CompareUpdate::decl(&cfg),
        Position::decl(&cfg),
        NodePositions::decl(&cfg),
        topology::NodeKind::decl(&cfg),
        topology::LinkState::decl(&cfg),
        topology::WarningKind::decl(&cfg),
        topology::TopoNode::decl(&cfg),
        topology::EdgeChannel::decl(&cfg),
        topology::TopoEdge::decl(&cfg),
        topology::TopoWarning::decl(&cfg),
        topology::ChannelFlow::decl(&cfg),
        topology::TopologyView::decl(&cfg),
        wiring::WiringExport::decl(&cfg),
        wiring::WiringPreview::decl(&cfg),
        wiring::DriftKind::decl(&cfg),
        wiring::Drift::decl(&cfg),
        health::Thresholds::decl(&cfg),
        health::HealthRules::decl(&cfg),
        health::AlertKind::decl(&cfg),
        health::Alert::decl(&cfg),
        health::HealthState::decl(&cfg),
        health::Sample::decl(&cfg),
        health::EdgeHistory::decl(&cfg),
        links::Direction::decl(&cfg),
        links::LinkChannel::decl(&cfg),
        links::LinkRequest::decl(&cfg),
        links::PlanStep::decl(&cfg),
        links::LinkPlan::decl(&cfg),
        links::StepResult::decl(&cfg),
        links::ApplyReport::decl(&cfg),
        factory::EdgeLoad::decl(&cfg),
        factory::LoadStats::decl(&cfg),
        factory::FactorySetup::decl(&cfg),
        factory::Arrival::decl(&cfg),
        verify::VerifyRequest::decl(&cfg),
        verify::Verdict::decl(&cfg),
        verify::VerifyNode::decl(&cfg),
        verify::CellState::decl(&cfg),
        verify::Method::decl(&cfg),
        verify::Cell::decl(&cfg),
        verify::DiffRow::decl(&cfg),
        verify::ChannelReport::decl(&cfg),
        verify::VerifyReport::decl(&cfg),
        verify::RepairStep::decl(&cfg),
        verify::RepairPlan::decl(&cfg),
    ];
    let mut out = String::from("// Generated from switchyard-studio's types by the `ipc_types` test. Do not edit:\n// run `UPDATE_IPC_TYPES=1 cargo test -p switchyard-studio --test ipc_types` after changing them.\n\n");
    out.push_str(&closed_set("The error codes the UI branches on.", "ERROR_CODES", "ErrorCode", ErrorCode::ALL.iter().map(|c| c.as_str())));
    out.push_str(&closed_set("The servers the studio speaks to (`switchyard_client::ServerKind`).", "SERVER_KINDS", "ServerKind", ServerKind::ALL.iter().map(|k| k.name())));
    out.push_str(&closed_set("The local cluster's instances, the factory scenario's: two edges, then hq (`local::CLUSTER`).", "CLUSTER_NODES", "ClusterNode", crate::local::CLUSTER.into_iter()));
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out
}

/// A closed set of names as a TS constant and the literal union of its members.
fn closed_set<'a>(doc: &str, constant: &str, union: &str, names: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = names.map(|n| format!("\"{n}\"")).collect();
    format!("/** {doc} */\nexport const {constant} = [{}] as const;\n\nexport type {union} = (typeof {constant})[number];\n\n", quoted.join(", "))
}
