-- sync_leases: one row per connector, the fence of its syncs. Whoever takes
-- a connector's lock (the advisory lock) bumps token; every page a sync
-- stores checks, in the page's own transaction, that token is still the one
-- it took, so a sync that lost its lock (its connection was terminated) can
-- no longer write beside the sync that took over. The row outlives its
-- holders, so token never goes back.
CREATE TABLE sync_leases (
    connector      text        PRIMARY KEY,
    token          bigint      NOT NULL,
    holder         text        NOT NULL,
    -- pid is the backend holding the advisory lock, for people.
    pid            integer,
    acquired_at    timestamptz NOT NULL,
    heartbeat_at   timestamptz NOT NULL,
    -- released_at is NULL while the lease is held, or after its holder
    -- died holding it (then heartbeat_at stops moving).
    released_at    timestamptz,
    -- The last sync skipped because the lock was held: when, which
    -- process, and who held the lock.
    skipped_at     timestamptz,
    skipped_by     text,
    skipped_holder text
);

-- sync_leases names the holders now.
DROP TABLE sync_locks;
