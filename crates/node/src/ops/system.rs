//! system_information, registration_info, read_log.

use serde_json::{json, Map, Value};
use switchyard_protocol::ops::{ReadLog, SystemInformation};

use super::Reply;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::store::value::now_ms;
use crate::Node;

fn meminfo() -> Value {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mut m = Map::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(k), Some(v)) = (it.next(), it.next()) else { continue };
        let key = match k {
            "MemTotal:" => "total",
            "MemFree:" => "free",
            "MemAvailable:" => "available",
            _ => continue,
        };
        if let Ok(kb) = v.parse::<u64>() {
            m.insert(key.into(), json!(kb * 1024));
        }
    }
    Value::Object(m)
}

pub async fn system_information(node: &Node, who: &Principal, req: SystemInformation) -> Result<Reply> {
    who.require_super("system_information")?;
    let mut metrics = Map::new();
    for (db, tables) in node.store.catalog().databases {
        let mut t = Map::new();
        for (name, meta) in tables {
            let (count, last) = node.store.table_stats(&meta).await?;
            t.insert(name, json!({ "record_count": count, "last_updated_record": last }));
        }
        metrics.insert(db, json!({ "tables": t }));
    }
    let all = json!({
        "system": {
            "platform": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "hostname": std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default(),
            "node_name": node.config.node_name,
            "kind": crate::KIND,
            "version": crate::VERSION,
        },
        "time": {
            "current": now_ms() as u64,
            "uptime": node.started.elapsed().as_secs_f64(),
            "timezone": "UTC",
        },
        "cpu": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "memory": meminfo(),
        "disk": { "data_dir": node.config.data_dir.display().to_string(), "db_size": node.store.db_size() },
        // Set when the disk failed to confirm a write: the node refuses writes until restarted.
        "read_only": node.store.read_only(),
        "harperdb_processes": { "core": [{ "pid": std::process::id() }], "clustering": [] },
        "metrics": metrics,
    });
    let Some(wanted) = req.attributes else {
        return Ok(Reply::Json(all));
    };
    let mut out = Map::new();
    for w in wanted {
        let key = if w == "database_metrics" { "metrics".to_string() } else { w };
        if let Some(v) = all.get(&key) {
            out.insert(key, v.clone());
        }
    }
    Ok(Reply::Json(Value::Object(out)))
}

pub fn registration_info(node: &Node) -> Result<Reply> {
    Ok(Reply::Json(json!({
        "version": crate::VERSION,
        "kind": crate::KIND,
        "node_name": node.config.node_name,
        "tls_fingerprint": node.tls.as_ref().map(|t| t.fingerprint.clone()),
    })))
}

pub fn read_log(node: &Node, who: &Principal, req: ReadLog) -> Result<Reply> {
    who.require_super("read_log")?;
    let desc = match req.order.as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => return Err(Error::bad(format!("'order' must be asc or desc, not '{other}'"))),
    };
    let entries = node.log.read(
        req.level.as_deref(),
        req.from.as_deref(),
        req.until.as_deref(),
        desc,
        req.start.unwrap_or(0),
        req.limit.unwrap_or(1000),
    );
    Ok(Reply::Json(Value::Array(entries)))
}
