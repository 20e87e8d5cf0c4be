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
//     only where bytefind finds that literal and the next byte can go on
//     with a match (the regexp package's own search for the literal is
//     several times slower on audit JSON);
//   - a regexp that is a plain string is searched as text;
//   - over many events (matchRun), text is searched once per window of
//     their bytes, and events that a find before found shown as stored
//     (shownCache) are not checked for redaction again.
type rawMatch struct {
	text *bytefind.Finder // plain text (or a regexp's whole literal); nil: run re
	n    int              // the text's length
	re   *regexp.Regexp
	lit  *bytefind.Finder // the text, or a string every match of re holds; nil: none
	safe bool             // redaction never adds lit: skip events without it
	pre  *bytefind.Finder // re's literal prefix, when anch is set
	anch *anchor          // re anchored at the start of its input
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
	if m.anch = anchored(re); m.anch != nil {
		prefix = m.anch.prefix
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
//
// known says which events redaction is known to leave as stored; learnt
// gets the events it finds so.
func (m *rawMatch) matchRun(buf []byte, run []store.ID, spans []store.Span, known *shownCache, found, learnt []uint32) ([]uint32, []uint32) {
	if m.lit == nil || !m.safe {
		plain := -1 // whether buf has no letter as a \u escape; -1: not looked
		for k, sp := range spans {
			asIs := known.has(run[k])
			if !asIs && plain < 0 {
				plain = 0
				if !redact.HidesKeys(buf) {
					plain = 1
				}
			}
			ok, l := m.matchAs(buf[sp.Start:sp.End], plain == 1, asIs)
			if ok {
				found = append(found, run[k])
			}
			if l {
				learnt = append(learnt, run[k])
			}
		}
		return found, learnt
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
			ok, l := m.matchAs(buf[spans[k].Start:spans[k].End], false, known.has(run[k]))
			if ok {
				found = append(found, run[k])
			}
			if l {
				learnt = append(learnt, run[k])
			}
			at = spans[k].End
			k++
		}
	}
	return found, learnt
}

// match reports whether raw, redacted, matches.
func (m *rawMatch) match(raw []byte) bool {
	ok, _ := m.matchAs(raw, false, false)
	return ok
}

// matchAs is match. plain says raw holds no letter as a \u escape
// (redact.HidesKeys), asIs that redaction is known to leave raw as it is
// (shownCache); learnt is true when it found that out.
func (m *rawMatch) matchAs(raw []byte, plain, asIs bool) (ok, learnt bool) {
	at := -1 // where lit is
	if m.lit != nil {
		if at = m.lit.Index(raw); at < 0 && m.safe {
			return false, false
		}
	}
	shown := len(raw) // the bytes that redaction leaves as they are
	if !asIs && !redact.ShowSecrets() {
		b := -1
		if plain {
			b = redact.BodyStartUnescaped(raw)
		} else {
			b = redact.BodyStart(raw)
		}
		if b >= 0 {
			shown = b
		} else {
			learnt = true // no body: nothing to redact
		}
	}
	if m.text != nil && at >= 0 && at+m.n <= shown {
		return true, learnt
	}
	if shown == len(raw) {
		return m.text == nil && (m.lit == nil || at >= 0) && m.matchShown(raw), learnt
	}
	out := redact.Output(raw)
	if sameBytes(out, raw) {
		learnt = true
		if m.lit != nil && at < 0 {
			return false, true
		}
		if m.text != nil {
			return at >= 0, true
		}
	}
	return m.matchShown(out), learnt
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
		if q += j; m.anch.match(b[q:]) {
			return true
		}
	}
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
