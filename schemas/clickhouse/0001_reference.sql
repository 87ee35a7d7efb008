-- Territory reference (DESIGN §1). Each load writes a complete copy under a new load_id and is recorded in
-- ref_loads only once every row is in: readers take the newest recorded load, so a load that fails
-- half-way is never seen and the previous reference stays in force.
CREATE TABLE IF NOT EXISTS ref_loads (
    load_id UInt64 COMMENT 'Unix nanoseconds of the load',
    loaded_at DateTime,
    departement String COMMENT 'département code, e.g. the one of territoire.yaml',
    departement_nom String,
    checksum String COMMENT 'SHA-256 of the reference files: an identical reload is a no-op',
    communes UInt32,
    epci UInt32
) ENGINE = MergeTree ORDER BY load_id;

CREATE TABLE IF NOT EXISTS ref_communes (
    load_id UInt64,
    code_insee String,
    nom String,
    epci_siren String,
    epci_nom String,
    population UInt32 COMMENT 'population municipale, latest millésime: the basis of per-capita figures',
    population_totale UInt32,
    population_municipale_2021 UInt32,
    latitude Float64,
    longitude Float64
) ENGINE = MergeTree ORDER BY (load_id, code_insee);

CREATE TABLE IF NOT EXISTS ref_epci (
    load_id UInt64,
    epci_siren String,
    epci_nom String,
    nature_juridique String,
    nb_communes_total UInt32,
    departements Array(String)
) ENGINE = MergeTree ORDER BY (load_id, epci_siren);
