//! The node itself: its log, system information, registration info and `GET /`.

use serde::{Deserialize, Serialize};


/// read_log.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReadLog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// `asc` or `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// system_information: restrict the reply to these sections.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SystemInformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
}

/// registration_info's answer; `kind` tells a switchyard-node from a HarperDB instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistrationInfo {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// SHA-256 of the certificate when the instance serves TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_fingerprint: Option<String>,
}

/// One entry of the node's log, as read_log answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub timestamp: String,
    pub thread: String,
    pub level: String,
    pub tags: Vec<String>,
    pub message: String,
}

/// system_information's answer; a request naming `attributes` gets only those sections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemInformationReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuSection>,
    /// `total`, `free`, `available` in bytes, as the system reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskSection>,
    /// Why the node refuses writes until restarted (null while it writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harperdb_processes: Option<Processes>,
    /// Per database, per table: record count and last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<std::collections::BTreeMap<String, DatabaseMetrics>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemSection {
    pub platform: String,
    pub arch: String,
    pub hostname: String,
    pub node_name: String,
    pub kind: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSection {
    pub current: u64,
    pub uptime: f64,
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuSection {
    pub cores: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskSection {
    pub data_dir: String,
    pub db_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessEntry {
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Processes {
    pub core: Vec<ProcessEntry>,
    pub clustering: Vec<ProcessEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMetrics {
    pub record_count: u64,
    pub last_updated_record: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseMetrics {
    pub tables: std::collections::BTreeMap<String, TableMetrics>,
}

/// What `GET /` answers: which server this is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct About {
    pub name: String,
    pub version: String,
    pub node_name: String,
    pub usage: String,
}
