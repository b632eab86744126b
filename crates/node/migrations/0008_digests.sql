-- Table digests (store/digest.rs): per table, its 256 buckets of primary keys in 16 parts of
-- 16 buckets, each bucket the number of its records and the sum of their hashes (24 bytes, little
-- endian). Record tables get their `bucket` and `hash` columns, and their digest, when the store
-- opens (`Store::open`).
CREATE TABLE digests (
    table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
    part     INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (table_id, part)
) WITHOUT ROWID;

-- The version of the last entry applied per origin and channel, beside its id: a node's
-- watermark, which tells a record still in flight from a divergence. An origin's versions grow
-- with its log ids, so the last applied is the highest.
ALTER TABLE origin_positions ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
UPDATE origin_positions SET last_version = COALESCE(
    (SELECT MAX(version) FROM txn_log WHERE txn_log.origin = origin_positions.origin AND txn_log.channel = origin_positions.channel), 0);
ALTER TABLE relay_positions ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
UPDATE relay_positions SET last_version = COALESCE(
    (SELECT MAX(version) FROM txn_log WHERE txn_log.origin = relay_positions.origin AND txn_log.channel = relay_positions.channel), 0);
