package forward

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// liveBatches cuts recs into batches of 1-3 events, as a tail of a live
// log hands them on.
func liveBatches(recs []Record) [][]Record {
	var out [][]Record
	for i, n := 0, 0; i < len(recs); n++ {
		k := min(1+n%3, len(recs)-i)
		out = append(out, recs[i:i+k])
		i += k
	}
	return out
}

// auditIDRe finds the test events in a payload of either protocol (the
// event JSON is a protobuf string in OTLP, an escaped string in Datadog).
var auditIDRe = regexp.MustCompile(`auditID\\?":\\?"id-(\d{6})`)

func eventNums(body []byte) []int {
	var out []int
	for _, m := range auditIDRe.FindAllSubmatch(body, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		out = append(out, n)
	}
	return out
}

// ledger is what a fake receiver acknowledged: how often each event came
// in a request it answered 2xx.
type ledger struct {
	mu   sync.Mutex
	seen map[int]int
	reqs int
}

func (l *ledger) add(body []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[int]int{}
	}
	l.reqs++
	for _, n := range eventNums(body) {
		l.seen[n]++
	}
}

func (l *ledger) has(first, n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := first; i < first+n; i++ {
		if l.seen[i] == 0 {
			return false
		}
	}
	return true
}

// exactlyOnce fails unless events 0..n-1 were each acknowledged once.
func (l *ledger) exactlyOnce(t *testing.T, n int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	missing, dup := 0, 0
	for i := range n {
		switch c := l.seen[i]; {
		case c == 0:
			missing++
		case c > 1:
			dup += c - 1
		}
	}
	if missing != 0 || dup != 0 || len(l.seen) != n {
		t.Errorf("%d missing, %d duplicates, %d distinct of %d", missing, dup, len(l.seen), n)
	}
}

func sinkURL(t testing.TB, scheme string, in *intake, cfg *Config) string {
	if scheme == "datadog" {
		cfg.APIKey = "k"
		cfg.Endpoint = in.srv.URL + "/api/v2/logs"
		return "datadog://datadoghq.eu"
	}
	return "otlp+http://" + in.srv.Listener.Addr().String()
}

// TestMergedRequests: 30,000 events read from a live log in batches of
// 1-3, to a receiver that takes 40 ms per request. Queued batches are
// merged up to the payload limits, so it takes about a hundred times
// fewer requests than batches, each payload within the protocol's limits.
func TestMergedRequests(t *testing.T) {
	const total = 30000
	recs := records(t, 0, total)
	batches := liveBatches(recs)
	for _, scheme := range []string{"otlp+http", "datadog"} {
		t.Run(scheme, func(t *testing.T) {
			var l ledger
			var over atomic.Int64
			in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) {
				time.Sleep(40 * time.Millisecond)
				if len(body) > 4<<20 || len(eventNums(body)) > 1000 {
					over.Add(1)
				}
				l.add(body)
			})
			cfg := Config{Identity: testID}
			f, err := New(sinkURL(t, scheme, in, &cfg), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range batches {
				if err := f.Enqueue(context.Background(), b, i); err != nil {
					t.Fatal(err)
				}
			}
			drain(t, f)
			l.exactlyOnce(t, total)
			if p, _ := f.Committed(); p != len(batches)-1 {
				t.Errorf("committed %v, want %d", p, len(batches)-1)
			}
			t.Logf("%s: %d events in %d batches took %d requests", scheme, total, len(batches), l.reqs)
			if l.reqs > total/100 || over.Load() > 0 {
				t.Errorf("%d requests (%d over the payload limits) for %d batches", l.reqs, over.Load(), len(batches))
			}
		})
	}
}

// TestOrderedAckOutOfOrder: four senders; the receiver holds the first
// request until three later ones were acknowledged, and delays the rest
// by decreasing amounts. A position is committed only once its batch and
// every earlier one reached the receiver, and it never goes back.
func TestOrderedAckOutOfOrder(t *testing.T) {
	const per, nb = 1000, 12
	var l ledger
	release := make(chan struct{})
	var held atomic.Bool
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) {
		nums := eventNums(body)
		if len(nums) > 0 && nums[0] == 0 {
			held.Store(true)
			<-release
		} else if len(nums) > 0 {
			time.Sleep(time.Duration(nb-nums[0]/per) * 3 * time.Millisecond)
		}
		l.add(body)
	})
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var checks sync.WaitGroup
	var bad atomic.Value
	checks.Go(func() { // the invariant, checked all along
		last := -1
		for {
			if p, ok := f.Committed(); ok {
				b := p.(int)
				if b < last {
					bad.Store("committed went back from " + strconv.Itoa(last) + " to " + strconv.Itoa(b))
				}
				if !l.has(0, (b+1)*per) {
					bad.Store("committed batch " + strconv.Itoa(b) + " before every event up to it was received")
				}
				last = b
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	recs := records(t, 0, per*nb)
	ctx := context.Background()
	f.Enqueue(ctx, recs[:per], 0)
	waitFor(t, held.Load)
	for b := 1; b < nb; b++ {
		f.Enqueue(ctx, recs[b*per:(b+1)*per], b)
	}
	waitFor(t, func() bool { return f.Stats().Acked >= 3*per })
	if p, ok := f.Committed(); ok {
		t.Fatalf("committed %v while batch 0 is unacknowledged", p)
	}
	close(release)
	drain(t, f)
	close(stop)
	checks.Wait()
	if msg := bad.Load(); msg != nil {
		t.Error(msg)
	}
	if p, _ := f.Committed(); p != nb-1 {
		t.Errorf("committed %v, want %d", p, nb-1)
	}
	l.exactlyOnce(t, per*nb)
}

// TestNoLossNoDupUnderRetries: a receiver that answers 503 to every third
// request, 413 to every seventh (of more than one event) and a partial success to every eleventh:
// each event is acknowledged exactly once, and the last position is
// committed.
func TestNoLossNoDupUnderRetries(t *testing.T) {
	const total = 6000
	batches := liveBatches(records(t, 0, total))
	for _, scheme := range []string{"otlp+http", "datadog"} {
		t.Run(scheme, func(t *testing.T) {
			var l ledger
			in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) {
				switch {
				case n%3 == 1:
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				case n%7 == 2 && len(eventNums(body)) > 1: // one event alone would be dead-lettered
					http.Error(w, "too big", http.StatusRequestEntityTooLarge)
					return
				}
				l.add(body)
				if n%11 == 5 && scheme != "datadog" {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"one bad"}}`))
				}
			})
			sl := &sleeps{}
			cfg := Config{Identity: testID, sleep: sl.sleep, DeadLetter: t.TempDir() + "/dead.jsonl"}
			f, err := New(sinkURL(t, scheme, in, &cfg), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range batches {
				if err := f.Enqueue(context.Background(), b, i); err != nil {
					t.Fatal(err)
				}
			}
			drain(t, f)
			l.exactlyOnce(t, total)
			s := f.Stats()
			if s.Acked+s.Dropped != total || s.Retried == 0 || s.DeadLettered != 0 || s.Queue != 0 {
				t.Errorf("stats %+v", s)
			}
			if p, _ := f.Committed(); p != len(batches)-1 {
				t.Errorf("committed %v, want %d", p, len(batches)-1)
			}
		})
	}
}

// TestSplitBatchCommitsOnce: a batch over the payload limit is shared by
// the senders, and its position is committed only with its last part.
func TestSplitBatchCommitsOnce(t *testing.T) {
	release := make(chan struct{})
	var l ledger
	in := newIntake(t, func(n int, body []byte, w http.ResponseWriter) {
		if nums := eventNums(body); len(nums) > 0 && nums[len(nums)-1] == 2499 {
			<-release // the last part waits
		}
		l.add(body)
	})
	f, err := New("otlp+http://"+in.srv.Listener.Addr().String(), Config{Identity: testID})
	if err != nil {
		t.Fatal(err)
	}
	f.Enqueue(context.Background(), records(t, 0, 2500), "whole")
	waitFor(t, func() bool { return f.Stats().Acked == 2000 })
	if p, ok := f.Committed(); ok {
		t.Fatalf("committed %v with part of the batch unacknowledged", p)
	}
	close(release)
	drain(t, f)
	if p, _ := f.Committed(); p != "whole" {
		t.Errorf("committed %v", p)
	}
	l.exactlyOnce(t, 2500)
	if l.reqs != 3 {
		t.Errorf("%d requests, want 3", l.reqs)
	}
}
