package views

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

// churned makes events from..from+n-1 of a cluster whose users, user
// agents and namespaces keep changing (generated names).
func churned(from, n int) []audit.Event {
	evs := make([]audit.Event, n)
	t0 := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	for k := range evs {
		i := from + k
		ns := fmt.Sprintf("ns-%d", i/7)
		evs[k] = audit.Event{
			AuditID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i>>16, i),
			Stage:   audit.StageResponseComplete, Level: audit.LevelMetadata,
			Verb:      []string{"get", "list", "patch"}[i%3],
			User:      audit.UserInfo{Name: "system:serviceaccount:" + ns + ":ci", Groups: []string{"system:serviceaccounts:" + ns}},
			UserAgent: fmt.Sprintf("ci/%d", i/5),
			Object:    audit.ObjectRef{Resource: "pods", Namespace: ns, Name: fmt.Sprint("pod-", i), APIVersion: "v1"},
			Code:      int32([]int{200, 200, 403, 500}[i%4]),
			Received:  t0.Add(time.Duration(i) * time.Millisecond),
			StageTime: t0.Add(time.Duration(i)*time.Millisecond + time.Duration(i%50)*time.Millisecond),
			Raw:       []byte("{}"),
		}
	}
	return evs
}

// TestAggregateAcrossCompaction: an aggregate kept up to date batch by
// batch (as the UI does) while retention compacts the store's strings
// still counts each request under its own user, user agent and namespace:
// it equals the same aggregate over a store that dropped nothing.
func TestAggregateAcrossCompaction(t *testing.T) {
	const batch, batches = 300, 120
	raw := bytes.NewReader([]byte("{}"))
	st := store.New(store.ChunkEvents(1024))
	all := store.New(store.ChunkEvents(1024))
	vs := []View{ViewUsers, ViewUserAgents, ViewNamespaces, ViewResources}
	aggs := make([]*Aggregate, len(vs))
	for i, v := range vs {
		aggs[i], _ = NewAggregate(v, 0)
	}
	prev := roaring.New()
	for b := range batches {
		evs := churned(b*batch, batch)
		offs := make([]int64, len(evs))
		st.Append(evs, raw, offs)
		all.Append(evs, raw, offs)
		req := st.Requests()
		added := roaring.AndNot(req, prev)
		for _, a := range aggs {
			a.Add(st, added)
		}
		prev.Or(req)
		st.Retain(3*1024, 0)
	}
	if st.KeyGen() == 0 {
		t.Fatal("the store never compacted: the test checks nothing")
	}
	for i, v := range vs {
		got, want := aggs[i].Table(), reference(all, all.Requests(), v, 0)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %d rows across compactions, want %d; first rows\n got %v\nwant %v", v, len(got.Rows), len(want.Rows), got.Rows[:3], want.Rows[:3])
		}
	}
}
