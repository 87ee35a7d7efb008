package store

import "errors"

// Sentinel errors: callers map them to exit codes (CLI) and health messages (plugin).
var (
	ErrUnreachable = errors.New("serveur ClickHouse injoignable")
	ErrAuth        = errors.New("authentification ClickHouse refusée")
	ErrNoDatabase  = errors.New("base de données absente")
	ErrConfig      = errors.New("configuration ClickHouse invalide")
)
