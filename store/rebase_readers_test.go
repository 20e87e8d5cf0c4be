package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/history"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/query"
	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// readerLines are audit lines with bodies: updates of a few config maps
// (history), by a few users, some refused (views, filters), with a second
// stage for every third request (pairing across rebases).
func readerLines(n int) []string {
	var out []string
	for i := range n {
		out = append(out, readerLine(i, "ResponseComplete"))
		if i%3 == 0 && i >= 20 { // a late first stage of an earlier request
			out = append(out, readerLine(i-20, "RequestReceived"))
		}
	}
	return out
}

// readerLine is request i's event at stage.
func readerLine(i int, stage string) string {
	ns, name := fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("cm-%d", i%5)
	code := 200
	if i%11 == 0 {
		code = 403
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"00000000-0000-4000-8000-%012d",`+
		`"stage":%q,"requestURI":"/api/v1/namespaces/%s/configmaps/%s","verb":"update","user":{"username":"u%d","groups":["g%d"]},`+
		`"userAgent":"ua/%d","sourceIPs":["10.0.0.%d"],"objectRef":{"resource":"configmaps","namespace":%q,"name":%q,"apiVersion":"v1"},`+
		`"responseStatus":{"metadata":{},"code":%d},"requestObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":%q,"namespace":%q},"data":{"n":"%d"}},`+
		`"responseObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":%q,"namespace":%q,"resourceVersion":"%d"},"data":{"n":"%d"}},`+
		`"requestReceivedTimestamp":"2026-03-02T10:%02d:%02d.000000Z","stageTimestamp":"2026-03-02T10:%02d:%02d.000000Z"}`,
		i, stage, ns, name, i%4, i%2, i%6, i%9, ns, name, code, name, ns, i, name, ns, i+1, i,
		i/60%60, i%60, (i+1)/60%60, (i+1)%60)
}

// load appends lines to st through a replay, retaining keep events after
// each batch (0: none).
func load(t *testing.T, st *store.Store, lines []string, keep int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &ingest.Replay{Paths: []string{path}}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		for i := 0; i < len(b.Events); i += 50 { // small batches: many retains
			j := min(i+50, len(b.Events))
			st.Append(b.Events[i:j], b.Raw, b.Offsets[i:j])
			if keep > 0 {
				st.Retain(keep, 0)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// readerAnswers is what filters, views and history say of a store, in
// terms that do not name IDs.
func readerAnswers(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	var b bytes.Buffer
	if err := views.WriteRaw(&b, st, st.All(), false); err != nil {
		t.Fatal(err)
	}
	out["raw"] = b.String()
	for _, q := range []string{`.verb == "update"`, `.responseStatus.code == 403`, `.user.username == "u1" and .objectRef.namespace == "ns-2"`, `.requestObject.data.n | tonumber % 7 == 0`} {
		f, err := query.Compile(q)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := f.Eval(ctx, st, st.Requests())
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if err := views.WriteRaw(&b, st, kept, false); err != nil {
			t.Fatal(err)
		}
		out["filter "+q] = b.String()
	}
	for _, v := range views.Views {
		tab, err := views.Build(st, st.Requests(), v, 0)
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if err := views.WriteText(&b, tab); err != nil {
			t.Fatal(err)
		}
		out["view "+string(v)] = b.String()
	}
	for i := range 5 {
		ref, err := history.ParseRef(fmt.Sprintf("configmaps/ns-%d/cm-%d", i%3, i))
		if err != nil {
			t.Fatal(err)
		}
		reqs, err := history.Load(st, ref)
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if err := history.WriteTable(&b, ref, history.Rebuild(ref, reqs), history.Options{}); err != nil {
			t.Fatal(err)
		}
		out["history "+ref.Name] = b.String()
	}
	return out
}

// TestRebasedStoreReaders: a store appended several times past its
// (lowered) ID space under retention gives the same filter results, views,
// raw events and object histories as the same store given the same events
// and retention with the full ID space, which never rebases. (Not as a
// fresh store of the kept events: with these late first stages,
// retention's request counts differ from a fresh store's, rebased or not.)
func TestRebasedStoreReaders(t *testing.T) {
	lines := readerLines(3000)
	st := store.New(store.ChunkEvents(64), store.IDSpace(1024))
	load(t, st, lines, 300)
	if rs := st.RebaseStats(); rs.Rebases < 3 || rs.Refused != 0 {
		t.Fatalf("%+v: want >= 3 rebases, nothing refused", rs)
	}
	ref := store.New(store.ChunkEvents(64))
	load(t, ref, lines, 300)
	if ref.RebaseStats().Rebases != 0 || ref.Kept() != st.Kept() {
		t.Fatalf("the reference store rebased, or keeps %d events, not %d", ref.Kept(), st.Kept())
	}
	got, want := readerAnswers(t, st), readerAnswers(t, ref)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s differs:\nrebased:\n%.600s\nnever rebased:\n%.600s", k, got[k], w)
		}
		if w == "" && k != "filter .responseStatus.code == 403" {
			t.Errorf("%s: empty", k)
		}
	}
}
