-- policywatch schema: the one place where the database layout is defined.
-- Applied idempotently by store.db.connect(); every statement must be re-runnable.
-- Sections are owned by one stage each (crawl, facts, themes); keep them apart.

CREATE TABLE IF NOT EXISTS schema_info (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- ---------------------------------------------------------------- crawl
-- One row per configured source (sources.toml), refreshed at each crawl.
CREATE TABLE IF NOT EXISTS sources (
    name        VARCHAR PRIMARY KEY,
    config      JSON,
    updated_at  TIMESTAMP
);

-- One row per article, keyed by its canonical (normalised) URL.
CREATE TABLE IF NOT EXISTS articles (
    article_id      VARCHAR PRIMARY KEY,      -- sha1 of the canonical URL, 16 hex chars
    source          VARCHAR NOT NULL,
    url             VARCHAR NOT NULL UNIQUE,  -- canonical, normalised
    title           VARCHAR,
    author          VARCHAR,
    published       TIMESTAMP,
    updated         TIMESTAMP,
    language        VARCHAR,
    first_seen      TIMESTAMP NOT NULL,
    last_fetched    TIMESTAMP NOT NULL,
    current_version INTEGER NOT NULL DEFAULT 1,
    duplicate_of    VARCHAR                   -- near-duplicate of another article_id
);

-- Every distinct body an article has had; a change of content adds a version.
CREATE TABLE IF NOT EXISTS article_versions (
    article_id    VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    fetched_at    TIMESTAMP NOT NULL,
    content_hash  VARCHAR NOT NULL,           -- sha256 of the body text
    simhash       UBIGINT,
    body          VARCHAR NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- Stories: an article is one story; a newsletter page is several.
CREATE TABLE IF NOT EXISTS stories (
    story_id      VARCHAR PRIMARY KEY,        -- '<article_id>-v<version>-s<index>'
    article_id    VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    story_index   INTEGER NOT NULL,
    headline      VARCHAR,
    start_offset  INTEGER NOT NULL,           -- into article_versions.body
    body          VARCHAR NOT NULL,
    published     TIMESTAMP,
    processed_at  TIMESTAMP,                  -- NULL until `policywatch process` ran on it
    nlp_version   VARCHAR
);

-- URLs already seen (normalised), so a later crawl skips them.
CREATE TABLE IF NOT EXISTS seen_urls (
    url         VARCHAR PRIMARY KEY,
    article_id  VARCHAR,
    first_seen  TIMESTAMP NOT NULL,
    last_seen   TIMESTAMP NOT NULL
);

-- HTTP validators for conditional requests on feeds, sitemaps and pages.
CREATE TABLE IF NOT EXISTS http_validators (
    url            VARCHAR PRIMARY KEY,
    etag           VARCHAR,
    last_modified  VARCHAR,
    last_status    INTEGER,
    checked_at     TIMESTAMP
);

-- One row per crawl run and source.
CREATE SEQUENCE IF NOT EXISTS crawl_run_seq;
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id          BIGINT PRIMARY KEY DEFAULT nextval('crawl_run_seq'),
    source          VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR,                  -- running, ok, failed, interrupted
    pages_fetched   INTEGER DEFAULT 0,
    new_stories     INTEGER DEFAULT 0,
    new_versions    INTEGER DEFAULT 0,
    duplicates      INTEGER DEFAULT 0,
    errors          JSON,                     -- {"http_404": 2, "timeout": 1, ...}
    detail          JSON                      -- other counters: not_modified, skipped_seen ...
);
-- Databases created before `detail` existed get it here.
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS detail JSON;
-- MinHash signature (256 uint32 values) of a version's body, for near-duplicate search.
ALTER TABLE article_versions ADD COLUMN IF NOT EXISTS minhash BLOB;
-- Parquet parts of a scale-out crawl (store/parts.py) already ingested by a compaction,
-- recorded in the transaction that ingested them: a part is never ingested twice.
CREATE TABLE IF NOT EXISTS compacted_parts (
    name          VARCHAR PRIMARY KEY,
    compacted_at  TIMESTAMP NOT NULL
);

-- ---------------------------------------------------------------- facts
-- Organisations are canonical across documents: one row per canonical name.
CREATE SEQUENCE IF NOT EXISTS org_seq;
CREATE TABLE IF NOT EXISTS organisations (
    org_id    BIGINT PRIMARY KEY DEFAULT nextval('org_seq'),
    name      VARCHAR NOT NULL,
    name_key  VARCHAR NOT NULL UNIQUE,        -- normalised name used to merge across stories
    type      VARCHAR
);

CREATE TABLE IF NOT EXISTS org_aliases (
    org_id  BIGINT NOT NULL,
    alias   VARCHAR NOT NULL,
    PRIMARY KEY (org_id, alias)
);

CREATE TABLE IF NOT EXISTS org_mentions (
    story_id      VARCHAR NOT NULL,
    org_id        BIGINT NOT NULL,
    start_offset  INTEGER NOT NULL,           -- character offsets into stories.body
    end_offset    INTEGER NOT NULL,
    text          VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS amounts (
    story_id      VARCHAR NOT NULL,
    text          VARCHAR NOT NULL,
    value_gbp     DOUBLE,
    value_gbp_max DOUBLE,
    currency      VARCHAR NOT NULL DEFAULT 'GBP',
    value         DOUBLE,                     -- in `currency`, for non-GBP amounts
    qualifier     VARCHAR,
    role          VARCHAR,
    per           VARCHAR,
    org_id        BIGINT,
    org_name      VARCHAR,
    period        VARCHAR,
    published     TIMESTAMP,
    start_offset  INTEGER,
    end_offset    INTEGER,
    sentence      VARCHAR,
    why           VARCHAR                     -- JSON: the rules that decided role, owner, period
);

CREATE TABLE IF NOT EXISTS ratings (
    story_id      VARCHAR NOT NULL,
    org_id        BIGINT,
    org_name      VARCHAR NOT NULL,
    rating        VARCHAR NOT NULL,
    period        VARCHAR,
    rater         VARCHAR,
    published     TIMESTAMP,
    start_offset  INTEGER,
    end_offset    INTEGER,
    sentence      VARCHAR,
    why           VARCHAR                     -- JSON: the rules that decided the entry
);
-- Ratings are events: the rating before it where the text states one, the direction of the
-- change (up, down, same) and whether the row is the body's current rating or an earlier
-- one the text mentions (current, previous). Databases from before get the columns here.
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS previous_rating VARCHAR;
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS direction VARCHAR;
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS status VARCHAR;

-- Organisation identity (schema 3): each organisations row is one body, registered
-- (store/data/nhs_register.csv) or grown from what was extracted. body_id is its stable id
-- (the register's id, or 'x-' and its normalised name); origin says which ('register',
-- 'extracted'). Every mention, amount and rating carries the body's id and type and how its
-- name was linked (register_name, register_alias, register_former_name, normalised,
-- extracted). Databases from before get the columns here and are relinked once
-- (store.identity.relink).
ALTER TABLE organisations ADD COLUMN IF NOT EXISTS body_id VARCHAR;
ALTER TABLE organisations ADD COLUMN IF NOT EXISTS origin VARCHAR;
ALTER TABLE org_mentions ADD COLUMN IF NOT EXISTS body_id VARCHAR;
ALTER TABLE org_mentions ADD COLUMN IF NOT EXISTS org_type VARCHAR;
ALTER TABLE org_mentions ADD COLUMN IF NOT EXISTS link_method VARCHAR;
ALTER TABLE amounts ADD COLUMN IF NOT EXISTS body_id VARCHAR;
ALTER TABLE amounts ADD COLUMN IF NOT EXISTS org_type VARCHAR;
ALTER TABLE amounts ADD COLUMN IF NOT EXISTS link_method VARCHAR;
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS body_id VARCHAR;
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS org_type VARCHAR;
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS link_method VARCHAR;

-- databases made before the extractor said why: add the column in place
ALTER TABLE amounts ADD COLUMN IF NOT EXISTS why VARCHAR;
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS why VARCHAR;

-- ---------------------------------------------------------------- themes
CREATE TABLE IF NOT EXISTS story_embeddings (
    story_id     VARCHAR PRIMARY KEY,
    model        VARCHAR NOT NULL,
    vector       FLOAT[384] NOT NULL,
    embedded_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS themes (
    theme_id     INTEGER PRIMARY KEY,
    level        VARCHAR NOT NULL,            -- 'theme' or 'event'
    parent_id    INTEGER,                     -- an event's theme
    label        VARCHAR NOT NULL,
    keywords     VARCHAR[],
    centroid     FLOAT[384],
    status       VARCHAR NOT NULL DEFAULT 'active',  -- active, merged, split, retired
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS theme_members (
    theme_id     INTEGER NOT NULL,
    story_id     VARCHAR NOT NULL,
    score        DOUBLE,                      -- cosine similarity to the theme centroid
    assigned_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (theme_id, story_id)
);

-- Splits, merges and re-labels from re-clustering, so theme history can be followed.
CREATE TABLE IF NOT EXISTS theme_changes (
    changed_at   TIMESTAMP NOT NULL,
    kind         VARCHAR NOT NULL,            -- created, merged, split, relabelled, retired
    theme_id     INTEGER NOT NULL,
    other_ids    INTEGER[],
    detail       VARCHAR
);
