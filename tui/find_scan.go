package tui

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"unicode/utf8"

	"github.com/kaudit/kaudit/internal/bytefind"
	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
)

// rawMatch decides whether an event's JSON, as the detail view shows it
// (redacted), holds the find: the text as typed, or a match of the
// regexp. Its answer is exactly match(redact.Output(raw)); it gets there
// faster:
//   - text is searched by bytefind, which scans for its two rarest bytes;
//   - an event without the text, or without a string that every match of
//     the regexp holds, is not redacted at all when redaction cannot add
//     that string (redact.NeverAdds), and a regexp is not run on it;
//   - redaction changes nothing before redact.BodyStart: text found there
//     needs no redaction, nor does an event without a body;
//   - a regexp whose matches all start with a literal is tried, anchored,
//     only where bytefind finds that literal (the regexp package's own
//     search for it is several times slower on audit JSON);
//   - a regexp that is a plain string is searched as text.
type rawMatch struct {
	text *bytefind.Finder // plain text (or a regexp's whole literal); nil: run re
	n    int              // the text's length
	re   *regexp.Regexp
	lit  *bytefind.Finder // the text, or a string every match of re holds; nil: none
	safe bool             // redaction never adds lit: skip events without it
	pre  *bytefind.Finder // re's literal prefix, when anch is set
	anch *regexp.Regexp   // re anchored at the start of its input
}

func newRawMatch(text string, re *regexp.Regexp) *rawMatch {
	if re != nil {
		if p, complete := re.LiteralPrefix(); complete {
			re, text = nil, p
		}
	}
	if re == nil {
		f := bytefind.New([]byte(text))
		return &rawMatch{text: f, n: len(text), lit: f, safe: redact.NeverAdds([]byte(text))}
	}
	m := &rawMatch{re: re}
	lit := requiredLiteral(re.String())
	m.safe = lit != "" && redact.NeverAdds([]byte(lit))
	var prefix string
	if prefix, m.anch = anchored(re); m.anch != nil {
		m.pre = bytefind.New([]byte(prefix))
	}
	// An event without lit that redaction might change is redacted
	// anyway; then looking for lit first saves only the regexp's run,
	// which for a regexp with a literal prefix is a search for it too.
	if lit != "" && (m.safe || prefix == "") {
		m.lit = bytefind.New([]byte(lit))
	}
	return m
}

// matchRun appends to found the events of one window of bytes
// (store.RawReader.Runs) that match. When only events holding lit can
// match, it searches the whole window for lit once and looks only at the
// events that hold it; else it looks at every event, having searched the
// window once for a letter as a \u escape (which BodyStart must heed).
func (m *rawMatch) matchRun(buf []byte, run []store.ID, spans []store.Span, found []uint32) []uint32 {
	if m.lit == nil || !m.safe {
		plain := !redact.HidesKeys(buf)
		for k, sp := range spans {
			if m.matchAs(buf[sp.Start:sp.End], plain) {
				found = append(found, run[k])
			}
		}
		return found
	}
	n := m.lit.Len()
	k := 0 // the first event that can hold the occurrence
	for at := 0; k < len(spans); {
		j := m.lit.Index(buf[at:])
		if j < 0 {
			break
		}
		p := at + j
		for k < len(spans) && spans[k].End < p+n {
			k++
		}
		switch {
		case k == len(spans):
		case spans[k].Start > p: // between events, or across one's end
			at = spans[k].Start
		default:
			if m.match(buf[spans[k].Start:spans[k].End]) {
				found = append(found, run[k])
			}
			at = spans[k].End
			k++
		}
	}
	return found
}

// match reports whether raw, redacted, matches.
func (m *rawMatch) match(raw []byte) bool { return m.matchAs(raw, false) }

// matchAs is match; plain says raw holds no letter as a \u escape
// (redact.HidesKeys).
func (m *rawMatch) matchAs(raw []byte, plain bool) bool {
	at := -1 // where lit is
	if m.lit != nil {
		if at = m.lit.Index(raw); at < 0 && m.safe {
			return false
		}
	}
	shown := len(raw) // the bytes that redaction leaves as they are
	if !redact.ShowSecrets() {
		b := -1
		if plain {
			b = redact.BodyStartUnescaped(raw)
		} else {
			b = redact.BodyStart(raw)
		}
		if b >= 0 {
			shown = b
		}
	}
	if m.text != nil && at >= 0 && at+m.n <= shown {
		return true
	}
	if shown == len(raw) {
		return m.text == nil && (m.lit == nil || at >= 0) && m.matchShown(raw)
	}
	out := redact.Output(raw)
	if sameBytes(out, raw) {
		if m.lit != nil && at < 0 {
			return false
		}
		if m.text != nil {
			return at >= 0
		}
	}
	return m.matchShown(out)
}

// matchShown matches bytes as shown.
func (m *rawMatch) matchShown(b []byte) bool {
	if m.text != nil {
		return m.text.Contains(b)
	}
	if m.anch == nil {
		return m.re.Match(b)
	}
	for q := 0; ; q++ {
		j := m.pre.Index(b[q:])
		if j < 0 {
			return false
		}
		if q += j; m.anch.Match(b[q:]) {
			return true
		}
	}
}

// sameBytes reports whether redaction returned its input (it returns raw
// itself when it changes nothing).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// anchored returns re's literal prefix and re anchored at the start of its
// input, when every match of re starts with that literal and nothing
// before a match's first byte decides it (its program starts with a
// rune, not an assertion such as ^ or \b): then re matches b exactly when
// the anchored form matches b from some occurrence of the prefix on. Nil
// when not so.
func anchored(re *regexp.Regexp) (string, *regexp.Regexp) {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return "", nil
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return "", nil
	}
	prefix, _ := prog.Prefix() // "" unless the program starts with that literal
	if prefix == "" {
		return "", nil
	}
	at := &syntax.Regexp{Op: syntax.OpConcat, Sub: []*syntax.Regexp{{Op: syntax.OpBeginText}, tree}}
	a, err := regexp.Compile(at.String())
	if err != nil {
		return "", nil
	}
	return prefix, a
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
