-- A link can be paused by its operator (update_node `paused`): it stays configured and carries
-- nothing until resumed, also across restarts.
ALTER TABLE peers ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
