package vlogs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/redact"
)

// fakeVL answers LogsQL queries from recorded VictoriaLogs answers: the
// stats query with stats.json, a page query with the recorded records
// whose _time is within the query's _time:[a, b).
type fakeVL struct {
	t       *testing.T
	records [][]byte
	times   []time.Time
	stats   []byte

	mu      sync.Mutex
	queries []string
	headers []http.Header
}

func newFakeVL(t *testing.T) (*fakeVL, *httptest.Server) {
	f := &fakeVL{t: t, stats: mustRead(t, "testdata/stats.json")}
	for _, line := range bytes.Split(bytes.TrimSpace(mustRead(t, "testdata/query.jsonl")), []byte("\n")) {
		var r struct {
			Time time.Time `json:"_time"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		f.records = append(f.records, line)
		f.times = append(f.times, r.Time)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func mustRead(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var timeRange = regexp.MustCompile(`_time:\[([^,]+), ([^)]+)\)`)

func (f *fakeVL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.FormValue("query")
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	if r.URL.Path != "/select/logsql/query" {
		http.NotFound(w, r)
		return
	}
	if strings.Contains(q, "| stats ") {
		w.Write(f.stats)
		return
	}
	a, b := time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if m := timeRange.FindStringSubmatch(q); m != nil {
		a, _ = time.Parse(time.RFC3339Nano, m[1])
		b, _ = time.Parse(time.RFC3339Nano, m[2])
	}
	for i, rec := range f.records {
		if !f.times[i].Before(a) && f.times[i].Before(b) {
			w.Write(rec)
			w.Write([]byte("\n"))
		}
	}
}

// TestRunPages: paged reads return every recorded event once, in time
// order, with the bytes kaudit forwarded (the redacted original lines).
func TestRunPages(t *testing.T) {
	var want [][]byte
	sc := bufio.NewScanner(bytes.NewReader(mustRead(t, "testdata/audit.log")))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		want = append(want, redact.Output(append([]byte(nil), sc.Bytes()...)))
	}
	for _, page := range []int{1000, 25, 7, 1} {
		f, srv := newFakeVL(t)
		src, err := New(srv.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		src.PageEvents = page
		var progress bytes.Buffer
		src.Progress = &progress
		var got [][]byte
		var last time.Time
		err = src.Run(context.Background(), func(b ingest.Batch) error {
			if len(b.Events) > ingest.MaxBatch || len(b.Offsets) != len(b.Events) {
				t.Fatalf("batch of %d events, %d offsets", len(b.Events), len(b.Offsets))
			}
			for i, ev := range b.Events {
				if ev.StageTime.Before(last) {
					t.Fatalf("page %d: event %s before %s", page, ev.StageTime, last)
				}
				last = ev.StageTime
				if ev.Source != "fx2/vm" { // no kaudit.source recorded: cluster/host
					t.Fatalf("source %q", ev.Source)
				}
				raw := make([]byte, len(ev.Raw))
				if _, err := b.Raw.ReadAt(raw, b.Offsets[i]); err != nil || !bytes.Equal(raw, ev.Raw) {
					t.Fatalf("Raw at offset %d: %v", b.Offsets[i], err)
				}
				got = append(got, raw)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("page %d: %d events, want %d (queries %q)", page, len(got), len(want), f.queries)
		}
		seen := map[string]int{}
		for _, w := range want {
			seen[string(w)]++
		}
		for _, g := range got {
			if seen[string(g)]--; seen[string(g)] < 0 {
				t.Fatalf("page %d: an event read back is not a forwarded line (or twice): %.120s", page, g)
			}
		}
		if pages := len(f.queries) - 1; page < 60 && pages < 60/page/2 {
			t.Errorf("page size %d: %d page queries", page, pages)
		}
		if !strings.Contains(progress.String(), "60/60 events") {
			t.Errorf("progress: %q", progress.String())
		}
		if src.BytesRead() < int64(len(mustRead(t, "testdata/audit.log"))) {
			t.Errorf("BytesRead %d", src.BytesRead())
		}
	}
}

// TestRunAuth: bearer token, basic auth and the tenant headers reach the
// server on every query.
func TestRunAuth(t *testing.T) {
	for _, tc := range []struct {
		auth                    Auth
		authz, account, project string
	}{
		{Auth{BearerToken: "tok"}, "Bearer tok", "", ""},
		{Auth{Username: "u", Password: "p", Tenant: "12:34"}, "Basic dTpw", "12", "34"},
		{Auth{Tenant: "7"}, "", "7", ""},
	} {
		f, srv := newFakeVL(t)
		src, err := New(srv.URL, tc.auth, NewPushdown(nil, nil, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Run(context.Background(), func(ingest.Batch) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for _, h := range f.headers {
			if h.Get("Authorization") != tc.authz || h.Get("AccountID") != tc.account || h.Get("ProjectID") != tc.project {
				t.Errorf("%+v: headers %v", tc.auth, h)
			}
		}
	}
	if _, err := New("http://x", Auth{Tenant: "a:b"}, Pushdown{}, nil); err == nil {
		t.Error("a non-numeric tenant was accepted")
	}
}

// TestRunErrors: a server error is an error naming the status, and a
// record that is not an audit event is reported, not fatal.
func TestRunErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad query\x1b[31m", http.StatusBadRequest)
	}))
	defer srv.Close()
	src, _ := New(srv.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
	err := src.Run(context.Background(), func(ingest.Batch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "400") || strings.Contains(err.Error(), "\x1b") {
		t.Fatalf("error %q", err)
	}

	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.FormValue("query"), "| stats ") {
			io.WriteString(w, `{"t0":"2026-01-15T09:00:00Z","t1":"2026-01-15T09:00:00Z","n":"2"}`+"\n")
			return
		}
		io.WriteString(w, `{"_msg":"not json","_time":"2026-01-15T09:00:00Z"}`+"\n")
		w.Write(mustRead(t, "testdata/query.jsonl")[:bytes.IndexByte(mustRead(t, "testdata/query.jsonl"), '\n')+1])
	}))
	defer srv2.Close()
	src, _ = New(srv2.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
	var bad []error
	src.OnBad = func(err error) { bad = append(bad, err) }
	n := 0
	if err := src.Run(context.Background(), func(b ingest.Batch) error { n += len(b.Events); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(bad) != 1 {
		t.Fatalf("%d events, bad records %v", n, bad)
	}
}

// TestPushdown: quick terms become LogsQL on the OTLP shape's attributes;
// Datadog-shaped records (no such attributes) get only the identity, the
// source and the time, their lower bound cut to the millisecond.
func TestPushdown(t *testing.T) {
	since := time.Date(2026, 1, 15, 9, 0, 0, 500, time.UTC)
	either := func(otlp, dd string) string { return "((" + otlp + ") or (" + dd + "))" }
	for _, tc := range []struct {
		filter   string
		otlp, dd string
	}{
		{"", Stream, DatadogStream},
		{"verb:delete,patch ns:prod-*", Stream + ` k8s.audit.verb:in("delete", "patch") k8s.namespace.name:="prod-"*`, DatadogStream},
		{"user:alice", Stream + ` (k8s.audit.user:in("alice") or impersonatedUser)`, DatadogStream},
		{"code:403,5xx", Stream + ` (http.response.status_code:range[403, 403] or http.response.status_code:range[500, 599])`, DatadogStream},
		{"denied error", Stream + ` (k8s.audit.decision:="forbid" or http.response.status_code:="403") http.response.status_code:range[400, 999]`, DatadogStream},
		{`-verb:get name:*web* ns:"" ua:kubectl* resource:pods`, Stream + ` k8s.audit.resource:in("pods")`, DatadogStream},
		{`.verb == "get" and (.objectRef.namespace | IN("a", "b")) and (.responseStatus.code == 403 or .responseStatus.code == 401)`,
			Stream + ` k8s.audit.verb:in("get") k8s.namespace.name:in("a", "b") (http.response.status_code:range[403, 403] or http.response.status_code:range[401, 401])`, DatadogStream},
		{`select(denied) | .objectRef.name != "x"`, Stream, DatadogStream}, // a pipe: evaluated locally only
		{"source:cp1,cp2", Stream + ` (kaudit.source:in("cp1", "cp2") or kaudit.source:"")`, DatadogStream + ` (kaudit.source:in("cp1", "cp2") or kaudit.source:"")`},
		{"since:2026-01-15T09:00:00.0000005Z", Stream + ` _time:[2026-01-15T09:00:00.0000005Z, 2262-01-01T00:00:00Z)`,
			DatadogStream + ` _time:[2026-01-15T09:00:00Z, 2262-01-01T00:00:00Z)`},
	} {
		f, err := query.Compile(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		p := NewPushdown(f, nil, nil)
		if got, want := p.Query(p.Since, p.Until), either(tc.otlp, tc.dd); got != want {
			t.Errorf("%q:\n got %s\nwant %s", tc.filter, got, want)
		}
	}
	p := NewPushdown(nil, []string{"a", "b"}, []string{"h"})
	want := either(Stream+` k8s.cluster.name:in("a", "b") host.name:in("h") _time:[2026-01-15T09:00:00.0000005Z, 2262-01-01T00:00:00Z)`,
		DatadogStream+` kube_cluster_name:in("a", "b") hostname:in("h") _time:[2026-01-15T09:00:00.0000005Z, 2262-01-01T00:00:00Z)`)
	if got := p.Query(since, time.Time{}); got != want { // a page's bound, not the filter's: exact
		t.Errorf("clusters:\n got %s\nwant %s", got, want)
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"vlogs://127.0.0.1:9428":        "http://127.0.0.1:9428",
		"vlogs+https://vl.example:443/": "https://vl.example:443",
		"vlogs://vl:9428/select-prefix": "http://vl:9428/select-prefix",
		"vlogs://u:p@vl:9428":           "",
		"vlogs://":                      "",
		"http://vl:9428":                "",
	} {
		got, err := BaseURL(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
}

// FuzzParseRecord: the fast reading of an answer line agrees with
// encoding/json's whenever both accept it, and never panics.
func FuzzParseRecord(f *testing.F) {
	for _, line := range bytes.Split(mustRead(f, "testdata/query.jsonl"), []byte("\n"))[:3] {
		f.Add(line)
	}
	f.Add([]byte(`{"_msg":"a\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","host.name":"h","k8s.cluster.name":"c","x":"y"}`))
	f.Add([]byte(`{"_msg":"\ud800","host.name":"\u0000"}`))
	f.Add([]byte(`{ "_msg" : "a" , "n": 1 }`))
	f.Add([]byte(`{"_msg":"a","_MSG":"b"}`))
	f.Add([]byte(`{"_msg":"a","kaudit.source":"cp1","KAUDIT.source":"x"}`))
	f.Add([]byte(`{"_msg":"a\xff\"b","hostname":"h","kube_cluster_name":"c","\u005fmsg":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := parseRecord(line)
		var ref jsonRecord
		refErr := json.Unmarshal(line, &ref)
		if (err == nil) != (refErr == nil) && err == nil {
			t.Fatalf("accepted %q that encoding/json rejects: %v", line, refErr)
		}
		if err == nil && refErr == nil && (string(r.Msg) != ref.Msg || r.Cluster != ref.Cluster || r.Host != ref.Host || r.Source != ref.Source ||
			r.DDCluster != ref.DDCluster || r.DDHost != ref.DDHost) {
			t.Fatalf("%q: got %q %q %q, want %q %q %q", line, r.Msg, r.Cluster, r.Host, ref.Msg, ref.Cluster, ref.Host)
		}
	})
}

// TestRunPartial: fewer records than the stats query counted (a storage
// node that did not answer) is an error, not a silently shorter table.
func TestRunPartial(t *testing.T) {
	f, srv := newFakeVL(t)
	f.stats = []byte(`{"t0":"2026-01-15T09:00:00Z","t1":"2026-01-15T09:00:00.320458Z","n":"61"}` + "\n")
	src, _ := New(srv.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
	n := 0
	err := src.Run(context.Background(), func(b ingest.Batch) error { n += len(b.Events); return nil })
	if !errors.Is(err, ErrPartial) || n != 60 || !strings.Contains(err.Error(), "read 60 records, the server counted 61") {
		t.Fatalf("%d events, error %v", n, err)
	}
}

// TestRunCompression: a remote server is asked for gzip, which kaudit
// decodes itself; a loopback one is asked for none.
func TestRunCompression(t *testing.T) {
	for _, loopback := range []bool{false, true} {
		f, srv := newFakeVL(t)
		asked := make(chan string, 100)
		gz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked <- r.Header.Get("Accept-Encoding")
			if r.Header.Get("Accept-Encoding") != "gzip" {
				f.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			f.ServeHTTP(rec, r)
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(rec.Body.Bytes())
			zw.Close()
		}))
		defer gz.Close()
		_ = srv
		src, _ := New(gz.URL, Auth{}, NewPushdown(nil, nil, nil), nil)
		src.c.loopback = loopback
		n := 0
		if err := src.Run(context.Background(), func(b ingest.Batch) error { n += len(b.Events); return nil }); err != nil || n != 60 {
			t.Fatalf("loopback %v: %d events, %v", loopback, n, err)
		}
		want := map[bool]string{false: "gzip", true: "identity"}[loopback]
		if got := <-asked; got != want {
			t.Errorf("loopback %v: Accept-Encoding %q", loopback, got)
		}
	}
	if !isLoopback("http://127.0.0.1:9428") || !isLoopback("http://[::1]:9428") || !isLoopback("https://localhost") || isLoopback("http://vl.example:9428") {
		t.Error("isLoopback")
	}
}
