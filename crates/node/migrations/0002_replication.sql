-- Replication: where each entry came from, where each peer link stands, which peers to dial.

-- The entry's id in its origin node's log; NULL for a local write (its origin id is its id).
ALTER TABLE txn_log ADD COLUMN origin_id INTEGER;
CREATE INDEX txn_log_channel ON txn_log (channel, id);

-- Highest origin_id applied per (origin, channel). Along every path one origin's entries on one
-- channel keep their order, so anything at or below this has been applied already.
CREATE TABLE origin_positions (
    origin  TEXT NOT NULL,
    channel TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    PRIMARY KEY (origin, channel)
);

-- How far this node has received a peer's log on a channel (ids in the peer's log).
CREATE TABLE peer_positions (
    peer    TEXT NOT NULL,
    channel TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    PRIMARY KEY (peer, channel)
);

-- Peers this node dials (add_node); credentials are the peer's cluster user.
CREATE TABLE peers (
    name          TEXT PRIMARY KEY NOT NULL,
    host          TEXT NOT NULL,
    port          INTEGER NOT NULL,
    username      TEXT NOT NULL,
    password      TEXT NOT NULL,
    subscriptions TEXT NOT NULL,
    created       REAL NOT NULL,
    updated       REAL NOT NULL
);
