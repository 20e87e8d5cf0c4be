package tui

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"unicode/utf8"

	"github.com/kaudit/kaudit/internal/bytefind"
	"github.com/kaudit/kaudit/redact"
)

// rawMatch decides whether an event's JSON, as the detail view shows it
// (redacted), holds the find: the text as typed, or a match of the
// regexp. Its answer is exactly match(redact.Output(raw)); it gets there
// faster:
//   - text is searched anchored on its rarest bytes (bytefind);
//   - an event without the text, or without a string that every match of
//     the regexp holds, is not redacted at all when redaction cannot add
//     that string (redact.NeverAdds);
//   - a regexp whose matches all begin with a literal prefix is tried,
//     anchored, only where the prefix is (Go's regexp looks for the
//     prefix with bytes.Index, slow when its first byte is a quote).
type rawMatch struct {
	text *bytefind.Finder // plain text; nil for a regexp
	re   *regexp.Regexp
	lit  *bytefind.Finder // the text, or a string every match of re holds; nil: none
	safe bool             // redaction never adds lit: skip events without it

	prefix   *bytefind.Finder // every match of re begins with it; nil: none
	complete bool             // re is the prefix itself
	anchored *regexp.Regexp   // re, matching only at the start
}

func newRawMatch(text string, re *regexp.Regexp) *rawMatch {
	if re == nil {
		f := bytefind.New([]byte(text))
		return &rawMatch{text: f, lit: f, safe: redact.NeverAdds([]byte(text))}
	}
	m := &rawMatch{re: re}
	if lit := requiredLiteral(re.String()); lit != "" {
		m.lit, m.safe = bytefind.New([]byte(lit)), redact.NeverAdds([]byte(lit))
	}
	if p, complete := re.LiteralPrefix(); p != "" {
		m.prefix, m.complete = bytefind.New([]byte(p)), complete
		// \A(?:re) compiles whenever re does.
		m.anchored = regexp.MustCompile(`\A(?:` + re.String() + `)`)
	}
	return m
}

// match reports whether raw, redacted, matches.
func (m *rawMatch) match(raw []byte) bool {
	if m.lit != nil && !m.lit.Contains(raw) {
		if m.safe {
			return false
		}
		out := redact.Output(raw)
		return !sameBytes(out, raw) && m.matchShown(out)
	}
	return m.matchShown(redact.Output(raw))
}

// matchShown matches bytes as shown.
func (m *rawMatch) matchShown(b []byte) bool {
	switch {
	case m.text != nil:
		return m.text.Contains(b)
	case m.prefix == nil:
		return m.re.Match(b)
	case m.complete:
		return m.prefix.Contains(b)
	}
	// Every match starts at a place of the prefix: try each, anchored.
	// What the regexp can look at before its start (\b, ^) comes after
	// the prefix's first byte, which is in b[at:] too.
	for at := 0; at < len(b); at++ {
		j := m.prefix.Index(b[at:])
		if j < 0 {
			return false
		}
		at += j
		if m.anchored.Match(b[at:]) {
			return true
		}
	}
	return false
}

// sameBytes reports whether redaction returned its input (it returns raw
// itself when it changes nothing).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// requiredLiteral is the longest string that every match of the regexp
// expr holds, "" when it finds none (case-folded parts count as none).
func requiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	return longest(required(re.Simplify()))
}

// required lists strings that every match of re holds.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if !plainLiteral(re) {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Adjacent literals join: "ab" then "cd" holds "abcd".
		var out []string
		run := ""
		for _, sub := range re.Sub {
			if plainLiteral(sub) {
				run += string(sub.Rune)
				continue
			}
			if run != "" {
				out, run = append(out, run), ""
			}
			out = append(out, required(sub)...)
		}
		if run != "" {
			out = append(out, run)
		}
		return out
	}
	return nil
}

// plainLiteral reports whether re is a literal matched byte for byte: not
// case-folded, and without U+FFFD (which also matches invalid UTF-8).
func plainLiteral(re *syntax.Regexp) bool {
	return re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase == 0 && !slices.Contains(re.Rune, utf8.RuneError)
}

func longest(ss []string) string {
	best := ""
	for _, s := range ss {
		if len(s) > len(best) {
			best = s
		}
	}
	return best
}
