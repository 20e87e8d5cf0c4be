package forward

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

func decodeOTLP(t *testing.T, body []byte) plog.Logs {
	t.Helper()
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		t.Fatalf("not an ExportLogsServiceRequest: %v", err)
	}
	return req.Logs()
}

func TestOTLPMapping(t *testing.T) {
	in := newIntake(t, nil)
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID})
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, 0, 4)
	recs[1].Event.Source = "cp2" // read from host cp2's log
	recs[2].Detections = []string{"pod-exec", "secret-read"}
	if err := f.Enqueue(context.Background(), recs, "p1"); err != nil {
		t.Fatal(err)
	}
	drain(t, f)
	reqs := in.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	h := in.hdrs[0]
	if h.Get("Content-Type") != "application/x-protobuf" || h.Get("Content-Encoding") != "gzip" {
		t.Errorf("headers %v", h)
	}
	ld := decodeOTLP(t, reqs[0])
	if ld.LogRecordCount() != 4 {
		t.Fatalf("%d log records, want 4", ld.LogRecordCount())
	}
	res := ld.ResourceLogs().At(0).Resource().Attributes()
	for k, want := range map[string]string{"service.name": "kube-apiserver", "host.name": "cp-1", "k8s.cluster.name": "prod-eu"} {
		if v, ok := res.Get(k); !ok || v.Str() != want {
			t.Errorf("resource %s = %v, want %q", k, v.AsString(), want)
		}
	}
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for i := range 4 {
		lr, r := lrs.At(i), recs[i]
		if lr.Body().Str() != string(r.Event.Raw) || lr.Body().Str() != eventLine(i) {
			t.Errorf("record %d: body differs from the original line", i)
		}
		if !lr.Timestamp().AsTime().Equal(r.Event.StageTime) || !lr.ObservedTimestamp().AsTime().Equal(r.Observed) {
			t.Errorf("record %d: time %v observed %v", i, lr.Timestamp(), lr.ObservedTimestamp())
		}
		a := lr.Attributes()
		str := func(k string) string { v, _ := a.Get(k); return v.AsString() }
		if str(AttrEventID) != EventID("prod-eu", "cp-1", []byte(eventLine(i))) {
			t.Errorf("record %d: event id %q", i, str(AttrEventID))
		}
		if str(AttrVerb) != "get" || str(AttrUser) != "alice" || str(AttrResource) != "pods" || str(AttrStage) != "ResponseComplete" || str(AttrLevel) != "Metadata" {
			t.Errorf("record %d: attributes %v", i, a.AsRaw())
		}
		if g, _ := a.Get(AttrGroups); g.Slice().Len() != 2 || g.Slice().At(0).Str() != "dev" {
			t.Errorf("record %d: groups %v", i, g.AsString())
		}
		if c, _ := a.Get(AttrCode); c.Int() != int64(r.Event.Code) {
			t.Errorf("record %d: code %v", i, c.AsString())
		}
		if l, _ := a.Get(AttrLatency); l.Double() != 250 {
			t.Errorf("record %d: latency %v ms, want 250", i, l.AsString())
		}
	}
	if v, ok := lrs.At(1).Attributes().Get(AttrSource); !ok || v.Str() != "cp2" {
		t.Errorf("record 1 source %q", v.Str())
	}
	if _, ok := lrs.At(0).Attributes().Get(AttrSource); ok {
		t.Error("record 0 has a source attribute, but was read from no named source")
	}
	if v, ok := lrs.At(2).Attributes().Get(AttrDetections); !ok || v.Slice().Len() != 2 || v.Slice().At(0).Str() != "pod-exec" || v.Slice().At(1).Str() != "secret-read" {
		t.Errorf("record 2 detections %v", v.AsString())
	}
	if _, ok := lrs.At(0).Attributes().Get(AttrDetections); ok {
		t.Error("record 0 has detections, but hit no rule")
	}
	if v, _ := lrs.At(3).Attributes().Get(AttrDecision); v.Str() != "forbid" {
		t.Errorf("record 3 decision %q", v.Str())
	}
	if s := f.Stats(); s.Sent != 4 || s.Acked != 4 || s.Queue != 0 {
		t.Errorf("stats %+v", s)
	}
	if p, ok := f.Committed(); !ok || p != "p1" {
		t.Errorf("committed %v %v", p, ok)
	}
}

func TestEventIDStable(t *testing.T) {
	a := EventID("c", "h", []byte("line"))
	if a != EventID("c", "h", []byte("line")) || len(a) != 32 {
		t.Fatalf("unstable or wrong length: %q", a)
	}
	for _, other := range []string{EventID("c2", "h", []byte("line")), EventID("c", "h2", []byte("line")), EventID("c", "h", []byte("line2")), EventID("ch", "", []byte("line"))} {
		if other == a {
			t.Errorf("collision: %q", other)
		}
	}
}

func TestOTLPPartialSuccess(t *testing.T) {
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) {
		resp := plogotlp.NewExportResponse()
		resp.PartialSuccess().SetRejectedLogRecords(2)
		resp.PartialSuccess().SetErrorMessage("two bad records")
		b, _ := resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(b)
	})
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID})
	if err != nil {
		t.Fatal(err)
	}
	f.Enqueue(context.Background(), records(t, 0, 10), 1)
	drain(t, f)
	if n := len(in.requests()); n != 1 {
		t.Errorf("%d requests: a partial success must not be resent", n)
	}
	s := f.Stats()
	if s.Acked != 8 || s.Dropped != 2 || s.Retried != 0 || s.DeadLettered != 0 {
		t.Errorf("stats %+v, want 8 acked, 2 dropped", s)
	}
	if s.LastError == "" {
		t.Error("no last error for a partial success")
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		hdr  string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"0", 0}, {"-3", 0}, {"soon", 0},
		{time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), time.Hour},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.hdr != "" {
			h.Set("Retry-After", tt.hdr)
		}
		got := retryAfter(h)
		if got > tt.want || got < tt.want-2*time.Second {
			t.Errorf("Retry-After %q: %v, want %v", tt.hdr, got, tt.want)
		}
	}
}

func TestBackoffCapped(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second, MaxRetryAfter: time.Minute}
	for attempt := range 40 {
		d := b.wait(attempt, 0)
		want := min(b.Base<<min(attempt, 30), b.Max)
		if d < want/2 || d > want {
			t.Errorf("attempt %d: %v, want in [%v, %v]", attempt, d, want/2, want)
		}
	}
	if d := b.wait(3, time.Hour); d != time.Minute {
		t.Errorf("Retry-After 1h: %v, want capped at 1m", d)
	}
	if d := b.wait(0, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After 3s: %v", d)
	}
}
