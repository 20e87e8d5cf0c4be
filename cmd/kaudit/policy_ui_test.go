package main

import (
	"context"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// The UI's policy simulation (P) over every request of a store says
// exactly what kaudit policy simulate says over the same log.
func TestPolicyUIMatchesSimulate(t *testing.T) {
	const pol, log = "../../policy/testdata/policy-datadog-fixed.yaml", "../../policy/testdata/realcluster/allstages-audit.log.gz"
	code, want, errOut := kaudit(t, "", "policy", "simulate", "--policy", pol, log)
	if code != exitOK {
		t.Fatalf("policy simulate: exit %d: %s", code, errOut)
	}
	st := store.New()
	r := &ingest.Replay{Paths: []string{log}}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	simulate, err := policyUI(pol)
	if err != nil {
		t.Fatal(err)
	}
	got, err := simulate(context.Background(), st, st.Requests())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the UI's simulation differs from policy simulate:\n--- UI\n%s\n--- simulate\n%s", got, want)
	}
	if f, err := policyUI(""); f != nil || err != nil {
		t.Errorf("no --policy: %v, %v", f != nil, err)
	}
	if _, err := policyUI("../../policy/testdata/missing.yaml"); err == nil {
		t.Error("a missing policy file loaded")
	}
}
