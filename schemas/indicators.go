package schemas

import "embed"

// Indicators holds the indicator catalogue (indicators/catalogue.yaml), read by internal/catalogue.
//
//go:embed indicators
var Indicators embed.FS
