package ingest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestTailTornLineRewritten: a Tail that read a partial last line which is
// then cut off and overwritten (the spool trimming a short write, then the
// next batch) reads the new line whole, not glued onto the old fragment.
func TestTailTornLineRewritten(t *testing.T) {
	dir := t.TempDir()
	first := lines(ev("a1"))
	path := writeFile(t, dir, "webhook.log", first+ev("torn")[:100])
	tl := &Tail{MaxLine: DefaultMaxLine, chunk: defaultChunk}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := tl.follow(f, path, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer fl.release()
	var ids []string
	var problems []Problem
	tl.OnProblem = func(p Problem) { problems = append(problems, p) }
	emit := func(b Batch) error {
		for _, e := range b.Events {
			ids = append(ids, e.AuditID)
		}
		return nil
	}
	if err := fl.pump(context.Background(), false, emit); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(len(first))); err != nil {
		t.Fatal(err)
	}
	af, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	af.WriteString(lines(ev("b1")))
	af.Close()
	if err := fl.pump(context.Background(), false, emit); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "a1,b1" || len(problems) != 0 {
		t.Errorf("tail handed on %v, problems %v; want a1,b1 and none", ids, problems)
	}
}
