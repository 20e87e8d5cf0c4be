package detect

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
)

// TestPublicFixturesWhole runs the whole pack over each public fixture file
// at once (as kaudit detect would) and reports the hits: how many are on
// events labelled positive for that rule, labelled negative (false
// positives), or not labelled for it. A hit on a labelled negative fails.
// Events are matched to lines by their bytes (files repeat some events;
// the store keeps the first of a duplicate auditID, stage and time).
func TestPublicFixturesWhole(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]map[string]int{} // file:line -> rule -> hits
	for _, c := range readLabels(t) {
		if c.from != c.to {
			continue
		}
		k := fmt.Sprintf("%s:%d", c.file, c.from)
		if labels[k] == nil {
			labels[k] = map[string]int{}
		}
		labels[k][c.rule] = c.hits
	}
	files, _ := filepath.Glob("testdata/public/*.jsonl")
	var events, hits, pos, neg, unlabelled int
	unl := map[string]int{}
	for _, path := range files {
		name, _ := filepath.Rel("testdata", path)
		lines := fileLines(t, name)
		byText := map[string][]int{}
		for i, l := range lines[1:] {
			byText[l] = append(byText[l], i+1)
		}
		st := storeOfFiles(t, path)
		eng, err := NewEngine(set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		hs, err := eng.Eval(context.Background(), st, st.Requests())
		if err != nil {
			t.Fatal(err)
		}
		events += int(st.Requests().GetCardinality())
		rr := st.NewRawReader()
		for _, h := range hs {
			hits++
			raw, err := rr.Raw(h.ID)
			if err != nil {
				t.Fatal(err)
			}
			label, labelled := -1, false
			for _, ln := range byText[string(raw)] {
				if n, ok := labels[fmt.Sprintf("%s:%d", name, ln)][h.Rule.Name]; ok {
					label, labelled = n, true
				}
			}
			switch {
			case !labelled:
				unlabelled++
				unl[h.Rule.Name]++
			case label > 0:
				pos++
			default:
				neg++
				t.Errorf("%s: %s hit an event labelled negative for it (lines %v)", name, h.Rule.Name, byText[string(raw)])
			}
		}
	}
	names := make([]string, 0, len(unl))
	for n := range unl {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("unlabelled hits of %s: %d", n, unl[n])
	}
	t.Logf("%d requests in %d files: %d hits: %d on labelled positives, %d on labelled negatives, %d not labelled for that rule",
		events, len(files), hits, pos, neg, unlabelled)
}
