package query

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/store"
)

func TestRangeTerms(t *testing.T) {
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	defer func(f func() time.Time) { Now = f }(Now)
	Now = func() time.Time { return now }
	tests := []struct {
		text         string
		since, until time.Time
	}{
		{"since:2h", now.Add(-2 * time.Hour), time.Time{}},
		{"until:30m verb:get", time.Time{}, now.Add(-30 * time.Minute)},
		{"since:2026-12-05T10:00:00Z until:2026-12-05T11:00:00.5Z",
			time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 5, 11, 0, 0, 5e8, time.UTC)},
		{"since:2026-12-01 since:1d", now.Add(-24 * time.Hour), time.Time{}}, // the later wins
		{"-since:1h", time.Time{}, time.Time{}},                              // a negation is no range
		{"since:1d12h", now.Add(-36 * time.Hour), time.Time{}},
		{"verb:get", time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		f, err := Compile(tt.text)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.text, err)
		}
		s, u := f.Range()
		if !s.Equal(tt.since) || !u.Equal(tt.until) {
			t.Errorf("Compile(%q).Range() = %v, %v; want %v, %v", tt.text, s, u, tt.since, tt.until)
		}
	}
	f, _ := Compile("verb:get")
	s, u := f.Between(now.Add(-time.Hour), now).Range()
	if !s.Equal(now.Add(-time.Hour)) || !u.Equal(now) {
		t.Errorf("Between: Range() = %v, %v", s, u)
	}
}

func TestRangeTermsKeep(t *testing.T) {
	st := loadStore(t, filterFixtures...)
	all := st.All()
	var times []int64
	st.Times(all, func(ts int64, _, _ bool) {
		if ts > 0 {
			times = append(times, ts)
		}
	})
	if len(times) < 10 {
		t.Fatal("fixtures have too few timestamps")
	}
	mid := time.Unix(0, times[len(times)/2]).UTC()
	count := func(text string) uint64 {
		f, err := Compile(text)
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		s, err := f.Eval(context.Background(), st, all)
		if err != nil {
			t.Fatal(err)
		}
		return s.GetCardinality()
	}
	at := mid.Format(time.RFC3339Nano)
	before, after := count("until:"+at), count("since:"+at)
	want := uint64(len(times))
	if before+after != want || before == 0 || after == 0 {
		t.Errorf("until %d + since %d, want %d (both > 0)", before, after, want)
	}
	if n := count("-until:" + at); n != uint64(all.GetCardinality())-before {
		t.Errorf("-until kept %d, want %d", n, all.GetCardinality()-before)
	}
}

func TestFreeText(t *testing.T) {
	st := loadStore(t, filterFixtures...)
	all := st.All()
	// Reference: the same fields, lower-cased, read from each Entry.
	ref := func(word string) uint64 {
		n := uint64(0)
		st.Each(all, func(e *store.Entry) bool {
			for _, s := range []string{e.User.Name, e.Impersonated.Name, e.Verb, e.Object.Resource, e.Object.Name, e.Path, e.Reason} {
				if containsFold(s, word) {
					n++
					break
				}
			}
			return true
		})
		return n
	}
	for _, word := range []string{"admin", "LIST", "pods", "/healthz", "RBAC", "kube-proxy", "zz-nothing"} {
		f, err := Compile(word)
		if err != nil {
			t.Fatalf("Compile(%q): %v", word, err)
		}
		if f.IsJQ() {
			t.Fatalf("%q compiled as jq", word)
		}
		s, err := f.Eval(context.Background(), st, all)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.GetCardinality(), ref(word); got != want {
			t.Errorf("%q kept %d, want %d", word, got, want)
		}
	}
	// A quoted phrase, and a negated word.
	f, err := Compile(`-"zz nothing" verb:get`)
	if err != nil || f.IsJQ() {
		t.Fatalf("quoted phrase: %v %v", err, f)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func TestWithRange(t *testing.T) {
	a := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	b := a.Add(time.Hour)
	tests := []struct {
		in, since, until bool
		text, want       string
	}{
		{text: "verb:get", since: true, until: true, want: "verb:get since:2026-12-06T05:00:00Z until:2026-12-06T06:00:00Z"},
		{text: "since:2h verb:get until:1h", since: true, want: "verb:get since:2026-12-06T05:00:00Z"},
		{text: "since:2h", want: ""},
		{text: "", until: true, want: "until:2026-12-06T06:00:00Z"},
	}
	for _, tt := range tests {
		var s, u time.Time
		if tt.since {
			s = a
		}
		if tt.until {
			u = b
		}
		got, ok := WithRange(tt.text, s, u)
		if !ok || got != tt.want {
			t.Errorf("WithRange(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
		}
	}
	if _, ok := WithRange(`.verb == "get"`, a, b); ok {
		t.Error("WithRange on jq: ok")
	}
}
