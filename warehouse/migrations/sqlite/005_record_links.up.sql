-- crm_record_links: where records of each kind open in the CRM's web app,
-- per connector, as its connector says (connectors.RecordLinker): url has
-- "{id}" for the record's id. kind is deal, company, contact, or an
-- activity type whose activities have pages of their own. The sync stores
-- them when a connector has none yet and on --full syncs; explain and the
-- scorecard pages read them, and never a CRM.
CREATE TABLE crm_record_links (
    connector  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    url        TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (connector, kind)
);
