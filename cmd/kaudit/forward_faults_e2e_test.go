package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

// faultProxy stands between kaudit and the real collector and answers some
// requests itself: 429 with Retry-After, 503, 502, 413 for big payloads, and
// one 400 (a payload refused for good).
type faultProxy struct {
	mu     sync.Mutex
	n      int
	counts map[int]int // status answered by the proxy -> times
}

func (p *faultProxy) start(t *testing.T, port int, target string) string {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.n++
		n := p.n
		status := 0
		switch {
		case n == 2:
			status = http.StatusBadRequest
		case len(body) > 100<<10 && n%2 == 1:
			status = http.StatusRequestEntityTooLarge
		case n%7 == 3:
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "1")
		case n%7 == 5:
			status = http.StatusServiceUnavailable
		case n%7 == 6:
			status = http.StatusBadGateway
		}
		if status != 0 {
			p.counts[status]++
		}
		p.mu.Unlock()
		if status != 0 {
			http.Error(w, "injected", status)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "otlp+http://" + ln.Addr().String()
}

// TestE2EForwardFaultProxy: replay --forward through a fault-injecting proxy
// to the real collector. What the proxy refused for good (400) is in the
// dead-letter file; everything else reached the collector exactly once
// (429/502/503 retried, 413 split), byte-identical.
func TestE2EForwardFaultProxy(t *testing.T) {
	e2e(t)
	col := newCollector(t, 30012)
	p := &faultProxy{counts: map[int]int{}}
	proxy := p.start(t, 30013, "http://127.0.0.1:30012")
	dir, state := t.TempDir(), t.TempDir()
	const n, cluster = 6000, "faults"
	w := &written{line: map[string]string{}}
	g := gen.New(gen.Config{Seed: 24})
	var buf bytes.Buffer
	var line []byte
	for range n {
		line = g.Next(line[:0])
		w.add(cluster, line)
		buf.Write(line)
	}
	os.WriteFile(filepath.Join(dir, "audit.log"), buf.Bytes(), 0o600)
	code, _, errOut := kaudit(t, "", "replay", "-o", "table", "--view", "codes", "--state-dir", state, "--cluster-name", cluster,
		"--forward", proxy, "--forward-drain", "2m", filepath.Join(dir, "audit.log"))
	if code != exitOK {
		t.Fatalf("replay exit %d: %s", code, errOut)
	}
	col.stop()
	got := col.collected()
	dead := readDeadLetter(t, filepath.Join(state, "deadletter-"+fileSafe(proxy)+".jsonl"))
	// Everything is either at the collector or in the dead-letter file, once.
	seen := map[string]int{}
	for _, r := range got {
		seen[r.id]++
		if w.line[r.id] != r.body {
			t.Fatalf("event %s: body differs", r.id)
		}
	}
	for _, id := range dead {
		seen[id]++
	}
	for _, id := range w.order {
		if seen[id] != 1 {
			t.Fatalf("event %s: %d times at the collector or in the dead-letter file, want 1", id, seen[id])
		}
	}
	_, out, _ := kaudit(t, "", "status", "--state-dir", state, "-o", "json")
	t.Logf("%d events: %d at the collector, %d dead-lettered (400); the proxy answered %v; status: %s",
		n, len(got), len(dead), p.counts, strings.Join(strings.Fields(out), " "))
	if len(dead) == 0 || p.counts[429] == 0 || p.counts[413] == 0 || p.counts[503] == 0 {
		t.Errorf("the faults were not all exercised: %v, %d dead-lettered", p.counts, len(dead))
	}
}

func readDeadLetter(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for l := range bytes.Lines(data) {
		var d struct {
			ID string `json:"kaudit.event_id"`
		}
		if err := json.Unmarshal(l, &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}
