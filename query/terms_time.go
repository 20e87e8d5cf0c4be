package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kaudit/kaudit/store"
)

// Time terms and free text.
//
//	since:2h                        stageTimestamp at or after now − 2h
//	until:2026-12-06T05:00:00Z      stageTimestamp before that time
//	since:2026-12-06                a date alone is its midnight UTC
//	orphan  "cannot list"           free text (see textNode)
//
// A relative time counts back from the moment the filter is compiled
// (Now), as --since does; recompiling the same text moves it.

// Now is the clock relative since:/until: values count back from (tests
// replace it).
var Now = time.Now

// ParseTime reads RFC 3339 (a date alone means its midnight UTC) or a
// duration before now ("2h", "90m", "7d", "1d12h").
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, err := ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-25T10:00:00Z) nor a duration (2h, 30m, 7d)", s)
	}
	return now.Add(-d), nil
}

// ParseDuration is time.ParseDuration that also takes whole days first
// ("7d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	if days, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, errors.New("bad days")
		}
		d := time.Duration(n) * 24 * time.Hour
		if rest == "" {
			return d, nil
		}
		r, err := time.ParseDuration(rest)
		return d + r, err
	}
	return time.ParseDuration(s)
}

// timeRange is the window a filter's since:/until: terms (and Between)
// keep; a zero side is open.
type timeRange struct{ since, until time.Time }

// narrow applies a since: or until: term (already checked by timeTerm).
func (r *timeRange) narrow(t term) {
	if (t.key != "since" && t.key != "until") || len(t.items) != 1 {
		return
	}
	v, err := ParseTime(t.items[0].val, Now())
	if err != nil {
		return
	}
	if t.key == "since" {
		r.narrowTo(v, time.Time{})
	} else {
		r.narrowTo(time.Time{}, v)
	}
}

func (r *timeRange) narrowTo(since, until time.Time) {
	if !since.IsZero() && (r.since.IsZero() || since.After(r.since)) {
		r.since = since
	}
	if !until.IsZero() && (r.until.IsZero() || until.Before(r.until)) {
		r.until = until
	}
}

// Range returns the time window the filter's since:/until: terms (and
// Between) restrict it to; a zero time is an open side. Negated time
// terms and jq comparisons do not count.
func (f *Filter) Range() (since, until time.Time) { return f.rng.since, f.rng.until }

// timeTerm is since:T or until:T.
func timeTerm(text string, t term) (node, error) {
	if len(t.items) != 1 {
		return nil, syntaxErr(text, t.items[1].pos-1, t.key+": takes one time, not a list", nil)
	}
	v, err := ParseTime(t.items[0].val, Now())
	if err != nil {
		return nil, syntaxErr(text, t.items[0].pos, err.Error(), nil)
	}
	if t.key == "since" {
		return timeAtom(v, time.Time{}), nil
	}
	return timeAtom(time.Time{}, v), nil
}

// textNode is free text: a word (or quoted phrase) found, ignoring case,
// in the user (or impersonated user), verb, resource, object name, request
// path or denial reason. A * inside matches any run of characters.
func textNode(items []item) node {
	var desc []string
	for _, it := range items {
		desc = append(desc, strconv.Quote(it.val))
	}
	match := textMatcher(items)
	d := "text:" + strings.Join(desc, ",")
	indexed := fieldAtom(d, []store.Field{store.FieldUser, store.FieldImpersonated, store.FieldVerb, store.FieldResource}, match)
	return &orNode{l: indexed, r: textScanAtom(d, match)}
}

// textMatcher is free text's test of one value: any item found in it,
// ignoring case.
func textMatcher(items []item) func(string) bool {
	var pats [][]string
	for _, it := range items {
		pats = append(pats, strings.Split("*"+strings.ToLower(it.val)+"*", "*"))
	}
	return func(s string) bool {
		s = strings.ToLower(s)
		for _, p := range pats {
			if globMatch(p, s) {
				return true
			}
		}
		return false
	}
}

// textScanAtom matches the columns free text covers that are not indexed
// (name, path, reason), deciding each distinct value once.
func textScanAtom(desc string, match func(string) bool) node {
	cols := []store.TextColumn{store.ColumnName, store.ColumnPath, store.ColumnReason}
	return &atom{desc: desc, c: costScan, match: func(ec *evalCtx, cand *store.Set) (parts, error) {
		return parts{t: ec.st.SelectMatching(cand, cols, match)}, nil
	}}
}

// WithRange returns quick-terms text with its since:/until: terms
// replaced by the given bounds (a zero time: none), for a UI that zooms.
// A jq filter cannot take terms: ok is false.
func WithRange(text string, since, until time.Time) (out string, ok bool) {
	f, err := Compile(text)
	if err != nil || f.IsJQ() {
		return text, false
	}
	terms, _ := parseTerms(text)
	var b strings.Builder
	prev := 0
	for i, t := range terms {
		if t.key != "since" && t.key != "until" {
			continue
		}
		end := len(text)
		if i+1 < len(terms) {
			end = terms[i+1].pos
		}
		b.WriteString(text[prev:t.pos])
		prev = end
	}
	b.WriteString(text[prev:])
	s := strings.TrimSpace(b.String())
	add := func(key string, v time.Time) {
		if v.IsZero() {
			return
		}
		if s != "" {
			s += " "
		}
		s += key + ":" + v.UTC().Format(time.RFC3339Nano)
	}
	add("since", since)
	add("until", until)
	return s, true
}

// TextMatch is free text s's test of one value (user, verb, resource,
// name, path or reason), as Text applies it.
func TextMatch(s string) func(string) bool {
	return textMatcher([]item{{val: s}})
}

// Text returns the filter of free text s (as a quoted phrase would be):
// found, ignoring case, in the user, verb, resource, name, path or reason.
func Text(s string) *Filter {
	q := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	return &Filter{text: q, root: textNode([]item{{val: s}})}
}
