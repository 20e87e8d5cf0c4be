package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// TestReplaySkimStubs: lines Skim stubs are handed on as events with no
// Raw and their time, in their place; the others are decoded, and bad
// lines are reported as ever.
func TestReplaySkimStubs(t *testing.T) {
	ev := func(id, ts string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"` + id + `","stage":"ResponseComplete","verb":"get","stageTimestamp":"` + ts + `"}`
	}
	lines := []string{
		ev("a", "2024-01-02T03:04:01Z"),
		ev("keep", "2024-01-02T03:04:02Z"),
		"{not json",
		ev("c", "2024-01-02T03:04:03Z"),
	}
	path := writeFile(t, t.TempDir(), "audit.log", strings.Join(lines, "\n")+"\n")
	var problems []Problem
	r := &Replay{Paths: []string{path}, OnProblem: func(p Problem) { problems = append(problems, p) },
		Skim: func(doc []byte) (time.Time, bool) {
			if strings.Contains(string(doc), "keep") {
				return time.Time{}, false
			}
			return audit.Skim(doc)
		}}
	var got []audit.Event
	sum, err := r.Run(context.Background(), func(b Batch) error {
		got = append(got, b.Events...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || sum.Events != 3 {
		t.Fatalf("%d events handed on, %d counted; want 3", len(got), sum.Events)
	}
	for i, want := range []struct {
		id  string
		sec int
	}{{"", 1}, {"keep", 2}, {"", 3}} {
		e := got[i]
		if e.AuditID != want.id || (e.Raw == nil) != (want.id == "") || e.StageTime.Second() != want.sec {
			t.Errorf("event %d: %q, Raw %q, time %v; want %q at second %d", i, e.AuditID, e.Raw, e.StageTime, want.id, want.sec)
		}
	}
	if len(problems) != 1 || problems[0].Line != 3 || problems[0].Kind != Malformed {
		t.Errorf("problems %+v; want line 3 malformed", problems)
	}
}
