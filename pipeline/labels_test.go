package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/detect"
	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/internal/testotlp"
	"github.com/kaudit/kaudit/store"
)

// With Labels (--detect), every forwarded record names the rules its
// event hit, exactly as the rules over the stored stream find them: for a
// followed log (each sink's own reader) and for a replay (the writer).
func TestSinksLabels(t *testing.T) {
	data, err := os.ReadFile("../detect/testdata/handmade/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	set, err := detect.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	labels := func() Labeler {
		eng, err := detect.NewEngine(set, detect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		l := eng.Labeler()
		return func(ctx context.Context, b ingest.Batch) ([][]string, error) {
			return l.Label(ctx, b.Events, b.Raw, b.Offsets)
		}
	}
	for _, follow := range []bool{true, false} {
		t.Run(fmt.Sprintf("follow=%v", follow), func(t *testing.T) {
			rcv := testotlp.New(t)
			path := writeLog(t, t.TempDir(), strings.Split(strings.TrimSpace(string(data)), "\n")...)
			sinks, err := OpenSinks(SinkConfig{URLs: []string{rcv.URL()}, Identity: forward.Identity{Cluster: "test"},
				MaxInflight: 1 << 20, Drain: time.Minute, Labels: labels})
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Source: Replay(&ingest.Replay{Paths: []string{path}}), Sinks: sinks}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if follow {
				cfg.Source = &ingest.Tail{Path: path, Poll: 10 * time.Millisecond}
			}
			p, err := Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "every event received", func() bool {
				b, _ := rcv.Got()
				return len(b) >= p.Store.Len() && p.Store.Len() > 0
			})
			cancel()
			if err := p.Wait(); err != nil {
				t.Fatal(err)
			}
			want := storedHits(t, path, set)
			bodies, _ := rcv.Got()
			dets := rcv.Detections()
			labelled := 0
			for i, b := range bodies {
				if got, w := strings.Join(dets[i], ","), want[eventKey(t, b)]; got != w {
					t.Errorf("record %d: detections %q, want %q", i, got, w)
				}
				if len(dets[i]) > 0 {
					labelled++
				}
			}
			if labelled < 10 {
				t.Errorf("only %d records labelled: the fixture should hit many rules", labelled)
			}
		})
	}
}

// storedHits is the rules' hits over the log at path as a Live over a
// store finds them, by auditID and stage.
func storedHits(t *testing.T, path string, set *detect.Set) map[string]string {
	t.Helper()
	eng, err := detect.NewEngine(set, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := store.New()
	live := eng.Live(st)
	if _, err := (&ingest.Replay{Paths: []string{path}}).Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hits, err := live.Eval(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range hits {
		e := st.Entry(h.ID)
		k := string(e.AuditID) + "/" + e.Stage.String()
		if out[k] != "" {
			out[k] += ","
		}
		out[k] += h.Rule.Name
	}
	return out
}

// eventKey is a forwarded body's auditID and stage.
func eventKey(t *testing.T, body string) string {
	var e struct{ AuditID, Stage string }
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("a forwarded body is not JSON: %v", err)
	}
	return e.AuditID + "/" + e.Stage
}
