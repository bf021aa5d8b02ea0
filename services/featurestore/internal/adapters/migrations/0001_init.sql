-- Feature store schema: definitions with their versions, the offline
-- history of every materialized record, materialization checkpoints, and
-- the event outbox. Runs unchanged on CockroachDB, PostgreSQL and SQLite;
-- times are BIGINT unix microseconds.

CREATE TABLE IF NOT EXISTS fs_definitions (
    kind        TEXT NOT NULL,      -- entity, feature_view, feature_service
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    domain      TEXT NOT NULL,
    data        TEXT NOT NULL,      -- protojson of the current version
    update_time BIGINT NOT NULL,
    PRIMARY KEY (kind, name)
);

CREATE TABLE IF NOT EXISTS fs_definition_versions (
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    data        TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (kind, name, version)
);

-- One row per (view, record): the offline history. msg_id is the record's
-- Nats-Msg-Id, so a redelivered record is stored once; seq is its stream
-- sequence (arrival order, which breaks event-time ties).
CREATE TABLE IF NOT EXISTS fs_history (
    view         TEXT NOT NULL,
    msg_id       TEXT NOT NULL,
    entity_key   TEXT NOT NULL,
    event_time   BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    arrival_time BIGINT NOT NULL,
    record       TEXT NOT NULL,
    PRIMARY KEY (view, msg_id)
);
CREATE INDEX IF NOT EXISTS fs_history_entity ON fs_history (view, entity_key, event_time);

CREATE TABLE IF NOT EXISTS featurestore_outbox (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    create_time BIGINT NOT NULL
);
