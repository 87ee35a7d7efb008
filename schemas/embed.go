// Package schemas embeds the project's declarative files: the ClickHouse migrations, the default
// territory reference, the indicator catalogue and the JSON Schemas of the JSON inputs. Code reads them
// from here so that the binary is self-contained; deployments can override the reference and the
// catalogue targets from files.
package schemas

import "embed"

// ClickHouse holds the numbered migrations (clickhouse/NNNN_name.sql).
//
//go:embed clickhouse/*.sql
var ClickHouse embed.FS

// Reference holds the default territory reference (reference/territoire.yaml and its CSV files).
//
//go:embed reference/*.csv reference/territoire.yaml
var Reference embed.FS

// Sources holds the JSON Schemas of the JSON inputs (sources/*.schema.json) and their README.
//
//go:embed sources
var Sources embed.FS
