package tui

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/redact"
	"github.com/kaudit/kaudit/store"
)

// F finds text in the rows and the JSON; n and N walk the matches in
// display order, wrapping, and the filter line counts them.
func TestFindEvents(t *testing.T) {
	st := genStore(t, 3000)
	m := started(t, st, 100, 30)
	m = drive(t, m, keys("F")...)
	m = drive(t, m, typed("Forbidden")...) // in the JSON only (responseStatus.reason)
	m = drive(t, m, keys("enter")...)
	want := 0
	var first store.ID = 1 << 31
	st.Each(m.res.set, func(e *store.Entry) bool {
		raw, _ := st.Raw(e.ID, nil)
		if strings.Contains(string(raw), "Forbidden") || strings.Contains(strings.ToLower(e.User.Name+e.Verb+e.Object.Resource+e.Object.Name+e.Path+e.Reason), "forbidden") {
			want++
			first = min(first, e.ID)
		}
		return true
	})
	if want == 0 {
		t.Fatal("the generated events have no Forbidden")
	}
	if got := int(m.find.hits.GetCardinality()); got != want {
		t.Fatalf("%d hits, want %d", got, want)
	}
	if m.find.shown == nil {
		t.Error("the find's redaction verdicts were not kept for the next")
	}
	er := m.rows().(eventRows)
	if id, _ := er.id(m.cursor()); id != first {
		t.Errorf("cursor on %d, want the first match %d", id, first)
	}
	if !strings.Contains(m.filterLine(), "find Forbidden: 1/") {
		t.Errorf("filter line %q", m.filterLine())
	}
	m = drive(t, m, keys("n")...)
	id2, _ := er.id(m.cursor())
	if !m.find.hits.Contains(id2) || id2 <= first || !strings.Contains(m.filterLine(), "2/") {
		t.Errorf("n: cursor on %d (%q)", id2, m.filterLine())
	}
	m = drive(t, m, keys("N", "N")...) // back to the first, then wrap to the last
	idLast, _ := er.id(m.cursor())
	if idLast != m.find.hits.Maximum() {
		t.Errorf("N from the first match went to %d, want the last %d", idLast, m.find.hits.Maximum())
	}
}

func TestFindRegexpAndGroupedTabs(t *testing.T) {
	m := started(t, genStore(t, 3000), 100, 30)
	m = drive(t, m, keys("3", "F")...) // Verbs
	m = drive(t, m, typed("/^(patch|delete)$/")...)
	m = drive(t, m, keys("enter")...)
	if len(m.find.rows) != 2 {
		t.Fatalf("regexp found rows %v", m.find.rows)
	}
	if m.cursor() != m.find.rows[0] {
		t.Errorf("cursor %d, want %d", m.cursor(), m.find.rows[0])
	}
	m = drive(t, m, keys("n")...)
	if m.cursor() != m.find.rows[1] {
		t.Errorf("n: cursor %d, want %d", m.cursor(), m.find.rows[1])
	}
	m = drive(t, m, keys("F")...)
	m = drive(t, m, typed("/(/")...)
	m = drive(t, m, keys("enter")...)
	if m.find.err == "" || !strings.Contains(m.filterLine(), "find: ") {
		t.Errorf("a bad regexp: %q", m.filterLine())
	}
}

// The walk from the cursor finds the same next match as the full find.
func TestFirstHitAgreesWithFind(t *testing.T) {
	st := genStore(t, 3000)
	m := started(t, st, 100, 30)
	er := m.rows().(eventRows)
	hits, err := findEvents(context.Background(), st, er.set, "Forbidden", nil)
	if err != nil || hits.IsEmpty() {
		t.Fatal(err)
	}
	for _, cur := range []int{0, 500, er.Len() - 1} {
		for _, dir := range []int{1, -1} {
			want, _ := er.nextHit(hits, cur, dir, true)
			msg, _ := firstHitCmd(context.Background(), st, er, cur, dir, "Forbidden", nil, 1)().(firstHitMsg)
			if got, _ := er.rowOf(msg.ev.id); got != want {
				t.Errorf("from row %d dir %d: first hit at row %d, find says %d", cur, dir, got, want)
			}
		}
	}
}

// n while the count still runs walks on from the cursor; the count's
// arrival then does not move the cursor back.
func TestFindNextWhileCounting(t *testing.T) {
	st := genStore(t, 3000)
	m := started(t, st, 100, 30)
	m = drive(t, m, keys("g", "F")...)
	m = drive(t, m, typed("Forbidden")...)
	nm, findCmd := m.Update(keys("enter")[0]) // the find's Cmds are held back
	m = nm.(Model)
	hits, _ := findEvents(context.Background(), st, m.rows().(eventRows).set, "Forbidden", nil)
	first, _ := hits.Select(0)
	second, _ := hits.Select(1)
	m.tables[m.tab].SetCursor(func() int { r, _ := m.rows().(eventRows).rowOf(first); return r }())
	nm, walk := m.Update(keys("n")[0])
	m = run(t, nm.(Model), walk)
	er := m.rows().(eventRows)
	if id, _ := er.id(m.cursor()); id != second {
		t.Fatalf("n while counting: cursor on %d, want the second match %d", id, second)
	}
	m = run(t, m, findCmd)
	if id, _ := er.id(m.cursor()); id != second || !strings.Contains(m.filterLine(), "2/") {
		t.Errorf("after the count: cursor on %d (want %d), %q", id, second, m.filterLine())
	}
}

// TestScanRawAgreesWithRedacted: the fast scan (skipping the redaction
// of events that lack a string the find needs, anchoring a regexp on its
// prefix) finds exactly what matching the redacted JSON of every event
// finds, for text and for regexps, among them finds of what redaction
// writes or hides; and so does a scan that trusts what the scans before it
// learnt (shownCache), whose every verdict is checked.
func TestScanRawAgreesWithRedacted(t *testing.T) {
	st := genStore(t, 3000)
	data, err := os.ReadFile("../redact/testdata/secrets.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.TrimSpace(data)
	// The TokenReview again, its body's key written with a \u escape (a
	// hostile sender): its token is redacted all the same, so not found.
	for _, l := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(l, []byte(`"auditID":"a5"`)) {
			l = bytes.Replace(l, []byte(`"auditID":"a5"`), []byte(`"auditID":"a5-escaped"`), 1)
			l = bytes.Replace(l, []byte(`"requestObject"`), []byte(`"request\u004fbject"`), 1)
			data = append(append(data, '\n'), l...)
		}
	}
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	appendLines(t, st, data, starts)
	ids := st.All().ToArray()
	last, _ := st.Raw(ids[len(ids)-1], nil)
	if !bytes.Contains(last, []byte("a5-escaped")) || !bytes.Contains(last, []byte("review-me")) || bytes.Contains(redact.Output(last), []byte("review-me")) {
		t.Fatalf("the escaped TokenReview is not stored last, or not redacted: %s", redact.Output(last))
	}
	var known *shownCache
	scanRaw := func(ctx context.Context, st *store.Store, ids []uint32, needle []byte, re *regexp.Regexp) ([]uint32, error) {
		t.Helper()
		got, learnt, err := scanWith(ctx, st.NewRawReader(), newRawMatch(string(needle), re), ids, nil)
		for _, id := range learnt {
			if raw, _ := st.Raw(id, nil); !sameBytes(redact.Output(raw), raw) {
				t.Fatalf("learnt that redaction leaves event %d as it is: %s", id, raw)
			}
		}
		known = known.with(learnt, 0)
		again, _, err2 := scanWith(ctx, st.NewRawReader(), newRawMatch(string(needle), re), ids, known)
		if !slices.Equal(got, again) || err2 != nil {
			t.Errorf("%q /%v/: %d hits, %d trusting the cache", needle, re, len(got), len(again))
		}
		return got, err
	}
	brute := func(match func([]byte) bool) []uint32 {
		var want []uint32
		for _, id := range ids {
			raw, _ := st.Raw(id, nil)
			if match(redact.Output(raw)) {
				want = append(want, id)
			}
		}
		return want
	}
	for _, text := range []string{"Forbidden", "secrets", "redacted", "sha256", "review-me", "kube-system", "zzz-none", `"code":403`, `"<redacted`, `>"`, "s",
		"}\n{", "\n", "Z\n{\"kind\"", // across two events' bytes: in no event
	} {
		want := brute(func(b []byte) bool { return bytes.Contains(b, []byte(text)) })
		got, err := scanRaw(context.Background(), st, ids, []byte(text), nil)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %d hits (err %v), want %d", text, len(got), err, len(want))
		}
		if text == "redacted" && len(want) == 0 {
			t.Error("no generated event has a redacted secret: the test shows nothing")
		}
	}
	for _, expr := range []string{
		`"code":\s*40[13]`, `"code":403`, `Forbid+en`, `(?i)forbidden`, `redacted sha256:[0-9a-f]{12}`,
		`"<redacted`, `sha256:[0-9a-f]+>"`, `\d{3}-\d+`, `verb":"(get|list)"`, `^\{"kind"`, `}$`,
		`review-me`, `"password":\s*"`, `token`, `Forbidden`, `()`, `ku+be-system\b`, `\bsystem:node`, `x*`, `\x{fffd}`,
		// Literal prefixes tried anchored: with assertions after the
		// prefix, flags, alternations, captures and a Q-quoted tail.
		`"verb":"(?:get|list)"`, `(?m)"kind":"Event",$`, `"code":\d+\}`, `Forbidden\b`, `kube\B`, `"user(name)?":`,
		`sys(?i:TEM):`, `"reason":"[^"]*"$`, `\{"kind"`, `"code":(403|401)|"code":500`, `ab|ac`, `"\Q<redacted\E`,
		`"<re(d)acted sha256:[0-9a-f]{12}>"`, `k+ube`, `"level":"Request`,
	} {
		re := regexp.MustCompile(expr)
		want := brute(re.Match)
		got, err := scanRaw(context.Background(), st, ids, nil, re)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("/%s/: %d hits (err %v), want %d", expr, len(got), err, len(want))
		}
		if expr == `"<redacted` && len(want) == 0 {
			t.Error("no event gains a match by redaction: the test shows nothing")
		}
	}
	cached, redacted := 0, 0
	for _, id := range ids {
		raw, _ := st.Raw(id, nil)
		switch {
		case known.has(id):
			cached++
		case !sameBytes(redact.Output(raw), raw):
			redacted++
		}
	}
	if cached < len(ids)/2 || redacted == 0 {
		t.Errorf("%d of %d events known shown as stored, %d redacted: the cache shows little", cached, len(ids), redacted)
	}
}

// findEvents is, exactly, the events whose fields hold the text (as the
// filter's free text) or whose redacted JSON holds it.
func TestFindEventsIsBruteForce(t *testing.T) {
	defer func(n int) { findSlice = n }(findSlice)
	findSlice = 97 // many slices, taken by the workers in any order
	st := genStore(t, 3000)
	set := st.Requests()
	for _, text := range []string{"secrets", "Forbidden", "KUBE-SYSTEM", "system:serviceaccount:kube-system", "healthz", "zzz", "web-*"} {
		fields := query.TextMatch(text)
		var want []uint32
		st.Each(set, func(e *store.Entry) bool {
			raw, _ := st.Raw(e.ID, nil)
			if fieldsHold(*e, fields) || bytes.Contains(redact.Output(raw), []byte(text)) {
				want = append(want, e.ID)
			}
			return true
		})
		hits, err := findEvents(context.Background(), st, set, text, nil)
		if err != nil || !slices.Equal(hits.ToArray(), want) {
			t.Errorf("%q: %d hits (err %v), want %d", text, hits.GetCardinality(), err, len(want))
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`"code":\s*40[13]`, `"code":`},
		{`abc`, "abc"},
		{`a(bcd)+e`, "bcd"},
		{`x{2,}yz`, "yz"}, // xx+yz: the repeat ends the run
		{`(?i)forbidden`, ""},
		{`Forb(?i:id)den`, "Forb"},
		{`get|list`, ""},
		{`a?bc*`, "b"},
		{`\x{fffd}ab`, ""}, // U+FFFD also matches invalid UTF-8
		{`(`, ""},
	} {
		if got := requiredLiteral(c.expr); got != c.want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// A regexp is tried anchored at its literal prefix only when every match
// starts with it and no assertion comes before it; after the prefix, only
// where the next byte can continue a match.
func TestAnchored(t *testing.T) {
	for _, c := range []struct{ expr, prefix string }{
		{`"code":\s*40[13]`, `"code":`},
		{`ab|ac`, "a"},
		{`"user(name)?":`, `"user`},
		{`Forbidden\b`, "Forbidden"},
		{`^abc`, ""}, // only at the start of the event
		{`(?m)^abc`, ""},
		{`\babc`, ""},
		{`(?i)abc`, ""},
		{`x*`, ""},
		{`get|list`, ""},
	} {
		a := anchored(regexp.MustCompile(c.expr))
		if (a != nil) != (c.prefix != "") || a != nil && a.prefix != c.prefix {
			t.Errorf("anchored(%q) = %+v; want prefix %q", c.expr, a, c.prefix)
		}
		if a != nil && a.re.MatchString("x"+c.prefix+"bc:40") {
			t.Errorf("anchored(%q) = %v matches after the start", c.expr, a.re)
		}
	}
	for _, c := range []struct {
		expr, yes, no string // bytes that may and may not follow the prefix
		end           bool
	}{
		{`"code":\s*40[13]`, " \t\n\r\f4", "2x\"", false},
		{`ab|ac`, "bc", "ad", false},
		{`"user(name)?":`, `n"`, "x:", false},
		{`Forbidden\b`, "\x00x ", "", true},
		{`ku+be`, "ub", "k", false},
		{`sys(?i:TEM)`, "tTxX", "", false},
		{`a[^b]`, "a\x80\xff", "b", false},
		{`a[é-ê]`, "\xc3\x80", "a", false},
	} {
		a := anchored(regexp.MustCompile(c.expr))
		for _, b := range []byte(c.yes) {
			if !a.next[b] {
				t.Errorf("anchored(%q): %q may follow the prefix", c.expr, b)
			}
		}
		for _, b := range []byte(c.no) {
			if a.next[b] {
				t.Errorf("anchored(%q): %q cannot follow the prefix", c.expr, b)
			}
		}
		if a.end != c.end {
			t.Errorf("anchored(%q): end %v", c.expr, a.end)
		}
	}
}

// A new result over the same requests keeps a find's count and position
// (a replay's last batch arriving after F); one over other requests asks
// for the search again.
func TestFindKeptAcrossSameResult(t *testing.T) {
	st := genStore(t, 3000)
	m := started(t, st, 100, 30)
	m = drive(t, m, keys("g", "F")...)
	m = drive(t, m, typed("Forbidden")...)
	m = drive(t, m, keys("enter")...)
	if !strings.Contains(m.filterLine(), "find Forbidden: 1/") {
		t.Fatalf("no match counted: %q", m.filterLine())
	}
	// Following the newest (a live or loading UI) must not take the cursor
	// off the match a jump put it on.
	m.follow = true
	m = drive(t, m, keys("n", "N")...)
	same := m.res
	same.set = m.res.set.Clone()
	nm, _ := m.onResult(same)
	if line := nm.filterLine(); !strings.Contains(line, "find Forbidden: 1/") {
		t.Errorf("after a result over the same requests: %q", line)
	}
	other := m.res
	other.set = m.res.set.Clone()
	other.set.Remove(other.set.Minimum())
	nm, _ = m.onResult(other)
	if line := nm.filterLine(); !strings.Contains(line, "n to search again") {
		t.Errorf("after a result over other requests: %q", line)
	}
}

// Trying a regexp anchored where its prefix is, with the next-byte table,
// is the regexp: over any text and any regexp with a literal prefix.
func FuzzAnchored(f *testing.F) {
	for _, c := range [][2]string{
		{`"code":\s*40[13]`, `{"code":200},{"code": 403}`}, {`ab|ac`, "xxacab"}, {`Forbidden\b`, "Forbiddenx Forbidden"},
		{`a[^b]`, "ab a\xff"}, {`sys(?i:TEM)$`, "sysTem"}, {`k+ube\B`, "kkubex"}, {`(?m)x$`, "x\ny"}, {`a*b`, "aab"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, expr, text string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		m := newRawMatch("", re)
		if m.anch == nil {
			return
		}
		if got, want := m.matchShown([]byte(text)), re.MatchString(text); got != want {
			t.Fatalf("/%s/ on %q: anchored tries say %v, the regexp %v", expr, text, got, want)
		}
	})
}
