//! The node's own log: JSON lines in `<data>/log/node.log`, the newest entries kept in memory for
//! read_log. Per node (not a global subscriber) so several nodes can run in one process.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use switchyard_protocol::ops::LogEntry;

const KEPT: usize = 10_000;

pub struct NodeLog {
    entries: Mutex<VecDeque<LogEntry>>,
    file: Mutex<Option<File>>,
}

impl NodeLog {
    pub fn open(dir: &Path) -> std::io::Result<NodeLog> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("node.log");
        let mut entries = VecDeque::new();
        if let Ok(f) = File::open(&path) {
            for line in BufReader::new(f).lines().map_while(Result::ok) {
                // A line that is not an entry (a torn last write) is left out of read_log.
                if let Ok(v) = serde_json::from_str::<LogEntry>(&line) {
                    if entries.len() == KEPT {
                        entries.pop_front();
                    }
                    entries.push_back(v);
                }
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(NodeLog { entries: Mutex::new(entries), file: Mutex::new(Some(file)) })
    }

    /// Records an entry here and mirrors it to tracing. A failing disk never fails the caller.
    pub fn write(&self, level: &str, tags: &[&str], message: impl Into<String>) {
        let message = message.into();
        match level {
            "error" => tracing::error!(tags = ?tags, "{message}"),
            "warn" => tracing::warn!(tags = ?tags, "{message}"),
            _ => tracing::info!(tags = ?tags, "{message}"),
        }
        let entry = LogEntry {
            timestamp: rfc3339_now(),
            thread: "main".into(),
            level: level.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            message,
        };
        if let (Ok(mut f), Ok(line)) = (self.file.lock(), serde_json::to_string(&entry)) {
            if let Some(file) = f.as_mut() {
                let _ = writeln!(file, "{line}");
            }
        }
        if let Ok(mut e) = self.entries.lock() {
            if e.len() == KEPT {
                e.pop_front();
            }
            e.push_back(entry);
        }
    }

    pub fn info(&self, tags: &[&str], message: impl Into<String>) {
        self.write("info", tags, message)
    }

    pub fn warn(&self, tags: &[&str], message: impl Into<String>) {
        self.write("warn", tags, message)
    }

    pub fn error(&self, tags: &[&str], message: impl Into<String>) {
        self.write("error", tags, message)
    }

    /// Entries filtered by level and time range (RFC 3339 strings compare as text), then paged.
    pub fn read(&self, level: Option<&str>, from: Option<&str>, until: Option<&str>, desc: bool, start: usize, limit: usize) -> Vec<LogEntry> {
        let entries = match self.entries.lock() {
            Ok(e) => e.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let keep = |e: &&LogEntry| {
            let ts = e.timestamp.as_str();
            level.is_none_or(|l| e.level == l) && from.is_none_or(|f| ts >= f) && until.is_none_or(|u| ts <= u)
        };
        let it: Box<dyn Iterator<Item = &LogEntry>> = if desc { Box::new(entries.iter().rev()) } else { Box::new(entries.iter()) };
        it.filter(keep).skip(start).take(limit).cloned().collect()
    }
}

/// UTC now as `2026-11-21T23:46:29.588Z`, without a date library.
pub fn rfc3339_now() -> String {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    rfc3339(d.as_millis() as i64)
}

pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if month <= 2 { y + 1 } else { y };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339(1_795_304_789_588), "2026-11-21T23:46:29.588Z");
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
