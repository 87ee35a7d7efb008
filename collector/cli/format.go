package cli

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

func idOf(level, code string) territory.ID {
	return territory.ID{Level: territory.Level(level), Code: code}
}

// thousands formats 478313 as "478 313" (French grouping with a narrow no-break space).
func thousands[T ~int | ~int64 | ~uint64 | ~uint32](v T) string {
	s := strconv.FormatInt(int64(v), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
