package forward

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/internal/testwait"
)

var testID = Identity{Cluster: "prod-eu", Host: "cp-1"}

// eventLine is the i-th test event: an audit.k8s.io/v1 ResponseComplete.
func eventLine(i int) string {
	code, decision := 200, "allow"
	if i%7 == 3 {
		code, decision = 403, "forbid"
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%06d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns-%d/pods/p-%d","verb":"get","user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl/v1.37 \u003cx\u003e","objectRef":{"resource":"pods","namespace":"ns-%d","name":"p-%d","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":%d},"requestReceivedTimestamp":"2026-11-20T10:00:%02d.000000Z","stageTimestamp":"2026-11-20T10:00:%02d.250000Z","annotations":{"authorization.k8s.io/decision":"%s","authorization.k8s.io/reason":""}}`,
		i, i%5, i, i%5, i, code, i%60, i%60, decision)
}

// records decodes n test events into records, numbered from first.
func records(t testing.TB, first, n int) []Record {
	t.Helper()
	var evs []audit.Event
	for i := first; i < first+n; i++ {
		var err error
		evs, err = audit.Decode([]byte(eventLine(i)), evs)
		if err != nil {
			t.Fatal(err)
		}
	}
	return testID.Records(evs, time.Date(2026, 11, 20, 10, 1, 0, 0, time.UTC))
}

// intake is a fake receiver: it records every request's decompressed body
// and answers with what script says for the n-th request (0-based).
type intake struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	bodies  [][]byte
	hdrs    []http.Header
	n       int                                             // requests
	discard bool                                            // keep no bodies (benchmarks)
	script  func(n int, body []byte, w http.ResponseWriter) // nil: 200
}

func newIntake(t testing.TB, script func(n int, body []byte, w http.ResponseWriter)) *intake {
	in := &intake{t: t, script: script}
	in.srv = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(in.srv.Close)
	return in
}

func (in *intake) serve(w http.ResponseWriter, r *http.Request) {
	var body []byte
	var err error
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, zerr := gzip.NewReader(r.Body)
		if zerr != nil {
			http.Error(w, zerr.Error(), 400)
			return
		}
		body, err = io.ReadAll(zr)
	} else {
		body, err = io.ReadAll(r.Body)
	}
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	in.mu.Lock()
	n := in.n
	in.n++
	if !in.discard {
		in.bodies = append(in.bodies, body)
		in.hdrs = append(in.hdrs, r.Header.Clone())
	}
	in.mu.Unlock()
	if in.script != nil {
		in.script(n, body, w)
	}
}

func (in *intake) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.n
}

func (in *intake) requests() [][]byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([][]byte(nil), in.bodies...)
}

// sleeps records the waits a Forwarder asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// drain closes f, failing the test if it does not drain before the test
// binary's deadline (-race on a busy machine encodes slowly).
func drain(t testing.TB, f *Forwarder) {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), testwait.Deadline(t))
	defer cancel()
	if left := f.Close(ctx); left != 0 {
		t.Fatalf("Close left %d events undelivered; stats %+v", left, f.Stats())
	}
}
