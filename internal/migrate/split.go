package migrate

import "strings"

// SplitStatements cuts a migration file into statements at semicolons that are outside quotes and
// comments, and drops empty statements and comment-only text.
func SplitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	inQuote, inComment := false, false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case inComment:
			if c == '\n' {
				inComment = false
			}
			cur.WriteByte(c)
		case inQuote:
			cur.WriteByte(c)
			if c == '\\' && i+1 < len(sql) {
				i++
				cur.WriteByte(sql[i])
			} else if c == '\'' {
				inQuote = false
			}
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			inComment = true
			cur.WriteByte(c)
		case c == '\'':
			inQuote = true
			cur.WriteByte(c)
		case c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}
