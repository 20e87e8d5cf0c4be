package ingest

import (
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCloudInputs replays cloud exports next to a plain log: events come
// out whole (Raw reads back), problems keep the input's file:line, and
// skipped noise is one counted record, not an error per line.
func TestCloudInputs(t *testing.T) {
	dir := t.TempDir()
	q := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) }
	aks := func(log string) string {
		return `{"category":"kube-audit","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/C1","properties":{"log":"` + q(log) + `"}}`
	}
	gke := func(id string, code int) string {
		return `{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.exec.create","resourceName":"core/v1/namespaces/ns/pods/p/exec","authenticationInfo":{"principalEmail":"u@example.com"},"status":{"code":` +
			strings.Repeat("", 0) + itoa(code) + `}},"operation":{"id":"` + id + `","first":true,"last":true},"timestamp":"2026-01-01T00:00:00Z","resource":{"labels":{"cluster_name":"g1"}}}`
	}
	notGzip := `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString([]byte(`{"messageType":"DATA_MESSAGE"}`)) + `"}}`
	paths := []string{
		writeFile(t, dir, "plain.log", lines(ev("p1"))),
		writeFile(t, dir, "aks.json", lines(aks(ev("a1")), "I0109 10:00:00.000000       1 main.go:1] klog noise", aks(ev("a2")), aks(""), aks(ev("a3")[:40]))),
		writeFile(t, dir, "gke.json", "[\n"+gke("g1", 7)+",\n"+gke("g2", 99)+"\n]\n"),
		writeFile(t, dir, "cw.txt", lines("2026-01-01T00:00:00.000000+00:00 stream "+ev("c1"), notGzip, "2026-01-01T00:00:01Z "+ev("c2"))),
	}
	// Window -1: input order, so that events and problems come in file
	// order (merged, the sources run concurrently; TestMerge tests that).
	res := run(t, &Replay{Paths: paths, Window: -1})
	if res.err != nil {
		t.Fatal(res.err)
	}
	// Order is the merge's business (by time); compare as sets.
	if got, want := sorted(res.ids()), sorted([]string{"p1", "a1", "a2", "g1", "g2", "c1", "c2"}); !eq(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	wantProbs := []string{"aks.json:4 unrecognised", "aks.json:5 truncated", "aks.json:0 skipped", "gke.json:3 invalid field", "cw.txt:2 malformed"}
	if got := sorted(res.probs()); !eq(got, sorted(wantProbs)) {
		t.Errorf("problems %q, want %q", got, wantProbs)
	}
	for _, p := range res.problems {
		t.Log(p)
	}
	wantCluster := map[string]string{"plain.log": "", "aks.json": "C1", "gke.json": "g1", "cw.txt": ""}
	for _, b := range res.batches {
		if want := wantCluster[filepath.Base(b.Pos.Path)]; b.Cluster != want {
			t.Errorf("%s: cluster %q, want %q", b.Pos.Path, b.Cluster, want)
		}
		for _, e := range b.Events {
			if e.AuditID == "g1" && (e.Code != 403 || e.Verb != "create" || e.Object.Subresource != "exec") {
				t.Errorf("GKE event g1: code %d verb %q subresource %q", e.Code, e.Verb, e.Object.Subresource)
			}
		}
	}
}

// TestCloudInputsMerged: merged, each event's source is the cluster its
// export names, else the file's name.
func TestCloudInputsMerged(t *testing.T) {
	dir := t.TempDir()
	gke := `{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","resourceName":"core/v1/namespaces/ns/pods/p","status":{}},` +
		`"operation":{"id":"g1","first":true,"last":true},"timestamp":"2026-01-01T00:00:00Z","resource":{"labels":{"cluster_name":"prod-gke"}}}`
	paths := []string{writeFile(t, dir, "plain.log", lines(ev("p1"))), writeFile(t, dir, "gke.json", lines(gke))}
	res := run(t, &Replay{Paths: paths})
	got := map[string]string{}
	for _, b := range res.batches {
		for _, e := range b.Events {
			got[e.AuditID] = e.Source
		}
	}
	if got["p1"] != "plain.log" || got["g1"] != "prod-gke" || len(got) != 2 {
		t.Errorf("sources %v", got)
	}
	if ids := res.ids(); !eq(ids, []string{"g1", "p1"}) {
		t.Errorf("order %v, want the older GKE event first", ids)
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
