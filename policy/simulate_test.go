package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

func loadPolicy(t testing.TB, name string) *Policy {
	t.Helper()
	p, err := Load(readTestdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// replay reads audit logs into a Simulator and, as a cross-check, counts
// the events per (user, verb, resource, level, stage) the logs hold.
func replay(t testing.TB, paths ...string) (*Simulator, map[KeyCount]int64) {
	t.Helper()
	sim := NewSimulator()
	counts := map[KeyCount]int64{}
	r := &ingest.Replay{Paths: paths, OnProblem: func(p ingest.Problem) { t.Errorf("input problem: %v", p) }}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		for i := range b.Events {
			e := &b.Events[i]
			sim.Add(e)
			counts[KeyCount{User: e.User.Name, Verb: e.Verb, Resource: ResourceOf(e), Level: e.Level.String(), Stage: e.Stage.String()}]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return sim, counts
}

// workloadUsers are the users of scripts/realcluster/workload.sh whose
// traffic is the same in every run.
var workloadUsers = map[string]bool{"alice": true, "bob": true, "carol": true, "system:serviceaccount:ci:ci-bot": true, "admin": true}

// TestSimulatePredictsRecording: the same workload recorded under the
// allstages policy and under the fixed Datadog policy on two real API
// servers. Simulating the fixed policy on the allstages log predicts the
// fixed log exactly for the workload's users; the API server's own
// background traffic (readiness self-checks, status patches of its
// controllers) depends on timing and may differ by a few events.
func TestSimulatePredictsRecording(t *testing.T) {
	sim, _ := replay(t, "testdata/realcluster/allstages-audit.log.gz")
	_, actual := replay(t, "testdata/realcluster/fixed-audit.log.gz")
	res := sim.Run(loadPolicy(t, "policy-datadog-fixed.yaml"))
	predicted := map[KeyCount]int64{}
	for _, k := range res.Breakdown {
		n := k.Events
		k.Events = 0
		predicted[k] = n
	}
	var workload, other, otherDiff int64
	for k := range union(predicted, actual) {
		p, a := predicted[k], actual[k]
		if workloadUsers[k.User] && !(k.User == "admin" && k.Resource == "/readyz") { // up.sh polls /readyz as admin
			workload += a
			if p != a {
				t.Errorf("%s %s %s %s %s: predicted %d events, the fixed policy wrote %d", k.User, k.Verb, k.Resource, k.Level, k.Stage, p, a)
			}
			continue
		}
		other += a
		otherDiff += abs(p - a)
	}
	if workload < 70 {
		t.Fatalf("only %d workload events compared", workload)
	}
	if otherDiff > max(10, other/20) {
		t.Errorf("background traffic: %d events differ of %d (tolerance 5%%)", otherDiff, other)
	}
	t.Logf("workload events: %d, all equal; background: %d events, %d differ", workload, other, otherDiff)
	if res.AboveRecorded != 0 || res.Inferred != 0 {
		t.Errorf("aboveRecorded %d, inferred %d: the fixed policy asks for less than allstages recorded", res.AboveRecorded, res.Inferred)
	}
}

func union(a, b map[KeyCount]int64) map[KeyCount]bool {
	m := map[KeyCount]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// TestSimulateRecordingPolicy: the policy that produced a log, simulated on
// it, writes exactly the events and bytes the log holds.
func TestSimulateRecordingPolicy(t *testing.T) {
	for _, tt := range []struct{ log, policy string }{
		{"testdata/realcluster/allstages-audit.log.gz", "policy-allstages.yaml"},
		{"testdata/realcluster/fixed-audit.log.gz", "policy-datadog-fixed.yaml"},
	} {
		sim, _ := replay(t, tt.log)
		res := sim.Run(loadPolicy(t, tt.policy))
		if res.Total != sim.Recorded {
			t.Errorf("%s under %s: simulated %v, the log holds %v", tt.log, tt.policy, res.Total, sim.Recorded)
		}
	}
}

// TestSimulateUpward: a policy asking for more than the log holds is
// flagged, and RequestReceived events the log lacks are inferred.
func TestSimulateUpward(t *testing.T) {
	sim, _ := replay(t, "testdata/realcluster/fixed-audit.log.gz")
	p, err := Load([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := sim.Run(p)
	if res.AboveRecorded == 0 || res.Inferred == 0 {
		t.Fatalf("aboveRecorded %d, inferred %d; want both > 0", res.AboveRecorded, res.Inferred)
	}
	if res.Total.Events != sim.Recorded.Events+res.Inferred {
		t.Errorf("events %d, want recorded %d + inferred %d", res.Total.Events, sim.Recorded.Events, res.Inferred)
	}
	if res.Total.Bytes <= sim.Recorded.Bytes {
		t.Errorf("bytes %d, want more than recorded %d", res.Total.Bytes, sim.Recorded.Bytes)
	}
}

func TestSimulateReport(t *testing.T) {
	sim, _ := replay(t, "testdata/realcluster/allstages-audit.log.gz")
	rep := sim.Simulate(loadPolicy(t, "policy-datadog-fixed.yaml"), loadPolicy(t, "policy-datadog.yaml"), "fixed.yaml", "datadog.yaml", false)
	var sum Volume
	var reqs int64
	for _, r := range rep.Rules {
		sum.add(r.Volume)
		reqs += r.Requests
	}
	if sum != rep.Predicted || reqs != int64(rep.Requests) {
		t.Errorf("rules add up to %v in %d requests, want %v in %d", sum, reqs, rep.Predicted, rep.Requests)
	}
	// Pod writes are logged alike; pod reads fall through to the
	// catch-all, at Metadata, where the mis-indented policy logs them at
	// RequestResponse.
	if w := rep.Rules[3]; w.Volume != w.Baseline || w.Requests == 0 {
		t.Errorf("pod writes: %v, baseline %v; want equal", w.Volume, w.Baseline)
	}
	if all := rep.Rules[4]; all.Volume.Events != all.Baseline.Events || all.Volume.Bytes >= all.Baseline.Bytes {
		t.Errorf("catch-all: %v, baseline %v; want as many events, fewer bytes", all.Volume, all.Baseline)
	}
	if rep.PerDay.DeltaMB >= 0 {
		t.Errorf("per day %+v: want a saving", rep.PerDay)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "simulate-fixed-vs-datadog.json", append(b, '\n'))
}

func TestSizes(t *testing.T) {
	full := `{"kind":"Event","level":"RequestResponse","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/x/pods","verb":"create","user":{"username":"u"},"objectRef":{"resource":"pods","namespace":"x","apiVersion":"v1"},"requestObject":{"a":1},"responseObject":{"b":[1,2]},"stageTimestamp":"2026-01-01T00:00:00Z"}`
	request := `{"kind":"Event","level":"Request","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/x/pods","verb":"create","user":{"username":"u"},"objectRef":{"resource":"pods","namespace":"x","apiVersion":"v1"},"requestObject":{"a":1},"stageTimestamp":"2026-01-01T00:00:00Z"}`
	meta := `{"kind":"Event","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/x/pods","verb":"create","user":{"username":"u"},"objectRef":{"resource":"pods","namespace":"x","apiVersion":"v1"},"stageTimestamp":"2026-01-01T00:00:00Z"}`
	for _, tt := range []struct {
		raw  string
		want sizes
	}{
		{full, sizes{0, 0, int64(len(meta)) + 1, int64(len(request)) + 1, int64(len(full)) + 1}},
		{meta, sizes{0, 0, int64(len(meta)) + 1, int64(len(meta)) + 1 + 7 - 8, int64(len(meta)) + 1 + 15 - 8}},
	} {
		evs, err := audit.Decode([]byte(tt.raw), nil)
		if err != nil || len(evs) != 1 {
			t.Fatal(err)
		}
		got := sizesOf(&evs[0])
		if [3]int64(got[2:]) != [3]int64(tt.want[2:]) {
			t.Errorf("%s:\nsizes %v, want %v", tt.raw[:40], got, tt.want)
		}
	}
}

func TestAttributes(t *testing.T) {
	tests := []struct {
		e    audit.Event
		want string
	}{
		{audit.Event{Verb: "get", RequestURI: "/healthz?verbose", User: audit.UserInfo{Name: "u", Groups: []string{"g"}}},
			`user=u groups=[g] verb=get resource=false path=/healthz`},
		{audit.Event{Verb: "list", RequestURI: "/api/v1/pods?watch=true", User: audit.UserInfo{Name: "u"},
			Object: audit.ObjectRef{Resource: "pods", APIVersion: "v1"}},
			`user=u groups=[] verb=list resource=true path=/api/v1/pods ""/v1 pods/ ns= name= readonly=true`},
		{audit.Event{Verb: "create", RequestURI: "/api/v1/namespaces/n/pods/p/exec", Object: audit.ObjectRef{Resource: "pods", Subresource: "exec", Namespace: "n", Name: "p", APIVersion: "v1"},
			User: audit.UserInfo{Name: "bob"}, Impersonated: audit.UserInfo{Name: "alice"}},
			`user=bob groups=[] verb=create resource=true path=/api/v1/namespaces/n/pods/p/exec ""/v1 pods/exec ns=n name=p readonly=false`},
		{audit.Event{Verb: "get", RequestURI: "/api"}, `user=<nil> verb=get resource=false path=/api`},
	}
	for _, tt := range tests {
		a := Attributes(&tt.e)
		var got string
		if a.User == nil {
			got = "user=<nil>"
		} else {
			got = fmt.Sprintf("user=%s groups=%v", a.User.GetName(), a.User.GetGroups())
			if a.User.GetGroups() == nil {
				got = fmt.Sprintf("user=%s groups=[]", a.User.GetName())
			}
		}
		got += fmt.Sprintf(" verb=%s resource=%v path=%s", a.Verb, a.ResourceRequest, a.Path)
		if a.ResourceRequest {
			got += fmt.Sprintf(" %q/%s %s/%s ns=%s name=%s readonly=%v", a.APIGroup, a.APIVersion, a.Resource, a.Subresource, a.Namespace, a.Name, a.IsReadOnly())
		}
		if got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}
