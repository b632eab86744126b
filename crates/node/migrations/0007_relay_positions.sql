-- Highest origin_id applied per (origin, channel) from entries that a peer with a limited role
-- (a least-privilege link user, `via`) relayed. Such a peer may relay other nodes' entries
-- (chains), but what it claims never moves `origin_positions`: a forged origin or id cannot make
-- this node drop the real origin's entries as duplicates. An entry is a duplicate when it is at or
-- below the origin's own position or this path's.
CREATE TABLE relay_positions (
    origin  TEXT NOT NULL,
    channel TEXT NOT NULL,
    via     TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    PRIMARY KEY (origin, channel, via)
);
