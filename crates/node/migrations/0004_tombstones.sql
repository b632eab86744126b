-- Deleted keys, so that last-writer-wins covers deletes: a replicated write older than the
-- delete cannot bring the record back. `updated` is the delete's time, `origin` the node where
-- it happened, `log_id` the delete's entry in this node's log. A tombstone is pruned once every
-- peer this node sends the channel to has acknowledged past `log_id` (and a grace period has
-- passed), or after the retention period whatever the acknowledgements.
CREATE TABLE tombstones (
    table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    pk       NOT NULL,
    updated  REAL NOT NULL,
    origin   TEXT NOT NULL,
    log_id   INTEGER NOT NULL,
    PRIMARY KEY (table_id, pk)
) WITHOUT ROWID;
CREATE INDEX tombstones_updated ON tombstones (updated);

-- How far each peer has acknowledged applying this node's log on a channel (ids in this
-- node's log): the peer holds every entry up to `acked`, deletes included.
CREATE TABLE peer_acks (
    peer    TEXT NOT NULL,
    channel TEXT NOT NULL,
    acked   INTEGER NOT NULL,
    PRIMARY KEY (peer, channel)
);
