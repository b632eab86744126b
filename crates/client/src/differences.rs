//! Every known difference between HarperDB 4.7 and switchyard-node, each with its reason and
//! what the studio does about it. The conformance transcript (tests/conformance/) names one of
//! these for every case that answers differently on the two servers, and a test holds the two
//! lists together.

/// One difference, observed on a real HarperDB 4.7.29 (reference: shared/reference/harperdb-4.7.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Difference {
    /// Named by the conformance transcript's overrides.
    pub id: &'static str,
    pub harperdb: &'static str,
    pub switchyard_node: &'static str,
    /// Why the two differ (why switchyard-node does not copy HarperDB here).
    pub why: &'static str,
    /// What the studio does about it.
    pub studio: &'static str,
    /// Whether a case of the conformance transcript shows it (some need a cluster or time).
    pub in_transcript: bool,
}

pub const DIFFERENCES: &[Difference] = &[
    Difference {
        id: "generated-key-reported-null",
        harperdb: "an insert without a primary key gets a generated numeric key, and inserted_hashes reports null for it (§1.3)",
        switchyard_node: "generates a UUID and reports it",
        why: "a write report that cannot say what it wrote leaves the user unable to find the record",
        studio: "the write report counts the records written and says how many generated keys HarperDB did not report",
        in_transcript: true,
    },
    Difference {
        id: "generated-key-type",
        harperdb: "generated keys are numbers",
        switchyard_node: "generated keys are UUID strings",
        why: "UUIDs do not collide across nodes that write while apart",
        studio: "keys are shown as the server gives them; paging by key works on either type",
        in_transcript: true,
    },
    Difference {
        id: "bad-input-500",
        harperdb: "answers 500 to some bad input: search_by_id without get_attributes, search_by_hash without hash_values, SQL naming a nested property (§1.1)",
        switchyard_node: "answers 400",
        why: "DESIGN.md: bad input gets a 4xx; 5xx means the server's bug",
        studio: "the client reads such a 500 from HarperDB as bad input (code bad_request) and says HarperDB answered 500",
        in_transcript: true,
    },
    Difference {
        id: "missing-key-deleted",
        harperdb: "delete reports a key that did not exist as deleted (§1.3)",
        switchyard_node: "reports it under skipped_hashes",
        why: "a report must not claim a deletion that did not happen",
        studio: "the counts are shown as the server reports them",
        in_transcript: true,
    },
    Difference {
        id: "drop-attribute-resurrects",
        harperdb: "drop_attribute brings every record deleted from the table back as an empty row: record_count counts them, searches return them with a null key (§5.4)",
        switchyard_node: "drop_attribute removes the attribute from live records only",
        why: "a bug in HarperDB 4.7; deleted records stay deleted",
        studio: "pages leave out rows whose primary key is null and say how many HarperDB returned",
        in_transcript: true,
    },
    Difference {
        id: "missing-table-insert-400",
        harperdb: "insert into a missing table answers 400, other operations 404 for the same table (§1.1)",
        switchyard_node: "answers 404 throughout",
        why: "one missing thing, one status",
        studio: "both read as errors with the server's message",
        in_transcript: true,
    },
    Difference {
        id: "typed-undeclared-attribute-500",
        harperdb: "stores an undeclared attribute of a typed table, returns it for get_attributes [\"*\"], answers 500 when get_attributes names it",
        switchyard_node: "reads any stored attribute",
        why: "what was stored can be read back",
        studio: "the studio reads with \"*\"; the 500 is read as bad input (see bad-input-500)",
        in_transcript: true,
    },
    Difference {
        id: "error-under-message",
        harperdb: "a body sent as text/plain is refused with the text under 'message' (and 'error' names the status)",
        switchyard_node: "puts the text under 'error' like every other refusal",
        why: "one place for an error's text",
        studio: "the client reads 'error', then 'message'",
        in_transcript: true,
    },
    Difference {
        id: "authorize-local",
        harperdb: "in dev mode (authorizeLocal) a request from loopback without credentials is a super_user, on every interface (§1.1)",
        switchyard_node: "trusts no address: every request needs credentials",
        why: "a local process is not necessarily the user",
        studio: "the status check of a HarperDB asks user_info and reports the credentials as unverified unless it names the registered user",
        in_transcript: true,
    },
    Difference {
        id: "record-count-estimate",
        harperdb: "describe_table's record_count becomes an estimate after 500 ms of counting, with estimated_record_range (§5.3)",
        switchyard_node: "counts exactly",
        why: "SQLite keeps the count cheap",
        studio: "an estimated count is shown as one (≈)",
        in_transcript: false,
    },
    Difference {
        id: "add-node-error-in-200",
        harperdb: "add_node and update_node answer 200 with '… but there was an error updating target node: …' when the peer refused or could not be reached and the node record is stored (§2.1); a node whose certificate the peer must sign first answers 500 instead",
        switchyard_node: "answers with the error's status and stores nothing",
        why: "a failed link must not look like a made one",
        studio: "the client reads such a 200 or 500 as the peer's failure (unreachable or unauthorized); a link plan whose add_node failed removes the node record again",
        in_transcript: false,
    },
    Difference {
        id: "drops-do-not-replicate",
        harperdb: "drop_table and drop_database stay on the node they were run on unless replicated: true (§2.4)",
        switchyard_node: "replicates table data over channels only; schema changes are per node",
        why: "a channel carries one table's records, not its schema",
        studio: "not handled yet: dropping on one node of a cluster drops there only, on both servers",
        in_transcript: false,
    },
    Difference {
        id: "remove-node-stale",
        harperdb: "remove_node leaves the removed link working until the workers restart (§2.4)",
        switchyard_node: "closes the link at once",
        why: "a removed link must stop carrying data",
        studio: "the unlink plan says so before it is applied, and the canvas warns (stale_link) while cluster_status lists a link that hdb_nodes no longer holds",
        in_transcript: false,
    },
    Difference {
        id: "tables-not-exported",
        harperdb: "a table created through the Operations API is not reachable over REST, WebSocket or MQTT until exported by a component (§4.1)",
        switchyard_node: "every table is a channel of its SocketCluster endpoint",
        why: "the tail needs no set-up",
        studio: "the tail reports a table HarperDB will not subscribe to as not exported, and exports it (a component written through set_component_file, then a restart of the HTTP workers) only once the user agrees",
        in_transcript: false,
    },
    Difference {
        id: "cluster-operation-shapes",
        harperdb: "add_node names the peer by hostname and url (its replication port), with verify_tls and per-table subscriptions by database and table; with no subscriptions it replicates every database both ways, gossiped to a full mesh (§1.6, §2.1, §2.2)",
        switchyard_node: "add_node names the peer by name, host and port (its Operations API port) with per-channel subscriptions; nothing is replicated that no link names",
        why: "a link carries what it names and nothing else, and its permissions can be checked",
        studio: "link plans are written in each server's own form (switchyard_client::harperdb); a full mesh is drawn as such",
        in_transcript: false,
    },
    Difference {
        id: "realtime-without-positions",
        harperdb: "MQTT messages carry the record (or null for a delete) under the topic export/key: no transaction id, origin, operation or time, and nothing to resume from (§4.2)",
        switchyard_node: "publications are log entries with an id, origin, operation and time; a subscriber resumes after the last id it saw",
        why: "a tail must line up the same write across nodes and heal what it missed",
        studio: "a HarperDB tail numbers records in arrival order, shows put or delete, and reports every reconnect as a gap it cannot heal",
        in_transcript: false,
    },
];

/// The difference with this id.
pub fn difference(id: &str) -> Option<&'static Difference> {
    DIFFERENCES.iter().find(|d| d.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_entry_says_why() {
        let mut ids: Vec<&str> = DIFFERENCES.iter().map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), DIFFERENCES.len(), "duplicate ids");
        for d in DIFFERENCES {
            assert!(!d.why.is_empty() && !d.studio.is_empty() && !d.harperdb.is_empty(), "{} is incomplete", d.id);
        }
    }
}
