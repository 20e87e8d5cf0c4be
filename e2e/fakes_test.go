package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/kaudit/kaudit/forward"
)

// otlpFake is an OTLP/HTTP logs receiver answering status (200 when 0),
// recording the bodies of the records it accepted, in arrival order.
type otlpFake struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	bodies []string
	ids    []string
	posts  int
	hold   chan struct{} // non-nil: requests wait until it is closed (a receiver not answering)
	held   int           // requests waiting now
}

// holdRequests makes requests wait (unanswered) until release is called.
func (f *otlpFake) holdRequests() (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.hold = ch
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.hold = nil
		f.mu.Unlock()
		close(ch)
	}
}

func newOTLPFake(t *testing.T) *otlpFake {
	f := &otlpFake{}
	stopped := make(chan struct{})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server notice a client
		// that gives up (and cancel r.Context()).
		body, rerr := io.ReadAll(r.Body)
		f.mu.Lock()
		f.posts++
		hold := f.hold
		if hold != nil {
			f.held++
		}
		f.mu.Unlock()
		if hold != nil {
			var gone bool
			select {
			case <-hold:
			case <-r.Context().Done():
				gone = true
			case <-stopped:
				gone = true
			}
			f.mu.Lock()
			f.held--
			f.mu.Unlock()
			if gone {
				return // the sender gave up: nothing was received
			}
		}
		if s := f.status.Load(); s != 0 {
			http.Error(w, "scripted", int(s))
			return
		}
		if rerr != nil {
			http.Error(w, rerr.Error(), 400)
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b, _ := io.ReadAll(zr)
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil || r.URL.Path != "/v1/logs" {
			http.Error(w, "bad request", 400)
			return
		}
		lrs := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		f.mu.Lock()
		for i := range lrs.Len() {
			f.bodies = append(f.bodies, lrs.At(i).Body().Str())
			id, _ := lrs.At(i).Attributes().Get(forward.AttrEventID)
			f.ids = append(f.ids, id.Str())
		}
		f.mu.Unlock()
	}))
	t.Cleanup(func() { close(stopped); f.srv.Close() })
	return f
}

func (f *otlpFake) url() string { return "otlp+http://" + f.srv.Listener.Addr().String() }

func (f *otlpFake) got() (bodies, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...), append([]string(nil), f.ids...)
}

// sinkStats is the sink's counters as kaudit status -o json shows them.
func sinkStats(t *testing.T, state, sink string) forward.Stats {
	t.Helper()
	code, out, errOut := kaudit(t, "status", "--state-dir", state, "-o", "json")
	if code != exitOK {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	var rows []struct {
		Sink    string         `json:"sink"`
		Forward *forward.Stats `json:"forward"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Sink == sink && r.Forward != nil {
			return *r.Forward
		}
	}
	t.Fatalf("no counters for %s in %s", sink, out)
	return forward.Stats{}
}
