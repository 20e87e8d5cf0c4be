package detect

import (
	"context"
	"os"
	"sort"
	"testing"
)

// TestBenignTraffic runs the pack over the generator's traffic (1 M events
// by default, KAUDIT_BENCH_EVENTS to change) and reports hits per rule. The
// generator plays a small cluster with a few humans; what it does on
// purpose that a detection should see is listed in onPurpose, and every
// other high or critical hit fails the test. Slow: KAUDIT_E2E=1 only.
func TestBenignTraffic(t *testing.T) {
	if os.Getenv("KAUDIT_E2E") == "" {
		t.Skip("KAUDIT_E2E=1 runs the pack over 1 M generated events")
	}
	n := benchEvents()
	st := replayInto(t, genLog(t, n))
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := NewEngine(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := eng.Eval(context.Background(), st, st.Requests())
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string]int{}
	bySev := map[Severity]int{}
	for _, h := range hits {
		byRule[h.Rule.Name]++
		bySev[h.Rule.Severity]++
	}
	names := make([]string, 0, len(byRule))
	for n := range byRule {
		names = append(names, n)
	}
	sort.Strings(names)
	reqs := st.Requests().GetCardinality()
	for _, name := range names {
		t.Logf("%-28s %-8s %7d hits (%.4f%% of %d requests)", name, set.Rule(name).Severity, byRule[name], 100*float64(byRule[name])/float64(reqs), reqs)
	}
	for s := Info; s <= Critical; s++ {
		t.Logf("severity %-8s %d hits", s, bySev[s])
	}
	for _, h := range hits {
		if h.Rule.Severity < High || onPurpose(st.Entry(h.ID).User.Name, h.Rule.Name) {
			continue
		}
		e := st.Entry(h.ID)
		t.Errorf("high-severity hit on benign traffic: %s by %s: %s %s %s/%s", h.Rule.Name, e.User.Name, e.Verb, e.Object.Resource, e.Object.Namespace, e.Object.Name)
	}
}

// onPurpose lists what the generator does deliberately that a rule should
// flag (see gen/pod.go: humans' kubectl-run debugging pods are privileged one
// time in four, "what body filters look for").
func onPurpose(user, rule string) bool {
	return rule == "privileged-pod" && (user == "bob" || user == "carol" || user == "dana@example.com")
}
