package history

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/internal/testcpu"
	"github.com/kaudit/kaudit/store"
)

// benchStore is a store of n events of the realistic generator
// (KAUDIT_BENCH_EVENTS, default one million).
func benchStore(b *testing.B) *store.Store {
	n := 1 << 20
	if v, err := strconv.Atoi(os.Getenv("KAUDIT_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	g := gen.New(gen.Config{Seed: 1})
	var all []byte
	for range n {
		all = g.Next(all)
	}
	return storeOf(b, all)
}

// busiestRef is the named object with the most requests among the first
// events (a worst case for one object's history).
func busiestRef(st *store.Store, skip ...string) Ref {
	count := map[Ref]int{}
	var best Ref
	set := st.Requests()
	set.RemoveRange(200_000, uint64(st.Len()))
	st.Each(set, func(e *store.Entry) bool {
		o := e.Object
		if o.Name == "" || o.Resource == "" || slices.Contains(skip, o.Resource) {
			return true
		}
		r := Ref{Group: o.APIGroup, Resource: o.Resource, Namespace: o.Namespace, Name: o.Name}
		if count[r]++; count[r] > count[best] {
			best = r
		}
		return true
	})
	return best
}

// aboutRef is a named object with about n requests among the first
// events: an ordinary object (its history over the whole store has ~5×n).
func aboutRef(st *store.Store, n int) Ref {
	count := map[Ref]int{}
	set := st.Requests()
	set.RemoveRange(200_000, uint64(st.Len()))
	st.Each(set, func(e *store.Entry) bool {
		if o := e.Object; o.Name != "" && o.Resource != "" {
			count[Ref{Group: o.APIGroup, Resource: o.Resource, Namespace: o.Namespace, Name: o.Name}]++
		}
		return true
	})
	var best Ref
	for r, c := range count {
		if d, bd := abs(c-n), abs(count[best]-n); d < bd || (d == bd && r.String() < best.String()) {
			best = r
		}
	}
	return best
}

func abs(x int) int { return max(x, -x) }

// BenchmarkHistory is one object's history (Load and Rebuild) over a
// million events: the target is 100 ms.
func BenchmarkHistory(b *testing.B) {
	st := benchStore(b)
	busiest := busiestRef(st)
	typical := busiestRef(st, "leases", "nodes", "endpointslices", "events", "endpoints")
	deployment := busiestRef(st, "leases", "nodes", "endpointslices", "events", "endpoints", "services", "pods", "configmaps", "replicasets", "secrets", "serviceaccounts")
	for _, ref := range []Ref{busiest, typical, deployment, aboutRef(st, 50)} {
		b.Run(ref.Resource+"-"+ref.Name, func(b *testing.B) { benchHistory(b, st, ref) })
	}
}

// benchHistory reports wall time and CPU time (user and system, all
// threads) per history: on a shared machine the CPU time is the steadier.
func benchHistory(b *testing.B, st *store.Store, ref Ref) {
	var n int
	runtime.GC() // the store's garbage is not this history's
	cpu0 := testcpu.Time()
	for b.Loop() {
		reqs, err := Load(st, ref)
		if err != nil {
			b.Fatal(err)
		}
		n = len(Rebuild(ref, reqs))
	}
	b.Logf("%d events; object %s", st.Len(), ref)
	b.ReportMetric(float64(n), "requests")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/history")
	b.ReportMetric(float64(testcpu.Time()-cpu0)/1e6/float64(b.N), "cpu-ms/history")
}
