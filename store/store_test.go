package store

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// decodeLines decodes JSON lines and returns the events with their offsets
// and a reader over the same bytes, ready for Append.
func decodeLines(t testing.TB, lines ...string) ([]audit.Event, []int64, *bytes.Reader) {
	t.Helper()
	data := []byte(strings.Join(lines, "\n") + "\n")
	var evs []audit.Event
	var offs []int64
	off := 0
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		trimmed := bytes.TrimRight(line, "\n")
		if len(trimmed) > 0 {
			n := len(evs)
			var err error
			evs, err = audit.Decode(trimmed, evs)
			if err != nil {
				t.Fatalf("decode %s: %v", trimmed, err)
			}
			for _, e := range evs[n:] {
				offs = append(offs, int64(off+cap(trimmed)-cap(e.Raw)))
			}
		}
		off += len(line)
	}
	return evs, offs, bytes.NewReader(data)
}

func event(auditID, stage, user, verb, resource, ns string, code int, received, stageTS string) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":%q,"requestURI":"/api/v1/namespaces/%s/%s","verb":%q,"user":{"username":%q,"groups":["system:authenticated","dev"]},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl/v1.32","objectRef":{"resource":%q,"namespace":%q,"apiVersion":"v1"},"responseStatus":{"metadata":{},"code":%d},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`,
		auditID, stage, ns, resource, verb, user, resource, ns, code, received, stageTS)
}

const (
	id1 = "11111111-1111-4111-8111-111111111111"
	id2 = "22222222-2222-4222-8222-222222222222"
	id3 = "33333333-3333-4333-8333-333333333333"
	t0  = "2026-11-25T10:00:00.000000Z"
	t1  = "2026-11-25T10:00:00.250000Z"
	t2  = "2026-11-25T10:05:00.000000Z"
)

func TestAppendDedupesAndPairsStages(t *testing.T) {
	tests := []struct {
		name       string
		lines      []string
		events     int
		duplicates int
		requests   []ID // the representative event of each request
	}{
		{"distinct requests", []string{
			event(id1, "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
			event(id2, "ResponseComplete", "bob", "list", "pods", "dev", 200, t0, t1),
		}, 2, 0, []ID{0, 1}},
		{"same event twice is stored once", []string{
			event(id1, "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
			event(id1, "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
		}, 1, 1, []ID{0}},
		{"watch: started then complete counts once, as complete", []string{
			event(id1, "ResponseStarted", "alice", "watch", "pods", "dev", 200, t0, t1),
			event(id1, "ResponseComplete", "alice", "watch", "pods", "dev", 200, t0, t2),
		}, 2, 0, []ID{1}},
		{"complete before started still wins", []string{
			event(id1, "ResponseComplete", "alice", "watch", "pods", "dev", 200, t0, t2),
			event(id1, "ResponseStarted", "alice", "watch", "pods", "dev", 200, t0, t1),
		}, 2, 0, []ID{0}},
		{"without a final stage the latest stage wins", []string{
			event(id1, "RequestReceived", "alice", "get", "pods", "dev", 0, t0, t0),
			event(id1, "ResponseStarted", "alice", "get", "pods", "dev", 200, t0, t1),
			event(id2, "RequestReceived", "bob", "get", "pods", "dev", 0, t0, t0),
		}, 3, 0, []ID{1, 2}},
		{"events without auditID are never merged", []string{
			event("", "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
			event("", "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
		}, 2, 0, []ID{0, 1}},
		{"non-UUID auditIDs dedupe too", []string{
			event("abcde12345", "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
			event("abcde12345", "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
			event("abcde12345", "ResponseStarted", "alice", "get", "pods", "dev", 200, t0, t0),
		}, 2, 1, []ID{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, offs, raw := decodeLines(t, tt.lines...)
			s := New()
			res := s.Append(evs, raw, offs)
			st := s.Stats()
			if st.Events != tt.events || res.Added != tt.events || res.Duplicates != tt.duplicates || st.Duplicates != tt.duplicates {
				t.Fatalf("events %d (added %d), duplicates %d/%d; want %d, %d", st.Events, res.Added, res.Duplicates, st.Duplicates, tt.events, tt.duplicates)
			}
			if got := s.Requests().ToArray(); fmt.Sprint(got) != fmt.Sprint(tt.requests) {
				t.Errorf("requests %v, want %v", got, tt.requests)
			}
		})
	}
}

func TestDedupeAcrossAppends(t *testing.T) {
	evs, offs, raw := decodeLines(t,
		event(id1, "ResponseStarted", "alice", "watch", "pods", "dev", 200, t0, t1),
		event(id2, "ResponseComplete", "bob", "get", "pods", "dev", 200, t0, t1))
	s := New()
	s.Append(evs, raw, offs)
	// The same file read again (overlapping replay) adds nothing.
	evs2, offs2, raw2 := decodeLines(t,
		event(id1, "ResponseStarted", "alice", "watch", "pods", "dev", 200, t0, t1),
		event(id2, "ResponseComplete", "bob", "get", "pods", "dev", 200, t0, t1),
		event(id1, "ResponseComplete", "alice", "watch", "pods", "dev", 200, t0, t2))
	res := s.Append(evs2, raw2, offs2)
	if res.Added != 1 || res.Duplicates != 2 {
		t.Fatalf("second append added %d, duplicates %d; want 1, 2", res.Added, res.Duplicates)
	}
	if got := s.Stages(0); fmt.Sprint(got) != "[0 2]" {
		t.Errorf("stages of event 0: %v, want [0 2]", got)
	}
	if got := s.Stages(2); fmt.Sprint(got) != "[0 2]" {
		t.Errorf("stages of event 2: %v, want [0 2]", got)
	}
	if got := s.Requests().ToArray(); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("requests %v, want [1 2]", got)
	}
	// Raw bytes come from the reader each event was appended with.
	for id := ID(0); id < 3; id++ {
		b, err := s.Raw(id, nil)
		if err != nil || !bytes.HasPrefix(b, []byte(`{"kind":"Event"`)) || !bytes.HasSuffix(b, []byte("}")) {
			t.Errorf("raw %d: %q, %v", id, b, err)
		}
	}
	if b, _ := s.Raw(2, nil); !bytes.Contains(b, []byte(`"stage":"ResponseComplete"`)) {
		t.Errorf("raw 2 is not the ResponseComplete event: %s", b)
	}
}

func TestEntryRoundTrip(t *testing.T) {
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"` + id3 + `","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/prod/deployments/web/scale","verb":"patch","user":{"username":"system:admin","groups":["system:masters","system:authenticated"]},"impersonatedUser":{"username":"bob","groups":["dev"]},"sourceIPs":["192.168.1.7","10.0.0.1"],"userAgent":"kubectl/v1.32.0 (linux/amd64)","objectRef":{"resource":"deployments","namespace":"prod","name":"web","apiGroup":"apps","apiVersion":"v1","subresource":"scale"},"responseStatus":{"metadata":{},"status":"Failure","message":"deployments.apps \"web\" is forbidden","code":403},"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:01.500000Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":"","apiserver.latency.k8s.io/total":"1.5s","apiserver.latency.k8s.io/etcd":"1.2s"}}`
	evs, offs, raw := decodeLines(t, line)
	s := New()
	s.Append(evs, raw, offs)
	e := s.Entry(0)
	want := Entry{
		AuditID: id3, Stage: audit.StageResponseComplete, Level: audit.LevelRequestResponse, Verb: "patch",
		User:         audit.UserInfo{Name: "system:admin", Groups: []string{"system:masters", "system:authenticated"}},
		Impersonated: audit.UserInfo{Name: "bob", Groups: []string{"dev"}},
		SourceIP:     "192.168.1.7", UserAgent: "kubectl/v1.32.0 (linux/amd64)",
		Object: audit.ObjectRef{APIGroup: "apps", APIVersion: "v1", Resource: "deployments", Subresource: "scale", Namespace: "prod", Name: "web"},
		Code:   403, Decision: "forbid", Message: `deployments.apps "web" is forbidden`,
		Time:    time.Date(2026, 11, 25, 10, 0, 1, 500000000, time.UTC),
		Latency: 1500 * time.Millisecond, Denied: true,
		Phases: []audit.Phase{{Name: "etcd", Duration: 1200 * time.Millisecond}, {Name: "total", Duration: 1500 * time.Millisecond}},
	}
	if fmt.Sprintf("%+v", e) != fmt.Sprintf("%+v", want) {
		t.Errorf("entry\n got %+v\nwant %+v", e, want)
	}
	if e.Subject().Name != "bob" {
		t.Errorf("subject %q, want bob", e.Subject().Name)
	}
	got, err := s.Raw(0, nil)
	if err != nil || string(got) != line {
		t.Errorf("raw = %q, %v", got, err)
	}
}

func TestPostings(t *testing.T) {
	evs, offs, raw := decodeLines(t,
		event(id1, "ResponseComplete", "alice", "get", "pods", "dev", 200, t0, t1),
		event(id2, "ResponseComplete", "bob", "delete", "pods", "prod", 403, t0, t1),
		event(id3, "ResponseComplete", "alice", "delete", "secrets", "prod", 200, t0, t1))
	s := New()
	s.Append(evs, raw, offs)
	tests := []struct {
		field Field
		value string
		want  string
	}{
		{FieldUser, "alice", "[0 2]"},
		{FieldUser, "carol", "[]"},
		{FieldVerb, "delete", "[1 2]"},
		{FieldResource, "pods", "[0 1]"},
		{FieldNamespace, "prod", "[1 2]"},
		{FieldCode, "403", "[1]"},
		{FieldCode, "200", "[0 2]"},
		{FieldGroup, "dev", "[0 1 2]"},
		{FieldGroup, "system:authenticated", "[0 1 2]"},
		{FieldStage, "ResponseComplete", "[0 1 2]"},
		{FieldLevel, "Metadata", "[0 1 2]"},
		{FieldSourceIP, "10.0.0.1", "[0 1 2]"},
		{FieldUserAgent, "kubectl/v1.32", "[0 1 2]"},
		{FieldDecision, "", "[0 1 2]"},
		{FieldImpersonated, "", "[0 1 2]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(s.Postings(tt.field, tt.value).ToArray()); got != tt.want {
			t.Errorf("postings %s=%q: %s, want %s", tt.field, tt.value, got, tt.want)
		}
	}
	// Postings are copies: changing one leaves the index alone.
	p := s.Postings(FieldUser, "alice")
	p.Add(1)
	if got := fmt.Sprint(s.Postings(FieldUser, "alice").ToArray()); got != "[0 2]" {
		t.Errorf("index changed through a returned set: %s", got)
	}
	var users []string
	s.Each(s.Postings(FieldVerb, "delete"), func(e *Entry) bool { users = append(users, e.User.Name); return true })
	if fmt.Sprint(users) != "[bob alice]" {
		t.Errorf("Each over delete: %v", users)
	}
}

func TestManyChunks(t *testing.T) {
	// Enough events to cross a chunk boundary, with raw reads through the window.
	var lines []string
	n := testChunk + 100
	for i := 0; i < n; i++ {
		lines = append(lines, event(fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), "ResponseComplete", fmt.Sprintf("user%d", i%7), "get", "pods", "ns", 200, t0, t1))
	}
	evs, offs, raw := decodeLines(t, lines...)
	s := newTestStore()
	s.Append(evs, raw, offs)
	if s.Len() != n || s.Requests().GetCardinality() != uint64(n) {
		t.Fatalf("len %d, requests %d; want %d", s.Len(), s.Requests().GetCardinality(), n)
	}
	r := s.NewRawReader()
	for _, id := range []ID{0, 1, testChunk - 1, testChunk, ID(n - 1), 5} {
		b, err := r.Raw(id)
		if err != nil || string(b) != lines[id] {
			t.Fatalf("raw %d: %q, %v", id, b, err)
		}
		if e := s.Entry(id); e.User.Name != fmt.Sprintf("user%d", id%7) || e.AuditID != fmt.Sprintf("%08x-0000-4000-8000-000000000000", id) {
			t.Fatalf("entry %d: %+v", id, e)
		}
	}
	if got := s.Postings(FieldUser, "user3").GetCardinality(); got != uint64((n-3+6)/7) {
		t.Errorf("user3 postings %d", got)
	}
}

func TestUUIDRoundTrip(t *testing.T) {
	for _, s := range []string{id1, "841d3e6d-90d2-43df-8da4-684738bee3d5", "00000000-0000-0000-0000-000000000000"} {
		u, ok := parseUUID(s)
		if !ok || formatUUID(u) != s {
			t.Errorf("%s: ok=%v back=%s", s, ok, formatUUID(u))
		}
	}
	for _, s := range []string{"", "abcde12345", "841D3E6D-90D2-43DF-8DA4-684738BEE3D5", "841d3e6d-90d2-43df-8da4-684738bee3dz", "841d3e6d+90d2-43df-8da4-684738bee3d5"} {
		if _, ok := parseUUID(s); ok {
			t.Errorf("%q parsed as a UUID", s)
		}
	}
}

func TestChunkEvents(t *testing.T) {
	if got := New().chunkEvents(); got != 1<<16 {
		t.Errorf("default chunk: %d events, want 65536", got)
	}
	for _, tc := range []struct{ n, want int }{{0, 64}, {1, 64}, {64, 64}, {65, 128}, {1000, 1024}, {1 << 30, 1 << 24}} {
		if got := New(ChunkEvents(tc.n)).chunkEvents(); got != tc.want {
			t.Errorf("ChunkEvents(%d): %d events, want %d", tc.n, got, tc.want)
		}
	}
}
