package detect

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/store"
)

// storeOf reads lines (JSON audit events) into a new store the way replay
// does: through a file and ingest.Replay.
func storeOf(t testing.TB, lines []string) *store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return storeOfFiles(t, path)
}

func storeOfFiles(t testing.TB, paths ...string) *store.Store {
	t.Helper()
	st := store.New()
	r := &ingest.Replay{Paths: paths, OnProblem: func(p ingest.Problem) { t.Logf("input problem: %v", p) }}
	if _, err := r.Run(context.Background(), func(b ingest.Batch) error {
		st.Append(b.Events, b.Raw, b.Offsets)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// fileLines returns a testdata file's lines, 1-based (index 0 unused).
func fileLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := []string{""}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// labelCase is one row of testdata/labels.tsv.
type labelCase struct {
	file       string
	from, to   int // lines, inclusive
	rule, note string
	hits       int
}

func readLabels(t testing.TB) []labelCase {
	t.Helper()
	data, err := os.ReadFile("testdata/labels.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var out []labelCase
	for n, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 5 {
			t.Fatalf("labels.tsv:%d: %d fields, want 5", n+1, len(f))
		}
		c := labelCase{file: f[0], rule: f[2], note: f[4]}
		from, to, _ := strings.Cut(f[1], "-")
		var err1, err2, err3 error
		c.from, err1 = strconv.Atoi(from)
		c.to = c.from
		if to != "" {
			c.to, err2 = strconv.Atoi(to)
		}
		c.hits, err3 = strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("labels.tsv:%d: bad numbers in %q", n+1, l)
		}
		out = append(out, c)
	}
	return out
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
