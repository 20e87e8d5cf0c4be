package cloud

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func readInput(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// render is the golden form of a Result: each record's line, shape and
// cluster and its event, then each problem.
func render(r *Result) string {
	var b strings.Builder
	for _, rec := range r.Records {
		fmt.Fprintf(&b, "record line %d shape %q cluster %q\n%s\n", rec.Line, rec.Shape, rec.Cluster, rec.Event)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "problem line %d (%s): %s\n", p.Line, p.Kind, p.Msg)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*")
	n := 0
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.IsDir() || strings.HasSuffix(f, ".golden") || strings.HasSuffix(f, ".md") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			res := Decode(readInput(t, f))
			for _, rec := range res.Records {
				evs, err := audit.Decode(rec.Event, nil)
				if err != nil || len(evs) == 0 {
					t.Errorf("line %d: the decoded event does not read back: %v\n%s", rec.Line, err, rec.Event)
				}
				if bytes.IndexByte(rec.Event, '\n') >= 0 {
					t.Errorf("line %d: event spans lines", rec.Line)
				}
			}
			got := render(res)
			golden := f + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("decoded differs from %s (run with -update to accept):\n%s", golden, got)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d fixtures found", n)
	}
}
