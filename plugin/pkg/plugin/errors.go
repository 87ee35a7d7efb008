package plugin

import "errors"

// Sentinel errors. Their text is French because it reaches the Grafana user unchanged, prefixed to the
// detail (errors.Is lets the query loop choose the HTTP status and the error source).
var (
	// ErrSettings: the datasource configuration cannot be used (invalid jsonData).
	ErrSettings = errors.New("configuration de la source de données invalide")
	// ErrQuery: the query JSON is malformed or names an unknown query type, indicator or level.
	ErrQuery = errors.New("requête invalide")
	// ErrTerritory: the territory is malformed or not in the loaded reference.
	ErrTerritory = errors.New("territoire invalide")
	// ErrOutOfScope: the territory exists but lies outside the datasource's scope.
	ErrOutOfScope = errors.New("territoire hors du périmètre de cette source de données")
	// ErrUnavailable: ClickHouse or the engine failed (connection, schema, SQL).
	ErrUnavailable = errors.New("données indisponibles")
	// ErrNotFound: unknown resource path.
	ErrNotFound = errors.New("ressource inconnue")
)
