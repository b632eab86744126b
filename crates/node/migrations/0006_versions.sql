-- Versions from the hybrid logical clock (store/clock.rs): one integer per log entry, per stored
-- record and per tombstone, compared exactly. Existing entries take the version of their time:
-- whole milliseconds shifted left by 20 bits, the microseconds as the counter, so their order is
-- kept. (Each table's own rows get the column when the store opens: see `Store::open`.)
ALTER TABLE txn_log ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE txn_log SET version = (CAST(ts AS INTEGER) << 20) | CAST((ts - CAST(ts AS INTEGER)) * 1000 AS INTEGER) WHERE ts > 0;
ALTER TABLE tombstones ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE tombstones SET version = (CAST(updated AS INTEGER) << 20) | CAST((updated - CAST(updated AS INTEGER)) * 1000 AS INTEGER) WHERE updated > 0;
