-- Deleted keys, so that last-writer-wins covers deletes: a replicated write older than the
-- delete cannot bring the record back. `updated` is the delete's time, `origin` the node where
-- it happened. Pruned once older than the node's tombstone retention.
CREATE TABLE tombstones (
    table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    pk       NOT NULL,
    updated  REAL NOT NULL,
    origin   TEXT NOT NULL,
    PRIMARY KEY (table_id, pk)
) WITHOUT ROWID;
CREATE INDEX tombstones_updated ON tombstones (updated);
