package webhook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// ev is a small, valid audit event line (without newline) with auditID id.
func ev(id string) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
		`","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list",` +
		`"user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["10.0.0.7"],` +
		`"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},` +
		`"requestReceivedTimestamp":"2026-11-25T17:53:17.123456Z","stageTimestamp":"2026-11-25T17:53:17.223456Z"}`
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// spoolEvents decodes one event per id, as the webhook hands them to Append.
func spoolEvents(t *testing.T, ids ...string) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, id := range ids {
		evs, err := audit.Decode([]byte(ev(id)), nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
	}
	return out
}

// spoolIDs replays the spool file and returns the auditIDs it holds, and
// the problems met.
func spoolIDs(t *testing.T, path string) (ids []string, problems []ingest.Problem) {
	t.Helper()
	r := &ingest.Replay{Paths: []string{path}, OnProblem: func(p ingest.Problem) { problems = append(problems, p) }}
	_, err := r.Run(context.Background(), func(b ingest.Batch) error {
		for _, e := range b.Events {
			ids = append(ids, e.AuditID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, problems
}

// TestSpoolTornTail: a partial write at the end of the spool (kill -9 in
// the middle of an append, or a short write on a full disk) is trimmed back
// to the last complete line, when the spool is opened and when the write
// fails, so the next acknowledged batch is not glued onto the fragment.
func TestSpoolTornTail(t *testing.T) {
	t.Run("on open", func(t *testing.T) {
		dir := t.TempDir()
		frag := ev("torn")[:100]
		writeFile(t, dir, SpoolName, lines(ev("a1"))+frag)
		sp, err := OpenSpoolFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		if sp.Trimmed() != int64(len(frag)) {
			t.Errorf("Trimmed = %d, want %d", sp.Trimmed(), len(frag))
		}
		if err := sp.Append(spoolEvents(t, "b1", "b2")); err != nil {
			t.Fatal(err)
		}
		ids, problems := spoolIDs(t, sp.Path())
		if strings.Join(ids, ",") != "a1,b1,b2" || len(problems) != 0 {
			t.Errorf("spool holds %v, problems %v; want a1,b1,b2 and none", ids, problems)
		}
	})
	t.Run("on a short write", func(t *testing.T) {
		dir := t.TempDir()
		sp, err := OpenSpoolFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		if err := sp.Append(spoolEvents(t, "a1")); err != nil {
			t.Fatal(err)
		}
		sp.write = func(p []byte) (int, error) { // the disk fills up half way
			n, _ := sp.f.Write(p[:len(p)/2])
			return n, syscall.ENOSPC
		}
		if err := sp.Append(spoolEvents(t, "lost1", "lost2")); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Append on a full disk: %v, want ENOSPC", err)
		}
		sp.write = sp.f.Write // space again
		if err := sp.Append(spoolEvents(t, "b1")); err != nil {
			t.Fatal(err)
		}
		ids, problems := spoolIDs(t, sp.Path())
		if strings.Join(ids, ",") != "a1,b1" || len(problems) != 0 {
			t.Errorf("spool holds %v, problems %v; want a1,b1 (lost1,2 were answered 503) and none", ids, problems)
		}
	})
	t.Run("only a fragment", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, SpoolName, "{\"kind\":")
		sp, err := OpenSpoolFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		if fi, err := os.Stat(filepath.Join(dir, SpoolName)); err != nil || fi.Size() != 0 {
			t.Errorf("spool after open: %v, %v; want empty", fi, err)
		}
	})
}
