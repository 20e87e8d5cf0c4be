package query

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestJQTerms: the simple atoms of a jq filter come out as the quick
// terms meaning the same, and nothing that is not a necessary condition.
func TestJQTerms(t *testing.T) {
	for _, tc := range []struct {
		jq   string
		want string // the terms as quick terms, space-separated
	}{
		{`.verb == "get"`, `verb:"get"`},
		{`select(.verb == "delete" and .objectRef.namespace == "kube-system")`, `verb:"delete" ns:"kube-system"`},
		{`.objectRef.resource | IN("pods", "secrets")`, `resource:"pods","secrets"`},
		{`.user.username == "alice" and (.responseStatus.code == 403 or .responseStatus.code == 401)`, `user:"alice" code:"403","401"`},
		{`denied and .objectRef.name == "web"`, `denied name:"web"`},
		{`.verb == "get" or .objectRef.namespace == "x"`, ``},             // no key on both sides
		{`(.verb == "get" | not) and .auditID == "a-1"`, `auditid:"a-1"`}, // not: nothing
		{`.verb != "get"`, ``},
		{`.objectRef.namespace == null`, ``},
		{`.responseStatus.code == "403"`, ``},
		{`.responseStatus.code == 403.5`, ``},
		{`.stage == "ResponseComplete" and .userAgent == "kubectl"`, ``}, // not pushed (stage) / no attribute (ua)
		{`.objectRef.namespace | startswith("prod-")`, ``},
		{`source == "cp1" and .verb == "get"`, `source:"cp1" verb:"get"`},
	} {
		f, err := Compile(tc.jq)
		if err != nil {
			t.Fatal(err)
		}
		if got := spellPushTerms(f.Terms()); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.jq, got, tc.want)
		}
	}
}

// TestJQTermsNecessary: over random jq filters and the fixture events,
// every event a jq filter keeps is kept by its Terms as quick terms:
// pushing the terms down and evaluating the filter locally on what comes
// back keeps what the filter alone keeps.
func TestJQTermsNecessary(t *testing.T) {
	w := newWorld(t)
	w.fast = true
	r := rand.New(rand.NewPCG(seed(), 19))
	pushed := 0
	for range 300 {
		src := w.jqFilter(r, 2)
		f, err := Compile(src)
		if err != nil || !f.jq {
			continue
		}
		terms := f.Terms()
		if len(terms) == 0 {
			continue
		}
		pushed++
		tf, err := Compile(spellPushTerms(terms))
		if err != nil {
			t.Fatalf("%s: terms %+v: %v", src, terms, err)
		}
		kept := w.plain(t, src, w.st.All())
		sent, err := tf.Eval(context.Background(), w.st, w.st.All())
		if err != nil {
			t.Fatal(err)
		}
		both := w.planned(t, f, sent, false)
		if !slices.Equal(kept, both) {
			t.Fatalf("%s: pushed %s: kept %d events alone, %d after the push-down", src, spellPushTerms(terms), len(kept), len(both))
		}
	}
	if pushed < 30 {
		t.Errorf("only %d of 300 random filters had terms to push", pushed)
	}
}

func spellPushTerms(terms []Term) string {
	var out []string
	for _, t := range terms {
		if len(t.Values) == 0 {
			out = append(out, t.Key)
			continue
		}
		q := make([]string, len(t.Values))
		for i, v := range t.Values {
			q[i] = strconv.Quote(v)
		}
		out = append(out, t.Key+":"+strings.Join(q, ","))
	}
	return strings.Join(out, " ")
}
