package pipeline

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
)

// receiver is an OTLP/HTTP logs receiver that accepts everything and
// keeps the records' bodies in arrival order.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b, _ := io.ReadAll(zr)
		exp := plogotlp.NewExportRequest()
		if err := exp.UnmarshalProto(b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		lrs := exp.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		r.mu.Lock()
		for i := range lrs.Len() {
			r.bodies = append(r.bodies, lrs.At(i).Body().Str())
		}
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func openSinks(t *testing.T, r *receiver, state string) *Sinks {
	t.Helper()
	s, err := OpenSinks(SinkConfig{URLs: []string{"otlp+http://" + r.srv.Listener.Addr().String()},
		Identity: forward.Identity{Cluster: "test"}, MaxInflight: 1 << 20, Drain: time.Minute, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSinksReplay: a replay's batches are queued by the writer; at the end
// every event was delivered, in order.
func TestSinksReplay(t *testing.T) {
	r := newReceiver(t)
	lines := fixture(t, 7)
	path := writeLog(t, t.TempDir(), lines...)
	p, err := Run(context.Background(), Config{Source: Replay(&ingest.Replay{Paths: []string{path}}), Sinks: openSinks(t, r, "")})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Undelivered() != 0 || len(r.bodies) != 7 || r.bodies[0] != lines[0] || r.bodies[6] != lines[6] {
		t.Errorf("undelivered %d, received %d", p.Undelivered(), len(r.bodies))
	}
}

// TestSinksFollow: a followed log's sink has a reader of its own, and its
// acknowledged position is saved with the positions.
func TestSinksFollow(t *testing.T) {
	r := newReceiver(t)
	dir, state := t.TempDir(), t.TempDir()
	path := writeLog(t, dir, fixture(t, 5)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sinks := openSinks(t, r, state)
	name := sinks.list[0].Name()
	p, err := Start(ctx, Config{Source: &ingest.Tail{Path: path, Poll: 10 * time.Millisecond}, StateDir: state, Sinks: sinks, Flush: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	fi, _ := os.Stat(path)
	key := ingest.Checkpoint{Source: abs, Sink: name}.Key()
	waitFor(t, "the sink's position at the end of the log", func() bool {
		pos, err := ingest.LoadPositions(state)
		return err == nil && pos[key].Offset == fi.Size()
	})
	cancel()
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if r.count() != 5 || p.Store.Len() != 5 || p.Undelivered() != 0 {
		t.Errorf("received %d, stored %d, undelivered %d; want 5, 5, 0", r.count(), p.Store.Len(), p.Undelivered())
	}
	if _, saved, err := forward.LoadStats(state); err != nil || saved.IsZero() {
		t.Errorf("the sinks' counters were not saved: %v", err)
	}
}
