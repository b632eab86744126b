//! system_information, registration_info, read_log, read_transaction_log.

use std::collections::BTreeMap;

use switchyard_protocol::ops::{
    CpuSection, DatabaseMetrics, DiskSection, ProcessEntry, Processes, ReadLog, ReadTransactionLog, RegistrationInfo, SystemInformation,
    SystemInformationReply, SystemSection, TableMetrics, TimeSection,
};

use super::Reply;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::store::value::now_ms;
use crate::Node;

fn meminfo() -> BTreeMap<String, u64> {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mut m = BTreeMap::new();
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
            m.insert(key.into(), kb * 1024);
        }
    }
    m
}

pub async fn system_information(node: &Node, who: &Principal, req: SystemInformation) -> Result<Reply> {
    who.require_super("system_information")?;
    let mut metrics = BTreeMap::new();
    for (db, tables) in node.store.catalog().databases {
        let mut t = BTreeMap::new();
        for (name, meta) in tables {
            let (record_count, last_updated_record) = node.store.table_stats(&meta).await?;
            t.insert(name, TableMetrics { record_count, last_updated_record });
        }
        metrics.insert(db, DatabaseMetrics { tables: t });
    }
    let all = SystemInformationReply {
        system: Some(SystemSection {
            platform: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            hostname: std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default(),
            node_name: node.config.node_name.clone(),
            kind: crate::KIND.into(),
            version: crate::VERSION.into(),
        }),
        time: Some(TimeSection { current: now_ms() as u64, uptime: node.started.elapsed().as_secs_f64(), timezone: "UTC".into() }),
        cpu: Some(CpuSection { cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) }),
        memory: Some(meminfo()),
        disk: Some(DiskSection { data_dir: node.config.data_dir.display().to_string(), db_size: node.store.db_size() }),
        // Set when the disk failed to confirm a write: the node refuses writes until restarted.
        read_only: Some(node.store.read_only()),
        harperdb_processes: Some(Processes { core: vec![ProcessEntry { pid: std::process::id() }], clustering: vec![] }),
        metrics: Some(metrics),
    };
    let Some(wanted) = req.attributes else {
        return Reply::of(&all);
    };
    let want = |name: &str| wanted.iter().any(|w| w == name || (name == "metrics" && w == "database_metrics"));
    Reply::of(&SystemInformationReply {
        system: all.system.filter(|_| want("system")),
        time: all.time.filter(|_| want("time")),
        cpu: all.cpu.filter(|_| want("cpu")),
        memory: all.memory.filter(|_| want("memory")),
        disk: all.disk.filter(|_| want("disk")),
        read_only: all.read_only.filter(|_| want("read_only")),
        harperdb_processes: all.harperdb_processes.filter(|_| want("harperdb_processes")),
        metrics: all.metrics.filter(|_| want("metrics")),
    })
}

/// Entries read_transaction_log answers when no `limit` is given, and at most.
const TRANSACTION_LOG_DEFAULT: u64 = 1000;
const TRANSACTION_LOG_MAX: u64 = 10_000;

/// A table's transaction log, permission-checked like a read of the table.
pub async fn read_transaction_log(node: &Node, who: &Principal, req: ReadTransactionLog) -> Result<Reply> {
    who.require(&req.database, &req.table, &[crate::auth::Access::Read])?;
    let meta = node.store.table(&req.database, &req.table)?;
    let limit = req.limit.unwrap_or(TRANSACTION_LOG_DEFAULT);
    if limit == 0 || limit > TRANSACTION_LOG_MAX {
        return Err(Error::bad(format!("'limit' must be from 1 to {TRANSACTION_LOG_MAX}")));
    }
    let by_time = match req.search_type.as_deref() {
        None | Some("id") => false,
        Some("timestamp") => true,
        Some(other) => return Err(Error::bad(format!("'search_type' must be 'id' or 'timestamp', not '{other}'"))),
    };
    let range = |v: Option<f64>, what: &str| -> Result<Option<f64>> {
        match v {
            Some(x) if !x.is_finite() || x < 0.0 || (!by_time && x.fract() != 0.0) => {
                Err(Error::bad(format!("'{what}' must be a {}", if by_time { "time in epoch milliseconds" } else { "transaction id" })))
            }
            other => Ok(other),
        }
    };
    let (from, to) = (range(req.from, "from")?, range(req.to, "to")?);
    let last = match req.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return Err(Error::bad(format!("'order' must be 'asc' or 'desc', not '{other}'"))),
    };
    let entries = node.store.transaction_log(&meta.channel(), by_time, from, to, limit as i64, last).await?;
    Ok(Reply::Raw(super::project::join(entries.iter().map(String::as_str))))
}

pub fn registration_info(node: &Node) -> Result<Reply> {
    Reply::of(&RegistrationInfo {
        version: crate::VERSION.into(),
        kind: Some(crate::KIND.into()),
        node_name: Some(node.config.node_name.clone()),
        tls_fingerprint: node.tls.as_ref().map(|t| t.fingerprint.clone()),
    })
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
    Reply::of(&entries)
}
