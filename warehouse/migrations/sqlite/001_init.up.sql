-- crmkpi warehouse schema, SQLite.
--
-- Every crm_* table is keyed by (connector, id). Canonical columns are
-- nullable because a deletion of a record the warehouse never saw leaves a
-- tombstone row (key, deleted, updated_at) so an older copy cannot resurrect it.
--
-- Times are TEXT in one fixed-width UTC format, 2006-01-02T15:04:05.000000000Z
-- (always nine fraction digits, always Z), so that text comparison is time
-- comparison: ORDER BY, max(), >= and range scans on the indexes all work.
-- Booleans are INTEGER 0/1; money is REAL; raw is JSON text checked by
-- json_valid, as PostgreSQL's jsonb checks it.

CREATE TABLE crm_users (
    connector  TEXT        NOT NULL,
    id         TEXT        NOT NULL,
    email      TEXT,
    name       TEXT,
    active     INTEGER,
    raw        TEXT CHECK (raw IS NULL OR json_valid(raw)),
    updated_at TEXT NOT NULL,
    deleted    INTEGER     NOT NULL DEFAULT 0,
    synced_at  TEXT NOT NULL,
    PRIMARY KEY (connector, id)
);

CREATE TABLE crm_stages (
    connector     TEXT        NOT NULL,
    id            TEXT        NOT NULL,
    pipeline_id   TEXT,
    pipeline_name TEXT,
    name          TEXT,
    status        TEXT,
    sort          INTEGER,
    raw           TEXT CHECK (raw IS NULL OR json_valid(raw)),
    updated_at    TEXT NOT NULL,
    deleted       INTEGER     NOT NULL DEFAULT 0,
    synced_at     TEXT NOT NULL,
    PRIMARY KEY (connector, id)
);

CREATE TABLE crm_companies (
    connector  TEXT        NOT NULL,
    id         TEXT        NOT NULL,
    name       TEXT,
    owner_id   TEXT,
    key_client INTEGER,
    created_at TEXT,
    raw        TEXT CHECK (raw IS NULL OR json_valid(raw)),
    updated_at TEXT NOT NULL,
    deleted    INTEGER     NOT NULL DEFAULT 0,
    synced_at  TEXT NOT NULL,
    PRIMARY KEY (connector, id)
);

CREATE TABLE crm_contacts (
    connector   TEXT        NOT NULL,
    id          TEXT        NOT NULL,
    name        TEXT,
    email       TEXT,
    company_id  TEXT,
    owner_id    TEXT,
    nps_score   REAL,
    nps_at      TEXT,
    created_at  TEXT,
    -- nps_seen_at is when the warehouse first saw the current nps_score, the
    -- answer date of last resort for CRMs that map no NPS date field.
    nps_seen_at TEXT,
    raw         TEXT CHECK (raw IS NULL OR json_valid(raw)),
    updated_at  TEXT NOT NULL,
    deleted     INTEGER     NOT NULL DEFAULT 0,
    synced_at   TEXT NOT NULL,
    PRIMARY KEY (connector, id)
);
CREATE INDEX crm_contacts_company_idx ON crm_contacts (connector, company_id);

CREATE TABLE crm_deals (
    connector  TEXT        NOT NULL,
    id         TEXT        NOT NULL,
    name       TEXT,
    pipeline   TEXT,
    stage      TEXT,
    status     TEXT,
    amount     REAL,
    currency   TEXT,
    owner_id   TEXT,
    company_id TEXT,
    contact_id TEXT,
    created_at TEXT,
    closed_at  TEXT,
    expense    REAL,
    raw        TEXT CHECK (raw IS NULL OR json_valid(raw)),
    updated_at TEXT NOT NULL,
    deleted    INTEGER     NOT NULL DEFAULT 0,
    synced_at  TEXT NOT NULL,
    PRIMARY KEY (connector, id)
);
CREATE INDEX crm_deals_owner_idx ON crm_deals (connector, owner_id);
CREATE INDEX crm_deals_closed_idx ON crm_deals (closed_at);
CREATE INDEX crm_deals_company_idx ON crm_deals (connector, company_id);

CREATE TABLE crm_activities (
    connector   TEXT        NOT NULL,
    id          TEXT        NOT NULL,
    type        TEXT,
    direction   TEXT,
    subject     TEXT,
    owner_id    TEXT,
    company_id  TEXT,
    contact_id  TEXT,
    deal_id     TEXT,
    occurred_at TEXT,
    completed   INTEGER,
    duration_s  INTEGER,
    raw         TEXT CHECK (raw IS NULL OR json_valid(raw)),
    updated_at  TEXT NOT NULL,
    deleted     INTEGER     NOT NULL DEFAULT 0,
    synced_at   TEXT NOT NULL,
    PRIMARY KEY (connector, id)
);
CREATE INDEX crm_activities_occurred_idx ON crm_activities (occurred_at);
CREATE INDEX crm_activities_company_idx ON crm_activities (connector, company_id);
CREATE INDEX crm_activities_owner_idx ON crm_activities (connector, owner_id);

CREATE TABLE sync_state (
    connector  TEXT        NOT NULL,
    object     TEXT        NOT NULL,
    cursor     TEXT        NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (connector, object)
);

CREATE TABLE sync_runs (
    id          INTEGER     PRIMARY KEY AUTOINCREMENT,
    connector   TEXT        NOT NULL,
    object      TEXT        NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT        NOT NULL,
    records     INTEGER     NOT NULL DEFAULT 0,
    error       TEXT
);
CREATE INDEX sync_runs_object_idx ON sync_runs (connector, object, id);

CREATE TABLE scorecards (
    period_kind  TEXT             NOT NULL,
    period_start TEXT      NOT NULL,
    manager      TEXT             NOT NULL,
    kpi          TEXT             NOT NULL,
    value        REAL,
    target       REAL,
    attainment   REAL,
    reason       TEXT,
    computed_at  TEXT      NOT NULL,
    PRIMARY KEY (period_kind, period_start, manager, kpi)
);

CREATE TABLE oauth_tokens (
    connector  TEXT        PRIMARY KEY,
    token      TEXT        NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE slack_messages (
    period_key TEXT        NOT NULL,
    recipient  TEXT        NOT NULL,
    channel    TEXT        NOT NULL,
    ts         TEXT        NOT NULL,
    hash       TEXT        NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (period_key, recipient)
);
