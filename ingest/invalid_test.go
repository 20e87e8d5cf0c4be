package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Events with a bad time, no auditID or stage, or a bad code are kept and
// reported with file and line.
func TestInvalidFieldsReported(t *testing.T) {
	lines := []string{
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","responseStatus":{"code":200},"stageTimestamp":"2026-01-15T09:00:00Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"b","stage":"ResponseComplete","stageTimestamp":"9999-12-31T00:00:00Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","responseStatus":{"code":-403},"stageTimestamp":"2026-01-15T09:00:00Z"}`,
	}
	p := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var problems []Problem
	n := 0
	r := &Replay{Paths: []string{p}, OnProblem: func(pr Problem) { problems = append(problems, pr) }}
	_, err := r.Run(context.Background(), func(b Batch) error { n += len(b.Events); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d events kept, want 3", n)
	}
	if len(problems) != 2 || problems[0].Line != 2 || problems[1].Line != 3 || problems[0].Kind != Invalid {
		t.Fatalf("problems %+v", problems)
	}
	if !strings.Contains(problems[1].String(), "audit.log:3: no auditID; no known stage; responseStatus.code -403") {
		t.Errorf("message %q", problems[1].String())
	}
}
