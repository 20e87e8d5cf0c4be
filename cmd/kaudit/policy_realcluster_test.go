package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/policy"
)

// TestE2EPolicySimulateRealCluster records the same workload on two real
// API servers, A under the allstages policy and B under the fixed Datadog
// policy, then runs kaudit policy simulate --policy fixed on A's logs and
// compares its prediction with what B actually wrote, per (user, verb,
// resource, level, stage):
//
//   - the workload's users (alice, bob, carol, ci-bot, and admin, whose
//     setup traffic is as deterministic, except for up.sh polling /readyz
//     as admin until the server is ready): equal, event for event;
//   - the API server's own background traffic (system:apiserver readiness
//     self-checks, status patches of its controllers, lease renewals):
//     it depends on timing (how long each server took to start and how long
//     the workload ran), so per key the counts may differ; the test allows
//     the sum of absolute differences to be 10% of B's background events
//     (at least 20).
//
// Run it with:
//
//	KAUDIT_E2E=1 go test ./cmd/kaudit -run E2EPolicySimulate -v -timeout 10m
func TestE2EPolicySimulateRealCluster(t *testing.T) {
	e2e(t)
	rc := realcluster(t)
	bin := buildKaudit(t)
	fixed, err := filepath.Abs(policyData + "policy-datadog-fixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type cluster struct {
		dir string
		env []string
	}
	a := cluster{t.TempDir(), []string{"APISERVER_PORT=28443", "ETCD_CLIENT_PORT=24379", "ETCD_PEER_PORT=24380", "AUDIT_POLICY=allstages"}}
	b := cluster{t.TempDir(), []string{"APISERVER_PORT=28543", "ETCD_CLIENT_PORT=24479", "ETCD_PEER_PORT=24480", "AUDIT_POLICY=" + fixed}}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []cluster{a, b} {
		env := append(os.Environ(), append(c.env, "AUDIT_LOG_MAXSIZE=1", "AUDIT_LOG_COMPRESS=0")...)
		sh := func(script string, args ...string) ([]byte, error) {
			cmd := exec.Command("bash", append([]string{filepath.Join(rc, script)}, args...)...)
			cmd.Env = env
			return cmd.CombinedOutput()
		}
		t.Cleanup(func() { sh("down.sh", c.dir) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := sh("up.sh", c.dir); err != nil {
				errs[i] = &scriptError{"up.sh", err, out}
				return
			}
			if out, err := sh("workload.sh", c.dir, "1"); err != nil {
				t.Logf("workload.sh on %s: %v (outcomes in workload.log)\n%s", c.dir, err, out)
			}
			// Stop the server so that its audit buffer is flushed.
			if out, err := sh("down.sh", c.dir); err != nil {
				errs[i] = &scriptError{"down.sh", err, out}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	out, err := exec.Command(bin, "policy", "simulate", "--policy", fixed, "--breakdown", "-o", "json", a.dir).Output()
	if err != nil {
		t.Fatalf("kaudit policy simulate: %v", err)
	}
	var rep policy.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	predicted := map[policy.KeyCount]int64{}
	for _, k := range rep.Breakdown {
		n := k.Events
		k.Events = 0
		predicted[k] += n
	}
	actual := countKeys(t, b.dir)

	workload := map[string]bool{"alice": true, "bob": true, "carol": true, "system:serviceaccount:ci:ci-bot": true, "admin": true}
	perUser := map[string]int64{}
	var bgEvents, bgDiff, predictedTotal, actualTotal int64
	keys := map[policy.KeyCount]bool{}
	for k := range predicted {
		keys[k] = true
	}
	for k := range actual {
		keys[k] = true
	}
	for k := range keys {
		p, n := predicted[k], actual[k]
		predictedTotal += p
		actualTotal += n
		if workload[k.User] && !(k.User == "admin" && k.Resource == "/readyz") {
			perUser[k.User] += n
			if p != n {
				t.Errorf("%s %s %s %s %s: simulate predicted %d events, the fixed policy wrote %d", k.User, k.Verb, k.Resource, k.Level, k.Stage, p, n)
			}
			continue
		}
		bgEvents += n
		bgDiff += max(p-n, n-p)
	}
	t.Logf("A (allstages): %d requests, %d events recorded; simulate predicts %d events under the fixed policy; B (fixed) wrote %d",
		rep.Requests, rep.Recorded.Events, rep.Predicted.Events, actualTotal)
	t.Logf("workload events in B per user: %v", perUser)
	t.Logf("background: B wrote %d events, |predicted - actual| summed over keys = %d", bgEvents, bgDiff)
	for _, u := range []string{"alice", "bob", "carol", "system:serviceaccount:ci:ci-bot"} {
		if perUser[u] == 0 {
			t.Errorf("no events of %s in B's log: did workload.sh run?", u)
		}
	}
	if bgDiff > max(20, bgEvents/10) {
		t.Errorf("background traffic differs by %d events of %d (tolerance 10%%)", bgDiff, bgEvents)
	}
	if predictedTotal != rep.Predicted.Events {
		t.Errorf("breakdown adds up to %d events, report says %d", predictedTotal, rep.Predicted.Events)
	}
}

type scriptError struct {
	script string
	err    error
	out    []byte
}

func (e *scriptError) Error() string { return e.script + ": " + e.err.Error() + "\n" + string(e.out) }

// countKeys counts the events in an audit directory per (user, verb,
// resource, level, stage).
func countKeys(t *testing.T, dir string) map[policy.KeyCount]int64 {
	t.Helper()
	counts := map[policy.KeyCount]int64{}
	r := &ingest.Replay{Paths: []string{dir}, OnProblem: func(p ingest.Problem) { t.Errorf("%s: %v", dir, p) }}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		for i := range b.Events {
			e := &b.Events[i]
			counts[policy.KeyCount{User: e.User.Name, Verb: e.Verb, Resource: policy.ResourceOf(e), Level: e.Level.String(), Stage: e.Stage.String()}]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return counts
}
