//! Per channel, the graph of the edges that carry it (petgraph): which nodes a write on it
//! reaches from each node, and which edges lie on a cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::Dfs;

use super::{ChannelFlow, TopoEdge};

/// One `ChannelFlow` per channel any edge carries, in channel order.
pub fn flows(edges: &[TopoEdge]) -> Vec<ChannelFlow> {
    let channels: BTreeSet<&str> = edges.iter().flat_map(|e| e.channels.iter().map(|c| c.channel.as_str())).collect();
    channels.into_iter().map(|c| flow(edges, c)).collect()
}

/// The flow of one channel.
pub fn flow(edges: &[TopoEdge], channel: &str) -> ChannelFlow {
    let mut graph: DiGraph<&str, &str> = DiGraph::new();
    let mut index: HashMap<&str, NodeIndex> = HashMap::new();
    let carrying: Vec<&TopoEdge> = edges.iter().filter(|e| e.channels.iter().any(|c| c.channel == channel)).collect();
    for e in &carrying {
        let s = *index.entry(e.source.as_str()).or_insert_with(|| graph.add_node(e.source.as_str()));
        let t = *index.entry(e.target.as_str()).or_insert_with(|| graph.add_node(e.target.as_str()));
        graph.add_edge(s, t, e.id.as_str());
    }
    let mut reach = BTreeMap::new();
    for (&name, &start) in &index {
        let mut dfs = Dfs::new(&graph, start);
        let mut reached: Vec<String> = Vec::new();
        while let Some(n) = dfs.next(&graph) {
            if n != start {
                reached.push(graph[n].to_string());
            }
        }
        reached.sort();
        reach.insert(name.to_string(), reached);
    }
    // An edge is on a cycle when both its ends are in one strongly connected component.
    let mut component: HashMap<NodeIndex, usize> = HashMap::new();
    for (i, scc) in tarjan_scc(&graph).into_iter().enumerate() {
        for n in scc {
            component.insert(n, i);
        }
    }
    let mut cycle_edges: Vec<String> = graph
        .edge_indices()
        .filter_map(|e| {
            let (s, t) = graph.edge_endpoints(e)?;
            (component.get(&s) == component.get(&t)).then(|| graph[e].to_string())
        })
        .collect();
    cycle_edges.sort();
    let mut edge_ids: Vec<String> = carrying.iter().map(|e| e.id.clone()).collect();
    edge_ids.sort();
    ChannelFlow { channel: channel.to_string(), edges: edge_ids, reach, cycle_edges }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::EdgeChannel;

    fn edge(source: &str, target: &str, channels: &[&str]) -> TopoEdge {
        TopoEdge {
            id: format!("{source}->{target}"),
            source: source.into(),
            target: target.into(),
            state: crate::topology::LinkState::Open,
            since: 0.0,
            latency_ms: None,
            last_error: None,
            channels: channels
                .iter()
                .map(|c| EdgeChannel { channel: (*c).into(), dialer: source.into(), link_name: target.into(), position: None, backlog: None, lag_ms: None, carried: 0.0, gaps: 0.0, error: None })
                .collect(),
            lag_ms: None,
            cycle: false,
            failing: false,
            mesh: false,
        }
    }

    #[test]
    fn a_chain_reaches_downstream_only_and_has_no_cycle() {
        let edges = [edge("a", "b", &["dev:x"]), edge("b", "c", &["dev:x", "dev:y"])];
        let f = flow(&edges, "dev:x");
        assert_eq!(f.reach["a"], vec!["b", "c"]);
        assert_eq!(f.reach["b"], vec!["c"]);
        assert!(f.reach["c"].is_empty());
        assert!(f.cycle_edges.is_empty());
        let y = flow(&edges, "dev:y");
        assert_eq!(y.edges, vec!["b->c"]);
        assert!(!y.reach.contains_key("a"), "a does not carry dev:y");
    }

    #[test]
    fn a_ring_is_a_cycle_on_its_channel_only() {
        let edges = [edge("a", "b", &["dev:x"]), edge("b", "c", &["dev:x"]), edge("c", "a", &["dev:x", "dev:y"]), edge("c", "d", &["dev:x"])];
        let f = flow(&edges, "dev:x");
        assert_eq!(f.cycle_edges, vec!["a->b", "b->c", "c->a"], "c->d leaves the ring");
        assert_eq!(f.reach["b"], vec!["a", "c", "d"]);
        assert!(flow(&edges, "dev:y").cycle_edges.is_empty());
    }
}
