-- One table per source of DESIGN §2. Every row carries a stable record key (ORDER BY), a version
-- (ReplacingMergeTree) and its provenance (source_input, run_id). Readers never rely on merges having
-- happened: they deduplicate with argMax(…, version) per key (see internal/engine).
-- version = upstream modification time (Unix seconds) << 32 | ingestion time (Unix seconds): the latest
-- upstream modification wins and, for equal modifications, the later ingestion wins.

CREATE TABLE IF NOT EXISTS activites (
    id String,
    version UInt64,
    deleted UInt8,
    modification DateTime,
    creation DateTime,
    type LowCardinality(String),
    mediateur_id String,
    date Date,
    duree UInt32,
    accompagnements UInt32,
    type_lieu LowCardinality(String),
    structure_id String,
    lieu_code_insee String,
    lieu_code_postal String,
    lieu_commune String,
    thematiques Array(String),
    materiel Array(String),
    autonomie String,
    oriente_vers_structure Nullable(UInt8),
    niveau_atelier String,
    beneficiaires_total UInt32,
    beneficiaires_cles Array(String) COMMENT 'e.g. genres.feminin, tranches_age.soixante_dix_plus',
    beneficiaires_valeurs Array(UInt32),
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (date, id);

CREATE TABLE IF NOT EXISTS structures (
    id String,
    version UInt64,
    deleted UInt8,
    modification DateTime,
    nom String,
    siret String,
    code_insee String,
    code_postal String,
    commune String,
    latitude Nullable(Float64),
    longitude Nullable(Float64),
    services Array(String),
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS lieux (
    id String,
    version UInt64 COMMENT 'date_maj << 32 | ingestion time',
    deleted UInt8,
    pivot String,
    nom String,
    commune String,
    code_postal String,
    code_insee String COMMENT 'as given, or resolved from postcode and commune name',
    code_insee_resolu UInt8 COMMENT '1 when code_insee was resolved by commune name',
    adresse String,
    latitude Nullable(Float64),
    longitude Nullable(Float64),
    typologie Array(String),
    services Array(String),
    publics_specifiquement_adresses Array(String),
    modalites_accompagnement Array(String),
    itinerance Array(String),
    dispositif_programmes_nationaux Array(String),
    frais_a_charge Array(String),
    date_maj Date,
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS consultations (
    date Date,
    lieu_id String,
    consultations UInt32,
    version UInt64 COMMENT 'ingestion time: a later report of the same day and place replaces it',
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (date, lieu_id);

CREATE TABLE IF NOT EXISTS rencontres (
    id String,
    version UInt64,
    deleted UInt8,
    date Date,
    type LowCardinality(String),
    titre String,
    territoire String,
    action String,
    format LowCardinality(String),
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS participations (
    rencontre_id String,
    structure_id String,
    version UInt64,
    deleted UInt8,
    structure_nom String,
    structure_type LowCardinality(String),
    personnes UInt32,
    relais UInt8,
    connait_offre Nullable(UInt8) COMMENT 'NULL when not answered',
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY (rencontre_id, structure_id);

CREATE TABLE IF NOT EXISTS equipements (
    periode Date COMMENT 'first day of the reported month',
    territoire String COMMENT 'territory id: com:<INSEE>, epci:<SIREN> or dep:<code>',
    indicateur LowCardinality(String),
    version UInt64 COMMENT 'ingestion time: a later file for the same key replaces the value',
    deleted UInt8,
    valeur Float64,
    source_donnee String COMMENT 'the source column of the file (who reported the figure)',
    commentaire String,
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY (indicateur, territoire, periode);

CREATE TABLE IF NOT EXISTS jalons (
    action String,
    jalon String,
    version UInt64,
    deleted UInt8,
    libelle String,
    statut LowCardinality(String),
    date_prevue Nullable(Date),
    date_realisee Nullable(Date),
    source_input String,
    run_id String,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY (action, jalon);
