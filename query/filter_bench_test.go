package query

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
)

// benchEvents is the size of the benchmark store: about 1.2 GB of
// generated audit log.
const benchEvents = 1_000_000

var benchStore = sync.OnceValues(func() (*store.Store, error) {
	g := gen.New(gen.Config{Seed: 1})
	var data []byte
	starts := make([]int, 0, benchEvents+1)
	for range benchEvents {
		starts = append(starts, len(data))
		data = g.Next(data)
	}
	starts = append(starts, len(data))

	// Decode in parallel, append in order.
	const batch = 4096
	nb := (benchEvents + batch - 1) / batch
	type decoded struct {
		evs  []audit.Event
		offs []int64
		err  error
	}
	out := make([]decoded, nb)
	var wg sync.WaitGroup
	var next sync.Mutex
	b := 0
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := b
				b++
				next.Unlock()
				if i >= nb {
					return
				}
				d := &out[i]
				for j := i * batch; j < min((i+1)*batch, benchEvents); j++ {
					line := data[starts[j] : starts[j+1]-1]
					n := len(d.evs)
					if d.evs, d.err = audit.Decode(line, d.evs); d.err != nil {
						return
					}
					for range d.evs[n:] {
						d.offs = append(d.offs, int64(starts[j]))
					}
				}
			}
		}()
	}
	wg.Wait()
	st := store.New()
	raw := bytes.NewReader(data)
	for _, d := range out {
		if d.err != nil {
			return nil, d.err
		}
		st.Append(d.evs, raw, d.offs)
	}
	return st, nil
})

// BenchmarkFilter times Eval over the requests of a store of 1 M generated
// events (the store is built once, outside the timings).
func BenchmarkFilter(b *testing.B) {
	st, err := benchStore()
	if err != nil {
		b.Fatal(err)
	}
	requests, all := st.Requests(), st.All()
	cases := []struct {
		name, filter string
		cand         *store.Set
	}{
		{"quick-indexed", "verb:get,list ns:kube-system -user:system:node:*", requests},
		{"jq-indexed", `(.verb == "get" or .verb == "list") and .objectRef.namespace == "kube-system" and (.user.username | startswith("system:node:") | not)`, requests},
		{"quick-403-user", "code:403 user:system:serviceaccount:*", requests},
		{"jq-403-user", `.responseStatus.code == 403 and (.user.username | startswith("system:serviceaccount:"))`, requests},
		{"quick-glob-name", "resource:pods name:*-7*", requests},
		{"jq-apigroup", `.objectRef.apiGroup == "apps"`, requests},
		{"jq-since-ns-prefix", `(.objectRef.namespace | startswith("kube-")) and latency > 0.5`, requests},
		{"jq-body-privileged", `.requestObject.spec.containers[]?.securityContext.privileged == true`, all},
		{"jq-body-nonroot", `.verb == "create" and .requestObject.spec.containers[]?.securityContext.runAsNonRoot == true`, all},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f, err := Compile(c.filter)
			if err != nil {
				b.Fatal(err)
			}
			var kept uint64
			var stats Stats
			for b.Loop() {
				s, st, err := f.EvalStats(context.Background(), st, c.cand)
				if err != nil {
					b.Fatal(err)
				}
				kept, stats = s.GetCardinality(), st
			}
			n := float64(c.cand.GetCardinality())
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
			b.ReportMetric(float64(kept), "kept")
			b.ReportMetric(float64(stats.Decoded), "decoded")
			b.ReportMetric(n, "candidates")
		})
	}
}

// BenchmarkCompile times compiling a jq filter with its plan.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(`.verb == "delete" and (.objectRef.namespace | startswith("prod-")) and .requestObject.spec.hostNetwork == true`); err != nil {
			b.Fatal(err)
		}
	}
}
