package detect

import (
	"context"
	"testing"
)

// TestLabelledCases runs each labelled case's events through its rule alone
// (with the rule's own suppressions) and checks the number of hits.
func TestLabelledCases(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, c := range readLabels(t) {
		lines, ok := files[c.file]
		if !ok {
			lines = fileLines(t, c.file)
			files[c.file] = lines
		}
		if c.to >= len(lines) {
			t.Fatalf("%s:%d-%d: past the end", c.file, c.from, c.to)
		}
		one, err := set.Select([]string{c.rule})
		if err != nil {
			t.Fatalf("%s:%d: %v", c.file, c.from, err)
		}
		st := storeOf(t, lines[c.from:c.to+1])
		eng, err := NewEngine(one, Options{})
		if err != nil {
			t.Fatal(err)
		}
		hits, err := eng.Eval(context.Background(), st, st.Requests())
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != c.hits {
			t.Errorf("%s:%d-%d %s: %d hits, want %d (%s)", c.file, c.from, c.to, c.rule, len(hits), c.hits, c.note)
		}
	}
}

// TestEveryRuleLabelled: each rule of the pack has at least one positive
// and one negative labelled case.
func TestEveryRuleLabelled(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := map[string]int{}, map[string]int{}
	for _, c := range readLabels(t) {
		if set.Rule(c.rule) == nil {
			t.Errorf("labels.tsv names unknown rule %q", c.rule)
		}
		if c.hits > 0 {
			pos[c.rule]++
		} else {
			neg[c.rule]++
		}
	}
	for _, r := range set.Rules {
		if pos[r.Name] == 0 || neg[r.Name] == 0 {
			t.Errorf("rule %s: %d positive and %d negative cases, want at least one of each", r.Name, pos[r.Name], neg[r.Name])
		}
		t.Logf("%-28s +%d -%d", r.Name, pos[r.Name], neg[r.Name])
	}
}
