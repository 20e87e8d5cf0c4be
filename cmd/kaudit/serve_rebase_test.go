package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
)

// TestServeAcrossRebase: serve's queries without the terminal UI (the
// table or JSON printed when it stops, the jsonl printed per batch, the
// hits of --detect-only) answer the same whether the store rebased its
// IDs many times while the events arrived (store/rebase.go: its ID space
// lowered to 1,024) or never. They all run in the writer or after it
// stopped, so none runs beside a rebase; the terminal UI's queries (P, r,
// H, the Denials findings) run beside it and are held in one ID base by
// package tui.
func TestServeAcrossRebase(t *testing.T) {
	g := gen.New(gen.Config{Seed: 4})
	var lines []string
	for range 3000 {
		lines = append(lines, string(bytes.TrimRight(g.Next(nil), "\n")))
	}
	serveWith := func(space uint32, args ...string) (string, store.RebaseStats) {
		var st *store.Store
		newServeStore = func() *store.Store {
			st = store.New(store.ChunkEvents(64), store.IDSpace(space))
			return st
		}
		defer func() { newServeStore = nil }()
		s := startServe(t, append([]string{"--no-state", "--max-events", "700"}, args...)...)
		for i := 0; i < len(lines); i += 50 {
			if code := postTo(t, http.DefaultClient, s.url, eventListOf(lines[i:i+50]...)); code != 200 {
				t.Fatalf("status %d", code)
			}
		}
		if code := s.stop(t); code != exitOK {
			t.Fatalf("exit %d: %s", code, s.errOut.String())
		}
		return s.out.String(), st.RebaseStats()
	}
	for _, args := range [][]string{
		{"-o", "table", "--view", "users"},
		{"-o", "json", "--view", "latency"},
		{"-o", "table", "-f", "verb:get,list ns:kube-system"},
		{"-o", "jsonl", "-f", "verb:create"},
		{"-o", "jsonl", "--detect-only"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want, none := serveWith(store.DefaultIDSpace, args...)
			got, rebased := serveWith(1024, args...)
			if none.Rebases != 0 || rebased.Rebases < 5 || rebased.Refused != 0 {
				t.Fatalf("rebases: %+v without, %+v with a small ID space", none, rebased)
			}
			if strings.Count(want, "\n") < 3 {
				t.Fatalf("the output shows little:\n%s", want)
			}
			if got != want {
				t.Errorf("across %d rebases serve printed:\n%.600s\nwithout:\n%.600s", rebased.Rebases, got, want)
			}
		})
	}
}
