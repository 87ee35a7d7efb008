-- Deduplicated activities aggregated per month × commune (and per month × counsellor), as computed by the
-- engine's full pass (internal/engine, activities): persisted so that every process (CLI, plugin instance,
-- daemon) reuses the pass instead of repeating it. A set of rows is valid only under its fingerprint
-- (parts of activites and structures, reference load) and only once its marker row (kind 0), written
-- after the data, exists; readers filter on one fingerprint and one writer, never on merges or deletes.

CREATE TABLE IF NOT EXISTS activites_agregats (
    fingerprint String COMMENT 'state of activites, structures and the reference the rows were computed from',
    writer String COMMENT 'one random id per write: two processes computing the same fingerprint never add up',
    kind UInt8 COMMENT '0 marker (the set is complete), 1 commune of a month, 2 counsellor of a month',
    ym UInt32 COMMENT 'YYYYMM; 0 for the marker',
    commune String COMMENT 'kind 1: INSEE code, empty for outside the reference or not located',
    acc UInt64 COMMENT 'kind 1: sum of accompagnements',
    n UInt64 COMMENT 'kind 1: number of activities (the month total is their sum)',
    last Date COMMENT 'kind 1: latest activity date',
    medh UInt64 COMMENT 'kind 2: cityHash64 of the counsellor id',
    communes Array(String) COMMENT 'kind 2: communes of the counsellor activities in the month',
    computed_at DateTime
) ENGINE = MergeTree
ORDER BY (fingerprint, writer, kind, ym);
