package query_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/history"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
)

// churnLog is n audit events of a cluster whose names, users and user
// agents keep changing, decoded, with the bytes they were decoded from.
func churnLog(t *testing.T, n int) ([]audit.Event, []int64, *bytes.Reader) {
	t.Helper()
	var buf []byte
	var evs []audit.Event
	var offs []int64
	for i := range n {
		ns := fmt.Sprintf("ns-%d", i/10)
		verb, code := []string{"get", "update", "delete", "list"}[i%4], []int{200, 200, 403, 404}[i%4]
		line := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"%08x-0000-4000-8000-%012x","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/%s/pods/web-%d","verb":%q,"user":{"username":"system:serviceaccount:%s:ci","groups":["system:serviceaccounts:%s"]},"sourceIPs":["10.0.%d.%d"],"userAgent":"builder/%d","objectRef":{"resource":"pods","namespace":%q,"name":"web-%d","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":%d},"requestObject":{"kind":"Pod","metadata":{"name":"web-%d","namespace":%q,"labels":{"gen":"%d"}}},"requestReceivedTimestamp":"2026-01-15T09:00:00.%06dZ","stageTimestamp":"2026-01-15T09:00:01.%06dZ"}`,
			i>>16, i, ns, i/2, verb, ns, ns, i/250%250, i%250, i/3, ns, i/2, code, i/2, ns, i, i%1000000, i%1000000)
		start := len(buf)
		buf = append(buf, line...)
		buf = append(buf, '\n')
		k := len(evs)
		var err error
		if evs, err = audit.Decode(buf[start:len(buf)-1], evs); err != nil {
			t.Fatal(err)
		}
		for range evs[k:] {
			offs = append(offs, int64(start))
		}
	}
	return evs, offs, bytes.NewReader(buf)
}

// TestFiltersAndHistoryAcrossCompaction: a store that retention
// compacted (its strings renumbered, those of dropped events gone)
// answers filters and object histories as a fresh store of the events it
// kept does.
func TestFiltersAndHistoryAcrossCompaction(t *testing.T) {
	const n, batch = 8000, 250
	evs, offs, raw := churnLog(t, n)
	st := store.New(store.ChunkEvents(256))
	for i := 0; i < n; i += batch {
		st.Append(evs[i:i+batch], raw, offs[i:i+batch])
		st.Retain(1024, 0)
	}
	if st.KeyGen() == 0 {
		t.Fatal("the store never compacted: the test checks nothing")
	}
	first := int(st.First())
	fresh := store.New(store.ChunkEvents(256))
	fresh.Append(evs[first:], raw, offs[first:])

	ctx := context.Background()
	for _, text := range []string{
		"name:web-37*",
		"name:web-3777 verb:delete",
		"user:system:serviceaccount:ns-7*",
		"ua:builder/24*,builder/25*",
		"group:system:serviceaccounts:ns-75*",
		"-ns:ns-76* code:403",
		`.objectRef.name == "web-3999"`,
		`.objectRef.name | startswith("web-39")`,
		`.user.username == "system:serviceaccount:ns-770:ci" or .userAgent == "builder/2400"`,
		`.requestObject.metadata.labels.gen == "7777"`,
		"web-3842",
	} {
		f, err := query.Compile(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		got, err := f.Eval(ctx, st, st.All())
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.Eval(ctx, fresh, fresh.All())
		if err != nil {
			t.Fatal(err)
		}
		if got.GetCardinality() != want.GetCardinality() || got.GetCardinality() == 0 || got.Minimum() != want.Minimum()+store.ID(first) {
			t.Errorf("%s: %d events after compaction, %d in a fresh store", text, got.GetCardinality(), want.GetCardinality())
		}
	}

	for _, i := range []int{n - 1, n - 200, n - 700} {
		ref := history.Ref{Resource: "pods", Namespace: fmt.Sprintf("ns-%d", i/10), Name: fmt.Sprintf("web-%d", i/2)}
		got, err := history.Load(st, ref)
		if err != nil {
			t.Fatal(err)
		}
		want, err := history.Load(fresh, ref)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if len(want) == 0 || !bytes.Equal(g, w) {
			t.Errorf("history of %v: %d requests after compaction, %d in a fresh store:\n%s\n%s", ref, len(got), len(want), g, w)
		}
	}
}
