package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func gkeEntry(id string, code int) string {
	return `{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","resourceName":"core/v1/namespaces/ns/pods/p","status":{"code":` + itoa(code) + `}},` +
		`"operation":{"id":"` + id + `","first":true,"last":true},"timestamp":"2026-01-01T00:00:00Z","resource":{"labels":{"cluster_name":"g1"}}}`
}

func aksRecord(event string) string {
	return `{"category":"kube-audit","resourceId":"/SUBSCRIPTIONS/S/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/C1","properties":{"log":` + jsonString(event) + `}}`
}

func cwPayload(events ...string) string {
	var b strings.Builder
	b.WriteString(`{"messageType":"DATA_MESSAGE","logGroup":"/aws/eks/demo/cluster","logEvents":[`)
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"1","timestamp":1,"message":` + jsonString(e) + `}`)
	}
	b.WriteString("]}")
	return b.String()
}

func gzipped(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestReplayExportDirectory: `kaudit replay DIR/` reads the export files
// an operator downloads next to (or instead of) audit logs, of mixed
// shapes, and says which files are not audit data, without failing.
func TestReplayExportDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "audit.log", lines(ev("p1")))
	writeFile(t, dir, "gcloud-read.json", "[\n  "+gkeEntry("g1", 0)+",\n  "+gkeEntry("g2", 7)+"\n]\n")
	writeFile(t, dir, "PT1H.json", lines(aksRecord(ev("a1")), "I0109 12:00:00.000000       1 main.go:42] klog"))
	writeFile(t, dir, "eventhubs.json", `{"records":[`+aksRecord(ev("a2"))+","+aksRecord(ev("a3"))+"]}\n")
	writeFile(t, dir, "demo-stream-1-2026-01-01-00-00-00-0a1b", cwPayload(ev("c1"))+cwPayload(ev("c2"), ev("c3")))
	writeFile(t, dir, "000000.gz", gzipped(t, lines("2026-01-01T00:00:00.000Z "+ev("s1"))))
	writeFile(t, dir, "filter.json", "{\n  \"events\": [\n    {\"message\": "+jsonString(ev("f1"))+"}\n  ]\n}\n")
	writeFile(t, dir, "tail.txt", lines("2026-01-01T00:00:00.000000+00:00 kube-apiserver-audit-1 "+ev("t1")))
	writeFile(t, dir, "notes.txt", "what I downloaded, and from where\n")
	writeFile(t, dir, "manifest.json", `{"files":["a","b"]}`+"\n")
	writeFile(t, dir, "README.md", "# exports\n")
	res := run(t, &Replay{Paths: []string{dir}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{"p1", "g1", "g2", "a1", "a2", "a3", "c1", "c2", "c3", "s1", "f1", "t1"}
	if got := sorted(res.ids()); !eq(got, sorted(want)) {
		t.Errorf("events %q, want %q", got, sorted(want))
	}
	wantProbs := []string{"manifest.json:0 skipped", "notes.txt:0 skipped", "PT1H.json:0 skipped"}
	if got := sorted(res.probs()); !eq(got, sorted(wantProbs)) {
		t.Errorf("problems %q, want %q", got, wantProbs)
	}
	if res.sum.Problems[Skipped] != 3 || res.sum.TotalProblems() != 3 {
		t.Errorf("counted %v", res.sum.Problems)
	}
}

// TestCloudBadInput: each kind of bad cloud input is one problem with its
// file:line and a count, and the good records around it are read.
func TestCloudBadInput(t *testing.T) {
	notGzip := base64.StdEncoding.EncodeToString([]byte(`{"messageType":"DATA_MESSAGE"}`))
	tests := []struct {
		name, content string
		want          []string // "file:line kind"
		kind          ProblemKind
		count         int
		good          int // events read
	}{
		{"truncated envelope", lines(aksRecord(ev("ok1")), `{"records":[`+aksRecord(ev("cut"))[:80], aksRecord(ev("ok2"))),
			[]string{"x.json:2 truncated"}, Truncated, 1, 2},
		{"truncated gcloud array", "[\n  " + gkeEntry("ok1", 0) + ",\n  " + gkeEntry("ok2", 0)[:60] + "\n",
			[]string{"x.json:3 truncated"}, Truncated, 1, 1},
		{"record without its event", lines(aksRecord(ev("ok1")), `{"category":"kube-audit","properties":{}}`, `{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":`+jsonString(ev("ok2"))+`},{"id":"2"}]}`),
			[]string{"x.json:2 unrecognised", "x.json:3 unrecognised"}, Unrecognised, 2, 2},
		{"klog lines", lines(aksRecord(ev("ok1")), "I0109 12:00:00.000000       1 main.go:42] a", "W0109 12:00:01.000000       1 main.go:43] b", aksRecord(ev("ok2"))),
			[]string{"x.json:0 skipped"}, Skipped, 2, 2},
		{"unknown gRPC code", lines(gkeEntry("ok1", 0), gkeEntry("ok2", 42)),
			[]string{"x.json:2 invalid field"}, Invalid, 1, 2},
		{"base64 payload not gzip", lines(cwPayload(ev("ok1")), `{"awslogs":{"data":"`+notGzip+`"}}`, "H4sIAAAAnotgzip", cwPayload(ev("ok2"))),
			[]string{"x.json:2 malformed", "x.json:3 malformed"}, Malformed, 2, 2},
		{"mixed shapes in one file", lines(gkeEntry("ok1", 0), aksRecord(ev("ok2")), "2026-01-01T00:00:00Z s "+ev("ok3"), `{"protoPayload":{"serviceName":"k8s.io"`),
			[]string{"x.json:4 truncated"}, Truncated, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "x.json", tt.content)
			res := run(t, &Replay{Paths: []string{path}})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if got := sorted(res.probs()); !eq(got, sorted(tt.want)) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
			if res.sum.Problems[tt.kind] != tt.count || res.sum.TotalProblems() != tt.count {
				t.Errorf("counted %v, want %d %s", res.sum.Problems, tt.count, tt.kind)
			}
			for _, id := range res.ids() {
				if !strings.HasPrefix(id, "ok") {
					t.Errorf("event %q from bad input", id)
				}
			}
			if len(res.ids()) != tt.good {
				t.Errorf("good events %q", res.ids())
			}
		})
	}
}

// TestCloudInputClusters: the cluster of an export's first records is its
// events' source; a later record naming another is reported with its line.
func TestCloudInputClusters(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	n := 0
	for ; b.Len() < 2<<20; n++ { // past the first window
		b.WriteString(aksRecord(ev("c1-"+itoa(n))) + "\n")
	}
	other := strings.ReplaceAll(aksRecord(ev("c2")), "MANAGEDCLUSTERS/C1", "MANAGEDCLUSTERS/C2")
	b.WriteString(other + "\n")
	path := writeFile(t, dir, "two.json", b.String())
	res := run(t, &Replay{Paths: []string{path}})
	if got := res.probs(); !eq(got, []string{"two.json:" + itoa(n+1) + " invalid field"}) {
		t.Errorf("problems %q", got)
	}
	for _, bt := range res.batches {
		if bt.Cluster != "C1" {
			t.Fatalf("batch cluster %q", bt.Cluster)
		}
	}
	if len(res.ids()) != n+1 {
		t.Errorf("%d events, want %d", len(res.ids()), n+1)
	}
}

// TestCloudInputLineLimit: the events of one long export line (Firehose
// objects concatenated) are laid out within the reader's line limit, so
// none is skipped as too long however small the limit.
func TestCloudInputLineLimit(t *testing.T) {
	var b strings.Builder
	var want []string
	for i := range 40 {
		id := "f" + itoa(i)
		want = append(want, id)
		b.WriteString(cwPayload(ev(id)))
	}
	path := writeFile(t, t.TempDir(), "firehose", b.String())
	res := run(t, &Replay{Paths: []string{path}, MaxLine: 4096})
	if len(res.problems) > 0 {
		t.Errorf("problems %v", res.problems)
	}
	if got := sorted(res.ids()); !eq(got, sorted(want)) {
		t.Errorf("events %q", got)
	}
}
