-- Ingestion schema: counters per product, the replay ledger of the
-- quarantine, and the freshness state reported to the catalog. Runs
-- unchanged on CockroachDB, PostgreSQL and SQLite; times are BIGINT unix
-- microseconds (0 = none).

CREATE TABLE IF NOT EXISTS ingestion_stats (
    domain           TEXT NOT NULL,
    product          TEXT NOT NULL,
    accepted         BIGINT NOT NULL DEFAULT 0,
    duplicates       BIGINT NOT NULL DEFAULT 0,
    rejected         BIGINT NOT NULL DEFAULT 0,
    replayed         BIGINT NOT NULL DEFAULT 0,
    bytes            BIGINT NOT NULL DEFAULT 0,
    last_event_time  BIGINT NOT NULL DEFAULT 0,
    last_ingest_time BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (domain, product)
);

CREATE TABLE IF NOT EXISTS ingestion_rejections (
    domain  TEXT NOT NULL,
    product TEXT NOT NULL,
    rule    TEXT NOT NULL,
    count   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (domain, product, rule)
);

-- One row per quarantined record moved to the data subject. data_seq = 0
-- marks a claim whose publish has not been confirmed yet.
CREATE TABLE IF NOT EXISTS ingestion_replays (
    domain         TEXT NOT NULL,
    product        TEXT NOT NULL,
    quarantine_seq BIGINT NOT NULL,
    message_id     TEXT NOT NULL,
    data_seq       BIGINT NOT NULL,
    replayed_at    BIGINT NOT NULL,
    PRIMARY KEY (domain, product, quarantine_seq)
);

CREATE TABLE IF NOT EXISTS ingestion_freshness (
    domain     TEXT NOT NULL,
    product    TEXT NOT NULL,
    breached   BOOLEAN NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (domain, product)
);
