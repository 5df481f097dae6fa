-- sync_leases: one row per connector, the fence of its syncs. Whoever takes
-- a connector's lock (the lock file) bumps token; every page a sync stores
-- checks, in the page's own transaction, that token is still the one it
-- took, so a sync whose lock file was taken over can no longer write beside
-- the sync that took it. The row outlives its holders, so token never goes
-- back.
CREATE TABLE sync_leases (
    connector      TEXT    PRIMARY KEY,
    token          INTEGER NOT NULL,
    holder         TEXT    NOT NULL,
    -- pid is the process holding the lock file, for people.
    pid            INTEGER,
    acquired_at    TEXT    NOT NULL,
    heartbeat_at   TEXT    NOT NULL,
    -- released_at is NULL while the lease is held, or after its holder
    -- died holding it (then heartbeat_at stops moving).
    released_at    TEXT,
    -- The last sync skipped because the lock was held: when, which
    -- process, and who held the lock.
    skipped_at     TEXT,
    skipped_by     TEXT,
    skipped_holder TEXT
);
