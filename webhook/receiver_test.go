package webhook

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// collector is a Run consumer that records what it was handed.
type collector struct {
	mu     sync.Mutex
	keys   map[string]int
	raws   []string
	block  chan struct{} // if set, emit waits for it
	events int
}

func (c *collector) emit(b ingest.Batch) error {
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range b.Events {
		c.keys[e.AuditID]++
		raw := make([]byte, len(e.Raw))
		if _, err := b.Raw.ReadAt(raw, b.Offsets[i]); err != nil {
			return err
		}
		c.raws = append(c.raws, string(raw))
		c.events++
	}
	return nil
}

func (c *collector) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys[key] > 0
}

// startWebhook runs w's consumer into a collector until the test ends.
func startWebhook(t *testing.T, w *Receiver, c *collector) {
	t.Helper()
	if c.keys == nil {
		c.keys = map[string]int{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx, c.emit) }()
	t.Cleanup(func() { cancel(); <-done })
}

// eventList wraps audit event lines as an EventList of apiVersion v.
func eventList(t *testing.T, v string, events ...string) string {
	t.Helper()
	return `{"kind":"EventList","apiVersion":"audit.k8s.io/` + v + `","metadata":{},"items":[` + strings.Join(events, ",") + `]}`
}

// fixtureLines reads the first n lines of a testdata/public fixture.
func fixtureLines(t *testing.T, name string, n int) []string {
	t.Helper()
	data, err := os.ReadFile("../testdata/public/" + name)
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimSpace(string(data)), "\n")
	return ls[:min(n, len(ls))]
}

func gzipString(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func TestWebhookBodies(t *testing.T) {
	v1 := fixtureLines(t, "audit2rbac-demo-v1.jsonl", 5)
	v1beta1 := fixtureLines(t, "audit2rbac-demo-v1beta1.jsonl", 4)
	alpha, err := os.ReadFile("../testdata/public/k8sdocs-webhook-eventlist-v1alpha1.json")
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(eventList(t, "v1", v1[:2]...)), "", "  ")
	tests := []struct {
		name     string
		method   string
		body     string
		gzip     bool
		status   int
		events   int
		problems string
	}{
		{name: "v1 EventList", body: eventList(t, "v1", v1...), status: 200, events: 5},
		{name: "v1beta1 EventList", body: eventList(t, "v1beta1", v1beta1...), status: 200, events: 4},
		{name: "v1alpha1 docs EventList, pretty-printed", body: string(alpha), status: 200, events: 1},
		{name: "pretty-printed v1", body: pretty.String(), status: 200, events: 2},
		{name: "single Event", body: v1[0], status: 200, events: 1},
		{name: "gzip", body: gzipString(eventList(t, "v1", v1...)), gzip: true, status: 200, events: 5},
		{name: "empty EventList", body: eventList(t, "v1"), status: 200, events: 0},
		{name: "malformed JSON", body: `{"kind":"EventList","items":[`, status: 400, problems: "malformed"},
		{name: "not audit", body: `{"kind":"Pod","apiVersion":"v1"}`, status: 400, problems: "unrecognised"},
		{name: "bad gzip", body: "not gzip", gzip: true, status: 400, problems: "unreadable"},
		{name: "one bad item, others taken", body: eventList(t, "v1", v1[0], `{"auditID":7}`, v1[1]), status: 200, events: 2, problems: "unrecognised"},
		{name: "GET", method: "GET", status: 405, problems: "unrecognised"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var probs []string
			var mu sync.Mutex
			w := &Receiver{OnProblem: func(p ingest.Problem) { mu.Lock(); probs = append(probs, p.Kind.String()+": "+p.Msg); mu.Unlock() }}
			c := &collector{}
			startWebhook(t, w, c)
			req := httptest.NewRequest(cmpStr(tc.method, "POST"), "/", strings.NewReader(tc.body))
			if tc.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			rec := httptest.NewRecorder()
			w.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if c.events != tc.events {
				t.Errorf("%d events handed on, want %d", c.events, tc.events)
			}
			for _, raw := range c.raws {
				if strings.ContainsAny(raw, "\r\n") {
					t.Errorf("raw spans lines: %q", raw)
				}
				if _, err := audit.Decode([]byte(raw), nil); err != nil {
					t.Errorf("raw %q does not decode: %v", raw, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.problems == "" && len(probs) > 0 || tc.problems != "" && (len(probs) != 1 || !strings.HasPrefix(probs[0], tc.problems)) {
				t.Errorf("problems %q, want one %q", probs, tc.problems)
			}
			st := w.Stats()
			if tc.status == 200 && (st.Requests != 1 || st.Events != int64(tc.events)) || tc.status != 200 && st.TotalRejected() != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestWebhookOriginalBytes: each event handed on is its item's bytes.
func TestWebhookOriginalBytes(t *testing.T) {
	v1 := fixtureLines(t, "audit2rbac-demo-v1.jsonl", 20)
	w := &Receiver{}
	c := &collector{}
	startWebhook(t, w, c)
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(eventList(t, "v1", v1...))))
	if rec.Code != 200 {
		t.Fatal(rec.Code, rec.Body)
	}
	if strings.Join(c.raws, "\n") != strings.Join(v1, "\n") {
		t.Errorf("raw bytes differ:\n%s\nwant\n%s", strings.Join(c.raws, "\n"), strings.Join(v1, "\n"))
	}
}

// TestWebhookBigList: an EventList of more than ingest.MaxBatch items is handed
// on in batches of at most ingest.MaxBatch, in order, before the 200.
func TestWebhookBigList(t *testing.T) {
	items := make([]string, 2*ingest.MaxBatch+7)
	for i := range items {
		items[i] = fmt.Sprintf(`{"auditID":"%06d","stage":"ResponseComplete","verb":"get"}`, i)
	}
	var sizes []int
	var ids []string
	w := &Receiver{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, func(b ingest.Batch) error {
			sizes = append(sizes, len(b.Events))
			for _, e := range b.Events {
				ids = append(ids, e.AuditID)
			}
			return nil
		})
	}()
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(eventList(t, "v1", items...))))
	cancel()
	<-done
	if rec.Code != 200 || fmt.Sprint(sizes) != fmt.Sprint([]int{ingest.MaxBatch, ingest.MaxBatch, 7}) {
		t.Fatalf("status %d, batches %v", rec.Code, sizes)
	}
	for i, id := range ids {
		if id != fmt.Sprintf("%06d", i) {
			t.Fatalf("event %d is %s", i, id)
		}
	}
}

func TestWebhookHealthz(t *testing.T) {
	w := &Receiver{Auth: &Auth{ClientCert: true}}
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("/healthz: %d %q", rec.Code, rec.Body)
	}
}

// TestWebhookBusy: when the consumer does not keep up, requests get 429
// with Retry-After, never 200; when it stops, 503.
func TestWebhookBusy(t *testing.T) {
	w := &Receiver{Queue: 1, QueueWait: 20 * time.Millisecond}
	c := &collector{block: make(chan struct{})}
	startWebhook(t, w, c)
	body := eventList(t, "v1", fixtureLines(t, "audit2rbac-demo-v1.jsonl", 1)...)
	codes := make(chan int, 3)
	for range 3 {
		go func() {
			rec := httptest.NewRecorder()
			w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
			if rec.Code == 429 && rec.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			codes <- rec.Code
		}()
	}
	// One is with the consumer, one in the queue: the third is refused.
	if code := <-codes; code != 429 {
		t.Errorf("first answer %d, want 429", code)
	}
	close(c.block)
	if a, b := <-codes, <-codes; a != 200 || b != 200 {
		t.Errorf("answers after the consumer caught up: %d %d", a, b)
	}
	if st := w.Stats(); st.Requests != 2 || st.Rejected[ReasonBusy] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookStopped(t *testing.T) {
	w := &Receiver{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.Run(ctx, func(ingest.Batch) error { return nil })
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(fixtureLines(t, "audit2rbac-demo-v1.jsonl", 1)[0])))
	if rec.Code != 503 {
		t.Errorf("after Run returned: %d, want 503", rec.Code)
	}
}

// TestWebhookSpool: with a spool, a 200 means the events are in the spool
// file, fsynced; a Tail of it hands them on.
func TestWebhookSpool(t *testing.T) {
	dir := t.TempDir()
	sp, err := OpenSpoolFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	w := &Receiver{Spool: sp}
	v1 := fixtureLines(t, "audit2rbac-demo-v1.jsonl", 6)
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(eventList(t, "v1beta1", v1[3:]...)), "", "  ")
	for _, body := range []string{eventList(t, "v1", v1[:3]...), pretty.String()} {
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		if rec.Code != 200 {
			t.Fatal(rec.Code, rec.Body)
		}
	}
	data, err := os.ReadFile(sp.Path())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(got) != 6 || strings.Join(got[:3], "\n") != strings.Join(v1[:3], "\n") {
		t.Fatalf("spool holds %d lines:\n%s", len(got), data)
	}
	var n atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	tail := &ingest.Tail{Path: sp.Path(), Poll: 10 * time.Millisecond}
	go func() {
		// Until the 6 events are handed on; the deadline only guards
		// against a hang.
		for deadline := time.Now().Add(2 * time.Minute); n.Load() < 6 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	tail.Run(ctx, func(b ingest.Batch) error { n.Add(int64(len(b.Events))); return nil })
	if n.Load() != 6 {
		t.Errorf("tail of the spool handed on %d events, want 6", n.Load())
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// FuzzWebhookBody: any body gets 200, 400 or 413, never a panic; a 200
// hands on the events Decode finds (all of them when no item was refused),
// each one line that reads back alone as one event.
func FuzzWebhookBody(f *testing.F) {
	f.Add([]byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a","stage":"ResponseComplete"}]}`), false)
	f.Add([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"b"}`), false)
	f.Add([]byte("{\n \"kind\": \"EventList\",\n \"apiVersion\": \"audit.k8s.io/v1\",\n \"items\": [{\"auditID\": \"c\"}, 7]}"), false)
	f.Add([]byte(`{"kind":"EventList","items":[{},null,5,{"kind":"EventList","items":[{"auditID":"x","stage":"Panic"}]}]}`), false)
	f.Add([]byte(gzipString(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}`)), true)
	f.Fuzz(func(t *testing.T, body []byte, gzipped bool) {
		w := &Receiver{MaxBody: 1 << 16, Queue: 1}
		var got []string
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.Run(ctx, func(b ingest.Batch) error {
				for i, e := range b.Events {
					raw := make([]byte, len(e.Raw))
					b.Raw.ReadAt(raw, b.Offsets[i])
					got = append(got, string(raw))
				}
				return nil
			})
		}()
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, req)
		cancel()
		<-done
		switch rec.Code {
		case 200:
			plain := body
			if gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("200 for a body that is not gzip")
				}
				plain, _ = io.ReadAll(zr)
			}
			want, _ := audit.Decode(plain, nil)
			var ans itemsAnswer
			json.Unmarshal(rec.Body.Bytes(), &ans)
			if ans.Accepted != len(got) || ans.Refused == 0 && len(got) != len(want) {
				t.Fatalf("200 handed on %d events, answered %s, Decode finds %d", len(got), rec.Body, len(want))
			}
			for _, r := range got {
				if strings.ContainsAny(r, "\r\n") {
					t.Fatalf("event spans lines: %q", r)
				}
				// What the spool's reader will make of it: one event.
				if evs, err := audit.Decode([]byte(r), nil); err != nil || !itself([]byte(r), evs) {
					t.Fatalf("taken %q reads back as %d events (%v)", r, len(evs), err)
				}
			}
		case 400, 413:
			if len(got) != 0 {
				t.Fatalf("%d but %d events handed on", rec.Code, len(got))
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// BenchmarkWebhook: API-server-sized batches (400 events) through the
// handler and the consumer (decode, original bytes to the memory spool).
func BenchmarkWebhook(b *testing.B) {
	data, err := os.ReadFile("../testdata/public/audit2rbac-demo-v1.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	ls := strings.Split(strings.TrimSpace(string(data)), "\n")
	items := make([]string, 400)
	for i := range items {
		items[i] = ls[i%len(ls)]
	}
	body := []byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + strings.Join(items, ",") + `]}`)
	w := &Receiver{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx, func(ingest.Batch) error { return nil })
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, httptest.NewRequest("POST", "/", bytes.NewReader(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "events/s")
}
