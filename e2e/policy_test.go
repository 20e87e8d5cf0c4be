package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/policy"
)

// eachEvent calls fn with every event of an audit log file and its line.
func eachEvent(t *testing.T, path string, fn func(e *audit.Event, line []byte)) {
	t.Helper()
	var evs []audit.Event
	eachLine(t, path, func(line []byte) {
		var err error
		// A copy: the event's strings alias the line, and the scanner
		// reuses its buffer.
		line = bytes.Clone(line)
		if evs, err = audit.Decode(line, evs[:0]); err != nil || len(evs) != 1 {
			t.Fatalf("%s: %v", path, err)
		}
		fn(&evs[0], line)
	})
}

// countKeys counts the events of files before cut per (user, verb,
// resource, level, stage).
func countKeys(t *testing.T, files []string, cut time.Time) map[policy.KeyCount]int64 {
	t.Helper()
	counts := map[policy.KeyCount]int64{}
	for _, p := range files {
		eachEvent(t, p, func(e *audit.Event, _ []byte) {
			if e.StageTime.Before(cut) {
				counts[policy.KeyCount{User: e.User.Name, Verb: e.Verb, Resource: policy.ResourceOf(e), Level: e.Level.String(), Stage: e.Stage.String()}]++
			}
		})
	}
	return counts
}

// linesBefore writes the events of files before cut to a new file.
func linesBefore(t *testing.T, files []string, cut time.Time) string {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for _, p := range files {
		eachEvent(t, p, func(e *audit.Event, line []byte) {
			if e.StageTime.Before(cut) {
				out.Write(line)
				out.Write([]byte{'\n'})
			}
		})
	}
	return out.Name()
}

// checkPolicySimulate compares what kaudit policy simulate --policy fixed
// predicts from the allstages log (files of server A) with what server B,
// recording the same workload at the same time under the fixed policy,
// wrote; both up to cut, when the workloads had ended. Per (user, verb,
// resource, level, stage):
//
//   - the workload's users (alice, bob, carol, ci-bot, and admin, whose
//     setup traffic is as deterministic, except for up.sh polling /readyz
//     as admin until the server is ready): equal, event for event;
//   - the API server's own background traffic (system:apiserver readiness
//     self-checks, status patches of its controllers, lease renewals):
//     it depends on timing (how long each server took to start), so per
//     key the counts may differ; the sum of absolute differences may be
//     10% of B's background events (at least 20).
func checkPolicySimulate(t *testing.T, bin, fixed string, allstages, b []string, cut time.Time) {
	out, err := exec.Command(bin, "policy", "simulate", "--policy", fixed, "--breakdown", "-o", "json", linesBefore(t, allstages, cut)).Output()
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
	actual := countKeys(t, b, cut)

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
