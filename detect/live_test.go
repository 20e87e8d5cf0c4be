package detect

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// TestLive feeds a store in batches: an exec's ResponseStarted is a hit at
// once and its ResponseComplete is not a second one; a RequestReceived
// event waits for its response (a 403 then is no hit); a threshold counts
// across batches.
func TestLive(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	one, _ := set.Select([]string{"pod-exec", "secret-read", "auth-failures"})
	eng, err := NewEngine(one, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := store.New()
	live := eng.Live(st)
	ev := func(id, stage, verb, res, sub string, code int, at string) string {
		s := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"` + stage +
			`","requestURI":"/x","verb":"` + verb + `","user":{"username":"eve"},"sourceIPs":["203.0.113.5"],` +
			`"objectRef":{"resource":"` + res + `","namespace":"prod","name":"n-` + id[len(id)-4:] + `"`
		if sub != "" {
			s += `,"subresource":"` + sub + `"`
		}
		s += `}`
		if code != 0 {
			s += `,"responseStatus":{"metadata":{},"code":` + itoa(code) + `}`
		}
		return s + `,"requestReceivedTimestamp":"2026-03-02T10:00:` + at + `.000000Z","stageTimestamp":"2026-03-02T10:00:` + at + `.000000Z"}`
	}
	feed := func(lines ...string) []Hit {
		t.Helper()
		appendLines(t, st, lines)
		hits, err := live.Eval(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		return hits
	}
	const exec, secret = "00000000-0000-0000-0000-00000000e000", "00000000-0000-0000-0000-00000000f000"
	if h := feed(ev(exec, "ResponseStarted", "create", "pods", "exec", 101, "01")); len(h) != 1 || h[0].Rule.Name != "pod-exec" {
		t.Fatalf("exec started: %v", names(h))
	}
	if h := feed(ev(exec, "ResponseComplete", "create", "pods", "exec", 101, "30")); len(h) != 0 {
		t.Fatalf("exec complete reported again: %v", names(h))
	}
	if h := feed(ev(secret, "RequestReceived", "get", "secrets", "", 0, "31")); len(h) != 0 {
		t.Fatalf("RequestReceived evaluated: %v", names(h))
	}
	if h := feed(ev(secret, "ResponseComplete", "get", "secrets", "", 403, "31")); len(h) != 0 {
		t.Fatalf("a refused secret read is a hit: %v", names(h))
	}
	var fired int
	for i := range 20 {
		id := "00000000-0000-0000-0000-00000000" + itoa(1000+i)
		for _, h := range feed(ev(id, "ResponseComplete", "list", "pods", "", 403, itoa(40+i%10))) {
			if h.Rule.Name == "auth-failures" {
				fired++
			}
		}
	}
	if fired != 1 {
		t.Errorf("auth-failures fired %d times over 20 refusals fed one by one, want 1 (with the earlier 403: at the 20th)", fired)
	}
}

func names(hs []Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Rule.Name)
	}
	return out
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return string(digits[n])
	}
	return itoa(n/10) + string(digits[n%10])
}

// appendLines appends events to st the way a live source would, one file
// per batch.
func appendLines(t *testing.T, st *store.Store, lines []string) {
	t.Helper()
	path := t.TempDir() + "/batch.log"
	writeFile(t, path, strings.Join(lines, "\n")+"\n")
	r := &ingest.Replay{Paths: []string{path}}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLiveAcrossRebase: after the store rebased its IDs (retention under a
// lowered ID space), Live goes on evaluating the new events: none is
// skipped, none evaluated twice.
func TestLiveAcrossRebase(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	one, _ := set.Select([]string{"pod-exec"})
	eng, err := NewEngine(one, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(store.ChunkEvents(64), store.IDSpace(512))
	live := eng.Live(st)
	hits := 0
	const execs = 600
	for i := range execs {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
			`","stage":"ResponseStarted","requestURI":"/x","verb":"create","user":{"username":"eve"},` +
			`"objectRef":{"resource":"pods","namespace":"prod","name":"p","subresource":"exec"},` +
			`"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-03-02T10:00:00.000000Z",` +
			`"stageTimestamp":"2026-03-02T10:00:01.000000Z"}`
		appendLines(t, st, []string{line})
		st.Retain(128, 0)
		h, err := live.Eval(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		hits += len(h)
	}
	if st.IDBase() == 0 {
		t.Fatal("no rebase")
	}
	if hits != execs {
		t.Fatalf("%d hits for %d execs across %d rebases", hits, execs, st.RebaseStats().Rebases)
	}
}
