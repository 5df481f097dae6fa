-- crmkpi warehouse schema, PostgreSQL.
--
-- Every crm_* table is keyed by (connector, id). Canonical columns are
-- nullable because a deletion of a record the warehouse never saw leaves a
-- tombstone row (key, deleted, updated_at) so an older copy cannot resurrect it.
-- Times are timestamptz (microsecond precision); money is NUMERIC.

CREATE TABLE crm_users (
    connector  text        NOT NULL,
    id         text        NOT NULL,
    email      text,
    name       text,
    active     boolean,
    raw        jsonb,
    updated_at timestamptz NOT NULL,
    deleted    boolean     NOT NULL DEFAULT false,
    synced_at  timestamptz NOT NULL,
    PRIMARY KEY (connector, id)
);

CREATE TABLE crm_stages (
    connector     text        NOT NULL,
    id            text        NOT NULL,
    pipeline_id   text,
    pipeline_name text,
    name          text,
    status        text,
    sort          integer,
    raw           jsonb,
    updated_at    timestamptz NOT NULL,
    deleted       boolean     NOT NULL DEFAULT false,
    synced_at     timestamptz NOT NULL,
    PRIMARY KEY (connector, id)
);

CREATE TABLE crm_companies (
    connector  text        NOT NULL,
    id         text        NOT NULL,
    name       text,
    owner_id   text,
    key_client boolean,
    created_at timestamptz,
    raw        jsonb,
    updated_at timestamptz NOT NULL,
    deleted    boolean     NOT NULL DEFAULT false,
    synced_at  timestamptz NOT NULL,
    PRIMARY KEY (connector, id)
);

CREATE TABLE crm_contacts (
    connector   text        NOT NULL,
    id          text        NOT NULL,
    name        text,
    email       text,
    company_id  text,
    owner_id    text,
    nps_score   double precision,
    nps_at      timestamptz,
    created_at  timestamptz,
    -- nps_seen_at is when the warehouse first saw the current nps_score, the
    -- answer date of last resort for CRMs that map no NPS date field.
    nps_seen_at timestamptz,
    raw         jsonb,
    updated_at  timestamptz NOT NULL,
    deleted     boolean     NOT NULL DEFAULT false,
    synced_at   timestamptz NOT NULL,
    PRIMARY KEY (connector, id)
);
CREATE INDEX crm_contacts_company_idx ON crm_contacts (connector, company_id);

CREATE TABLE crm_deals (
    connector  text        NOT NULL,
    id         text        NOT NULL,
    name       text,
    pipeline   text,
    stage      text,
    status     text,
    amount     numeric,
    currency   text,
    owner_id   text,
    company_id text,
    contact_id text,
    created_at timestamptz,
    closed_at  timestamptz,
    expense    numeric,
    raw        jsonb,
    updated_at timestamptz NOT NULL,
    deleted    boolean     NOT NULL DEFAULT false,
    synced_at  timestamptz NOT NULL,
    PRIMARY KEY (connector, id)
);
CREATE INDEX crm_deals_owner_idx ON crm_deals (connector, owner_id);
CREATE INDEX crm_deals_closed_idx ON crm_deals (closed_at);
CREATE INDEX crm_deals_company_idx ON crm_deals (connector, company_id);

CREATE TABLE crm_activities (
    connector   text        NOT NULL,
    id          text        NOT NULL,
    type        text,
    direction   text,
    subject     text,
    owner_id    text,
    company_id  text,
    contact_id  text,
    deal_id     text,
    occurred_at timestamptz,
    completed   boolean,
    duration_s  integer,
    raw         jsonb,
    updated_at  timestamptz NOT NULL,
    deleted     boolean     NOT NULL DEFAULT false,
    synced_at   timestamptz NOT NULL,
    PRIMARY KEY (connector, id)
);
CREATE INDEX crm_activities_occurred_idx ON crm_activities (occurred_at);
CREATE INDEX crm_activities_company_idx ON crm_activities (connector, company_id);
CREATE INDEX crm_activities_owner_idx ON crm_activities (connector, owner_id);

CREATE TABLE sync_state (
    connector  text        NOT NULL,
    object     text        NOT NULL,
    cursor     text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (connector, object)
);

CREATE TABLE sync_runs (
    id          bigserial   PRIMARY KEY,
    connector   text        NOT NULL,
    object      text        NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text        NOT NULL,
    records     integer     NOT NULL DEFAULT 0,
    error       text
);
CREATE INDEX sync_runs_object_idx ON sync_runs (connector, object, id);

-- sync_locks names the holder of a connector's advisory lock, so a second
-- process that fails pg_try_advisory_lock can say who holds it.
CREATE TABLE sync_locks (
    connector   text        PRIMARY KEY,
    holder      text        NOT NULL,
    backend_pid integer     NOT NULL,
    acquired_at timestamptz NOT NULL
);

CREATE TABLE scorecards (
    period_kind  text             NOT NULL,
    period_start timestamptz      NOT NULL,
    manager      text             NOT NULL,
    kpi          text             NOT NULL,
    value        double precision,
    target       double precision,
    attainment   double precision,
    reason       text,
    computed_at  timestamptz      NOT NULL,
    PRIMARY KEY (period_kind, period_start, manager, kpi)
);

CREATE TABLE oauth_tokens (
    connector  text        PRIMARY KEY,
    token      text        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE slack_messages (
    period_key text        NOT NULL,
    recipient  text        NOT NULL,
    channel    text        NOT NULL,
    ts         text        NOT NULL,
    hash       text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (period_key, recipient)
);
