package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ev is a small, valid audit event line (without newline) with auditID id.
func ev(id string) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
		`","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list",` +
		`"user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["10.0.0.7"],` +
		`"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},` +
		`"requestReceivedTimestamp":"2026-11-25T17:53:17.123456Z","stageTimestamp":"2026-11-25T17:53:17.223456Z"}`
}

// evList is an EventList line holding one item per id.
func evList(ids ...string) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = `{"level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","verb":"get","user":{"username":"bob"}}`
	}
	return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.Join(items, ",") + `]}`
}

// lines joins ls with a newline after each.
func lines(ls ...string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t testing.TB, content string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// result is everything one Run produced.
type result struct {
	batches  []Batch
	problems []Problem
	sum      Summary
	err      error
}

func (r result) ids() []string {
	var ids []string
	for _, b := range r.batches {
		for _, e := range b.Events {
			ids = append(ids, e.AuditID)
		}
	}
	return ids
}

// probs renders problems as "base:line kind" for compact comparisons.
func (r result) probs() []string {
	var ps []string
	for _, p := range r.problems {
		ps = append(ps, fmt.Sprintf("%s:%d %s", filepath.Base(p.Path), p.Line, p.Kind))
	}
	return ps
}

func run(t testing.TB, r *Replay) result {
	t.Helper()
	var res result
	r.OnProblem = func(p Problem) { res.problems = append(res.problems, p) }
	res.sum, res.err = r.Run(context.Background(), func(b Batch) error {
		if len(b.Events) == 0 || len(b.Events) > MaxBatch || len(b.Offsets) != len(b.Events) {
			t.Errorf("bad batch: %d events, %d offsets", len(b.Events), len(b.Offsets))
		}
		res.batches = append(res.batches, b)
		return nil
	})
	checkRaw(t, res.batches)
	return res
}

// checkRaw asserts that reading Raw at Offsets[i] gives Events[i].Raw back.
func checkRaw(t testing.TB, batches []Batch) {
	t.Helper()
	for _, b := range batches {
		for i, e := range b.Events {
			got := make([]byte, len(e.Raw))
			if _, err := b.Raw.ReadAt(got, b.Offsets[i]); err != nil {
				t.Fatalf("%s: ReadAt(%d) of event %q: %v", b.Pos.Path, b.Offsets[i], e.AuditID, err)
			}
			if !bytes.Equal(got, e.Raw) {
				t.Fatalf("%s: ReadAt(%d) of event %q:\n got %.80q\nwant %.80q", b.Pos.Path, b.Offsets[i], e.AuditID, got, e.Raw)
			}
		}
	}
}

func eq[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func seq(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return s
}
