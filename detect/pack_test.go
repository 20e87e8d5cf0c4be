package detect

import "testing"

func TestBuiltinCompiles(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) < 20 {
		t.Errorf("%d rules, want at least 20", len(set.Rules))
	}
	for _, r := range set.Rules {
		t.Logf("%-28s %-8s %s", r.Name, r.Severity, r.Plan())
	}
	t.Logf("system-principal: %s", set.Suppressions["system-principal"].filter.Plan())
}
