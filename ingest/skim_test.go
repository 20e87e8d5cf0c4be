package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
)

// TestReplaySkimStubs: lines Skim stubs are not handed on as events but
// counted, and in input order (Window < 0) each batch carries them with
// their times, in their place; the others are decoded, and bad lines are
// reported as ever.
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
	for _, window := range []int{-1, 0} {
		var problems []Problem
		r := &Replay{Paths: []string{path}, Window: window, OnProblem: func(p Problem) { problems = append(problems, p) },
			Skim: func(doc []byte) (time.Time, bool) {
				if strings.Contains(string(doc), "keep") {
					return time.Time{}, false
				}
				return audit.Skim(doc)
			}}
		var got []string // "id@second", "stub@second" for a stub
		sum, err := r.Run(context.Background(), func(b Batch) error {
			k := 0
			for i := 0; i <= len(b.Events); i++ {
				for ; k < len(b.Stubs) && int(b.Stubs[k].After) == i; k++ {
					got = append(got, fmt.Sprintf("stub@%d", time.Unix(0, b.Stubs[k].Time).Second()))
				}
				if i < len(b.Events) {
					got = append(got, fmt.Sprintf("%s@%d", b.Events[i].AuditID, b.Events[i].StageTime.Second()))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"stub@1", "keep@2", "stub@3"}
		if window >= 0 {
			want = []string{"keep@2"} // the merge hands on no stub
		}
		if !eq(got, want) || sum.Events != 3 {
			t.Errorf("window %d: handed on %v, %d counted; want %v, 3", window, got, sum.Events, want)
		}
		if len(problems) != 1 || problems[0].Line != 3 || problems[0].Kind != Malformed {
			t.Errorf("window %d: problems %+v; want line 3 malformed", window, problems)
		}
	}
}
