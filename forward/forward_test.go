package forward

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaudit/kaudit/internal/testwait"
)

// TestClassification drives each protocol through scripted statuses: what
// is retried (and how long it waits), what is dead-lettered, what is split.
func TestClassification(t *testing.T) {
	type step struct {
		status     int
		retryAfter string
	}
	tests := []struct {
		name   string
		scheme string
		steps  []step // answers to the first requests; then 200/202
		n      int    // records enqueued
		// want
		requests int
		acked    int64
		retried  int64
		dead     int64
		waits    []time.Duration // exact waits (Retry-After); nil: not checked
	}{
		{name: "otlp 429 Retry-After", scheme: "otlp+http", steps: []step{{429, "3"}, {503, "1"}}, n: 5, requests: 3, acked: 5, retried: 10, waits: []time.Duration{3 * time.Second, time.Second}},
		{name: "otlp 502 504 retried", scheme: "otlp+http", steps: []step{{502, ""}, {504, ""}}, n: 2, requests: 3, acked: 2, retried: 4},
		{name: "otlp 500 not retried", scheme: "otlp+http", steps: []step{{500, ""}}, n: 3, requests: 1, dead: 3},
		{name: "otlp 400 dead letter", scheme: "otlp+http", steps: []step{{400, ""}}, n: 3, requests: 1, dead: 3},
		{name: "otlp 413 split", scheme: "otlp+http", steps: []step{{413, ""}}, n: 4, requests: 3, acked: 4},
		{name: "datadog 408 429 5xx retried", scheme: "datadog", steps: []step{{408, ""}, {429, "2"}, {500, ""}, {503, ""}}, n: 2, requests: 5, acked: 2, retried: 8},
		{name: "datadog 400 dead letter", scheme: "datadog", steps: []step{{400, ""}}, n: 3, requests: 1, dead: 3},
		{name: "datadog 401", scheme: "datadog", steps: []step{{401, ""}}, n: 1, requests: 1, dead: 1},
		{name: "datadog 403", scheme: "datadog", steps: []step{{403, ""}}, n: 2, requests: 1, dead: 2},
		{name: "datadog 413 split twice", scheme: "datadog", steps: []step{{413, ""}, {413, ""}}, n: 4, requests: 5, acked: 4},
		{name: "datadog 413 on one event", scheme: "datadog", steps: []step{{413, ""}, {413, ""}, {413, ""}}, n: 2, requests: 3, acked: 0, dead: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) {
				if n < len(tt.steps) {
					if tt.steps[n].retryAfter != "" {
						w.Header().Set("Retry-After", tt.steps[n].retryAfter)
					}
					http.Error(w, "scripted", tt.steps[n].status)
					return
				}
				w.WriteHeader(202)
			})
			sl := &sleeps{}
			dl := filepath.Join(t.TempDir(), "dead.jsonl")
			cfg := Config{Identity: testID, APIKey: "k", DeadLetter: dl, sleep: sl.sleep}
			url := tt.scheme + "://" + in.srv.Listener.Addr().String()
			if tt.scheme == "datadog" {
				cfg.Endpoint = in.srv.URL + "/api/v2/logs"
				url = "datadog://datadoghq.eu"
			}
			f, err := New(url, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Enqueue(context.Background(), records(t, 0, tt.n), "end"); err != nil {
				t.Fatal(err)
			}
			drain(t, f)
			s := f.Stats()
			if got := len(in.requests()); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if s.Acked != tt.acked || s.Retried != tt.retried || s.DeadLettered != tt.dead || s.Sent != int64(tt.n) {
				t.Errorf("stats %+v; want acked %d retried %d dead %d sent %d", s, tt.acked, tt.retried, tt.dead, tt.n)
			}
			if tt.waits != nil {
				if got := sl.got(); len(got) != len(tt.waits) || got[0] != tt.waits[0] || got[1] != tt.waits[1] {
					t.Errorf("waits %v, want %v", got, tt.waits)
				}
			}
			if len(sl.got()) != len(tt.steps) && tt.retried > 0 {
				t.Errorf("%d waits for %d retryable answers", len(sl.got()), len(tt.steps))
			}
			if p, ok := f.Committed(); !ok || p != "end" {
				t.Errorf("committed %v %v: every outcome acknowledges the batch", p, ok)
			}
			lines := readLines(t, dl)
			if int64(len(lines)) != tt.dead {
				t.Errorf("%d dead-letter lines, want %d", len(lines), tt.dead)
			}
			for _, l := range lines {
				var d struct {
					Sink, Error string
					Event       json.RawMessage
					ID          string `json:"kaudit.event_id"`
				}
				if err := json.Unmarshal([]byte(l), &d); err != nil || !strings.HasPrefix(string(d.Event), `{"kind":"Event"`) || d.ID == "" || !strings.Contains(d.Error, "HTTP 4") && !strings.Contains(d.Error, "HTTP 5") {
					t.Errorf("dead-letter line %s (%v)", l, err)
				}
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func TestDatadogPayload(t *testing.T) {
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) { w.WriteHeader(202) })
	f, err := New("datadog://datadoghq.eu", Config{Identity: testID, APIKey: "secret", Endpoint: in.srv.URL + "/api/v2/logs", Tags: []string{"env:test"}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if f.t.url != in.srv.URL+"/api/v2/logs" {
		t.Fatalf("url %s", f.t.url)
	}
	recs := records(t, 0, 2500)
	recs[7].Event.Source = "cp2" // read from host cp2's log
	recs[9].Detections = []string{"pod-exec", "secret-read"}
	f.Enqueue(context.Background(), recs, nil)
	drain(t, f)
	reqs := in.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d payloads for 2500 events, want 3 (≤ 1000 each)", len(reqs))
	}
	seen := 0
	for i, body := range reqs {
		if in.hdrs[i].Get("DD-API-KEY") != "secret" || in.hdrs[i].Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", in.hdrs[i])
		}
		var entries []map[string]any
		if err := json.Unmarshal(body, &entries); err != nil {
			t.Fatal(err)
		}
		if len(entries) > 1000 || len(body) > 5_000_000 {
			t.Errorf("payload %d: %d entries, %d bytes", i, len(entries), len(body))
		}
		for _, e := range entries {
			want := eventLine(seen)
			tags := "kube_cluster_name:prod-eu,env:test"
			if seen == 9 {
				tags += ",kaudit.detection:pod-exec,kaudit.detection:secret-read"
				if d := fmt.Sprint(e["kaudit.detections"]); d != "[pod-exec secret-read]" {
					t.Errorf("entry 9: kaudit.detections %s", d)
				}
			} else if _, ok := e["kaudit.detections"]; ok {
				t.Errorf("entry %d: kaudit.detections without a hit", seen)
			}
			if e["message"] != want || e["ddsource"] != "kubernetes.audit" || e["service"] != "audit" || e["hostname"] != "cp-1" ||
				e["ddtags"] != tags || e["kaudit.event_id"] != EventID("prod-eu", "cp-1", []byte(want)) {
				t.Fatalf("entry %d: %v", seen, e)
			}
			if src, _ := e["kaudit.source"].(string); src != map[bool]string{true: "cp2"}[seen == 7] {
				t.Errorf("entry %d: kaudit.source %q", seen, src)
			}
			sec, _ := strconv.Atoi(want[strings.Index(want, `"stageTimestamp":"2026-11-20T10:00:`)+35:][:2])
			if ts := int64(e["timestamp"].(float64)); ts != time.Date(2026, 11, 20, 10, 0, sec, 250e6, time.UTC).UnixMilli() {
				t.Fatalf("entry %d: timestamp %d", seen, ts)
			}
			seen++
		}
	}
	if seen != 2500 {
		t.Errorf("%d entries, want 2500 in order", seen)
	}
}

func TestDatadogByteLimitAndOversize(t *testing.T) {
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) { w.WriteHeader(202) })
	f, err := New("datadog://datadoghq.com", Config{Identity: testID, APIKey: "k", Endpoint: in.srv.URL, StripResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, 0, 12)
	big := `{"kind":"Event","auditID":"big","stage":"ResponseComplete","responseObject":{"data":"` + strings.Repeat("x", 1_100_000) + `"},"verb":"list"}`
	for i := range recs {
		if i%3 == 0 {
			recs[i].Event.Raw = []byte(strings.Replace(big, "big", strconv.Itoa(i), 1))
		}
	}
	f.Enqueue(context.Background(), recs, nil)
	drain(t, f)
	total := 0
	for _, body := range in.requests() {
		if len(body) > 5_000_000 {
			t.Errorf("payload of %d bytes", len(body))
		}
		var entries []map[string]any
		if err := json.Unmarshal(body, &entries); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if m := e["message"].(string); len(m) > DatadogMaxEvent || strings.Contains(m, "responseObject") {
				t.Errorf("oversize event sent whole (%d bytes)", len(m))
			}
		}
		total += len(entries)
	}
	if s := f.Stats(); total != 12 || s.Oversize != 4 || s.Acked != 12 || s.Sent != 12 {
		t.Errorf("%d entries; stats %+v; want 12 sent, 4 oversize", total, s)
	}
}

// TestOrderedAcks: with two senders, the second batch is acknowledged first;
// the committed position must wait for the first.
func TestOrderedAcks(t *testing.T) {
	release := make(chan struct{})
	var first atomic.Bool
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) {
		if strings.Contains(string(body), "id-000000") {
			first.Store(true)
			<-release
		}
	})
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f.Enqueue(ctx, records(t, 0, 1), 1)
	waitFor(t, first.Load) // in flight: the next batches cannot merge into its payload
	f.Enqueue(ctx, records(t, 1, 1), 2)
	f.Enqueue(ctx, records(t, 2, 1), 3)
	waitFor(t, func() bool { return f.Stats().Acked == 2 })
	if p, ok := f.Committed(); ok {
		t.Fatalf("committed %v while batch 1 is unacknowledged", p)
	}
	close(release)
	waitFor(t, func() bool { p, _ := f.Committed(); return p == 3 })
	drain(t, f)
}

func TestAckTracker(t *testing.T) {
	tests := []struct {
		order []uint64
		want  []any // committed after each ack (nil: none yet)
	}{
		{[]uint64{0, 1, 2}, []any{0, 1, 2}},
		{[]uint64{2, 1, 0}, []any{nil, nil, 2}},
		{[]uint64{1, 0, 3, 2}, []any{nil, 1, 1, 3}},
	}
	for _, tt := range tests {
		a := ackTracker{done: map[uint64]any{}}
		for i, seq := range tt.order {
			a.ack(seq, int(seq))
			var got any
			if a.has {
				got = a.committed
			}
			if want := tt.want[i]; want != nil && got != want || want == nil && a.has {
				t.Errorf("order %v, after %d: committed %v, want %v", tt.order, i, got, tt.want[i])
			}
		}
		if len(a.done) != 0 {
			t.Errorf("order %v: %d acks left over", tt.order, len(a.done))
		}
	}
}

// TestBackpressure: a sink that does not answer fills MaxInflight; the
// next Enqueue blocks until an answer frees room.
func TestBackpressure(t *testing.T) {
	release := make(chan struct{})
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) { <-release })
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID, MaxInflight: 4000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if err := f.Enqueue(ctx, records(t, i, 1), i); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = f.Enqueue(short, records(t, 9, 3), 9)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enqueue over MaxInflight: %v, want it to block", err)
	}
	if s := f.Stats(); s.Queue != 3 || s.QueueBytes > 4000 {
		t.Errorf("stats %+v", s)
	}
	done := make(chan error, 1)
	go func() { done <- f.Enqueue(ctx, records(t, 9, 3), 9) }()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	drain(t, f)
	if s := f.Stats(); s.Acked != 6 {
		t.Errorf("acked %d, want 6", s.Acked)
	}
}

// TestCloseDeadline: a receiver that is down keeps batches queued; Close
// gives up at its deadline and says how many events were not delivered,
// and nothing is committed.
func TestCloseDeadline(t *testing.T) {
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) { http.Error(w, "down", http.StatusServiceUnavailable) })
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID, Backoff: Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	f.Enqueue(context.Background(), records(t, 0, 5), 1)
	f.Enqueue(context.Background(), records(t, 5, 2), 2)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if left := f.Close(ctx); left != 7 {
		t.Errorf("Close left %d, want 7", left)
	}
	if _, ok := f.Committed(); ok {
		t.Error("committed with nothing delivered")
	}
	s := f.Stats()
	if s.Retried == 0 || !strings.Contains(s.LastError, "503") {
		t.Errorf("stats %+v", s)
	}
	if err := f.Enqueue(context.Background(), records(t, 0, 1), 3); err == nil {
		t.Error("Enqueue after Close succeeded")
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		raw, url, name string
		key, endpoint  string
		err            bool
	}{
		{raw: "otlp+http://127.0.0.1:4318", url: "http://127.0.0.1:4318/v1/logs"},
		{raw: "otlp+https://collector.example:4318/", url: "https://collector.example:4318/v1/logs"},
		{raw: "otlp+http://c:4318/custom/logs", url: "http://c:4318/custom/logs"},
		{raw: "otlp+http://user:pw@c:4318", url: "http://c:4318/v1/logs", name: "otlp+http://c:4318"},
		{raw: "datadog://datadoghq.eu", key: "k", url: "https://http-intake.logs.datadoghq.eu/api/v2/logs"},
		{raw: "datadog://datadoghq.eu", key: "k", endpoint: "http://127.0.0.1:30001/x", url: "http://127.0.0.1:30001/x"},
		{raw: "datadog://datadoghq.eu", err: true}, // no key
		{raw: "http://c:4318", err: true},
		{raw: "otlp+http://", err: true},
		{raw: "::", err: true},
	}
	for _, tt := range tests {
		cfg := Config{APIKey: tt.key, Endpoint: tt.endpoint}
		got, err := parseTarget(tt.raw, &cfg)
		if (err != nil) != tt.err {
			t.Errorf("%s: err %v", tt.raw, err)
			continue
		}
		if err == nil && (got.url != tt.url || tt.name != "" && got.name != tt.name) {
			t.Errorf("%s: url %s name %s", tt.raw, got.url, got.name)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"otlp+http://127.0.0.1:4318", "datadog://datadoghq.eu", "otlp+https://a:1/b?c#d", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg := Config{APIKey: "k"}
		tg, err := parseTarget(s, &cfg)
		if err == nil && (tg.proto == nil || !strings.HasPrefix(tg.url, "http")) {
			t.Fatalf("%q: accepted with url %q", s, tg.url)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testwait.Until(t, "the condition", cond)
}

func TestStatsFile(t *testing.T) {
	dir := t.TempDir()
	if s, _, err := LoadStats(dir); err != nil || s != nil {
		t.Fatalf("no file: %v %v", s, err)
	}
	in := []Stats{{Sink: "otlp+http://b:1", Sent: 5, Acked: 4, Queue: 1, LastError: "HTTP 503"}, {Sink: "datadog://a", DeadLettered: 2}}
	if err := SaveStats(dir, in); err != nil {
		t.Fatal(err)
	}
	got, at, err := LoadStats(dir)
	if err != nil || len(got) != 2 || got[0].Sink != "datadog://a" || got[1].Acked != 4 || got[1].LastError != "HTTP 503" || time.Since(at) > time.Minute {
		t.Errorf("loaded %+v at %v: %v", got, at, err)
	}
}
