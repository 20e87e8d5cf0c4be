// Package testotlp is a scriptable OTLP/HTTP logs receiver for tests of
// kaudit --forward: it can refuse with a status, hold requests unanswered,
// and records the records it accepted. The real OpenTelemetry Collector is
// used by the end-to-end tests; this stands in where faults are scripted.
package testotlp

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/kaudit/kaudit/forward"
)

// Fake is an OTLP/HTTP logs receiver answering Status (200 when 0),
// recording the bodies of the records it accepted, in arrival order.
type Fake struct {
	srv    *httptest.Server
	Status atomic.Int32 // the answer: 200 when 0
	mu     sync.Mutex
	bodies []string
	ids    []string
	dets   [][]string // each record's kaudit.detections
	posts  int
	hold   chan struct{} // non-nil: requests wait until it is closed (a receiver not answering)
	held   int           // requests waiting now
}

// HoldRequests makes requests wait (unanswered) until release is called.
func (f *Fake) HoldRequests() (release func()) {
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

// New starts the receiver on a loopback port; the test's cleanup stops it.
func New(t testing.TB) *Fake {
	f := &Fake{}
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
		if s := f.Status.Load(); s != 0 {
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
			var det []string
			if d, ok := lrs.At(i).Attributes().Get(forward.AttrDetections); ok {
				for j := range d.Slice().Len() {
					det = append(det, d.Slice().At(j).Str())
				}
			}
			f.dets = append(f.dets, det)
		}
		f.mu.Unlock()
	}))
	t.Cleanup(func() { close(stopped); f.srv.Close() })
	return f
}

// URL is the receiver as kaudit's --forward takes it.
func (f *Fake) URL() string { return "otlp+http://" + f.srv.Listener.Addr().String() }

// Got is the bodies and kaudit.event_id attributes received so far.
func (f *Fake) Got() (bodies, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...), append([]string(nil), f.ids...)
}

// Detections is each received record's kaudit.detections (nil: none),
// in the order of Got's bodies.
func (f *Fake) Detections() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.dets...)
}

// Held is how many requests are waiting now.
func (f *Fake) Held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held
}

// Posts is how many requests arrived.
func (f *Fake) Posts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts
}
