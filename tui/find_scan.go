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
//   - text is searched by bytefind, which skips on its rarest byte;
//   - an event without the text, or without a string that every match of
//     the regexp holds, is not redacted at all when redaction cannot add
//     that string (redact.NeverAdds), and a regexp is not run on it;
//   - a regexp that is a plain string is searched as text.
type rawMatch struct {
	text *bytefind.Finder // plain text (or a regexp's whole literal); nil: run re
	re   *regexp.Regexp
	lit  *bytefind.Finder // the text, or a string every match of re holds; nil: none
	safe bool             // redaction never adds lit: skip events without it
}

func newRawMatch(text string, re *regexp.Regexp) *rawMatch {
	if re != nil {
		if p, complete := re.LiteralPrefix(); complete {
			re, text = nil, p
		}
	}
	if re == nil {
		f := bytefind.New([]byte(text))
		return &rawMatch{text: f, lit: f, safe: redact.NeverAdds([]byte(text))}
	}
	m := &rawMatch{re: re}
	lit := requiredLiteral(re.String())
	m.safe = lit != "" && redact.NeverAdds([]byte(lit))
	// An event without lit that redaction might change is redacted
	// anyway; then looking for lit first saves only the regexp's run,
	// which for a regexp with a literal prefix is a search for it too.
	if prefix, _ := re.LiteralPrefix(); lit != "" && (m.safe || prefix == "") {
		m.lit = bytefind.New([]byte(lit))
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
	if m.text != nil {
		return m.text.Contains(b)
	}
	return m.re.Match(b)
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
