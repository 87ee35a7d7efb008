package ingest

import "testing"

// TestRedactURL: no user info, no fragment and no query value survive, whatever the key or its case;
// keys stay so that the location can still be recognised.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@api.example/v1?Token=abc&apiKey=K1&sig=S&X-Amz-Signature=deadbeef&private_token=pt&auth=a": "https://api.example/v1?Token=***&apiKey=***&sig=***&X-Amz-Signature=***&private_token=***&auth=***",
		"https://matomo.example/index.php?module=API&TOKEN_AUTH=t0k&idSite=3":                                  "https://matomo.example/index.php?module=***&TOKEN_AUTH=***&idSite=***",
		"https://carte.example/export.csv#access_token=xyz":                                                     "https://carte.example/export.csv",
		"https://coop.example/api/v1/activites":                                                                 "https://coop.example/api/v1/activites",
		"/data/lieux.csv":                                                                                       "/data/lieux.csv",
		"https://bad host/x?token=abc":                                                                          "https://bad host/x?***",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q)\n = %q\nattendu %q", in, got, want)
		}
	}
}
