-- Catalog schema. Runs unchanged on CockroachDB, PostgreSQL and SQLite:
-- natural TEXT keys (no sequences), BIGINT unix microseconds for times,
-- entities stored as protojson in `data` with the columns queries filter on
-- kept beside them.

CREATE TABLE IF NOT EXISTS catalog_domains (
    name        TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    update_time BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS catalog_products (
    domain          TEXT NOT NULL,
    name            TEXT NOT NULL,
    status          INTEGER NOT NULL,
    -- ",tag1,tag2," so a tag filter is a LIKE '%,tag,%'.
    tags            TEXT NOT NULL,
    -- ",pii,internal," classifications present in the newest contract.
    classifications TEXT NOT NULL,
    -- Lowercase words searched by SearchDataProducts.
    search_text     TEXT NOT NULL,
    data            TEXT NOT NULL,
    update_time     BIGINT NOT NULL,
    PRIMARY KEY (domain, name)
);

CREATE TABLE IF NOT EXISTS catalog_contracts (
    domain      TEXT NOT NULL,
    product     TEXT NOT NULL,
    version     TEXT NOT NULL,
    major       INTEGER NOT NULL,
    minor       INTEGER NOT NULL,
    patch       INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    data        TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (domain, product, version)
);

-- Transactional outbox: events are written in the same transaction as the
-- change and published to JetStream after commit (Nats-Msg-Id = id, so a
-- re-publish after a crash is deduplicated by the stream).
CREATE TABLE IF NOT EXISTS catalog_outbox (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    -- base64 of the protobuf payload (TEXT on every engine).
    payload     TEXT NOT NULL,
    create_time BIGINT NOT NULL
);
