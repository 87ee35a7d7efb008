-- Ingestion bookkeeping: runs, rejects and watermarks feed `fne rejects`, the data-quality dashboard and
-- the plugin's health check.

CREATE TABLE IF NOT EXISTS ingestion_runs (
    run_id String,
    version UInt64 COMMENT 'a run is written when it starts and again when it ends; the last write wins',
    source LowCardinality(String),
    input String COMMENT 'file path or URL, credentials removed',
    started_at DateTime,
    ended_at DateTime,
    rows_read UInt64,
    rows_written UInt64,
    rows_rejected UInt64,
    status LowCardinality(String) COMMENT 'en_cours, succes, partiel (rejects), echec',
    error String
) ENGINE = ReplacingMergeTree(version)
ORDER BY run_id;

CREATE TABLE IF NOT EXISTS rejects (
    source LowCardinality(String),
    input String,
    position String COMMENT 'line N, sheet!line, or the record id',
    field String,
    version UInt64 COMMENT 'ingestion time: re-ingesting the same bad input replaces, never duplicates',
    run_id String,
    reason String COMMENT 'in French, shown to coordinators',
    raw String,
    rejected_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY (source, input, position, field);

CREATE TABLE IF NOT EXISTS watermarks (
    source String,
    version UInt64,
    watermark String COMMENT 'RFC 3339 upstream modification time already ingested',
    updated_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY source;
