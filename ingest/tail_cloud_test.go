package ingest

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTailCloudExport follows files of the line-oriented cloud shapes as
// an audit log is followed: events as lines are appended, positions as
// offsets in the file, a rotation, and the events' bytes readable again.
func TestTailCloudExport(t *testing.T) {
	shapes := []struct {
		name string
		line func(id string) string
	}{
		{"aws logs tail", func(id string) string {
			return "2026-01-01T00:00:00.000000+00:00 kube-apiserver-audit-1 " + ev(id)
		}},
		{"cloudwatch subscription payloads", func(id string) string { return cwPayload(ev(id)) }},
		{"lambda payloads", func(id string) string {
			return `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString([]byte(gzipped(t, cwPayload(ev(id))))) + `"}}`
		}},
		{"aks storage lines", func(id string) string { return aksRecord(ev(id)) }},
		{"gke lines", func(id string) string { return gkeEntry(id, 0) }},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "export.log")
			write := func(ids ...string) {
				f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				for _, id := range ids {
					f.WriteString(sh.line(id) + "\n")
				}
				if sh.name == "aks storage lines" {
					f.WriteString("I0109 12:00:00.000000       1 main.go:42] klog noise\n")
				}
			}
			write("a1", "a2")
			r := startTail(t, &Tail{Path: path})
			r.waitN(2)
			write("a3")
			r.waitN(3)
			waitAcked(t, r, path)
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			write("b1", "b2")
			got := r.waitN(5)
			waitAcked(t, r, path)
			checkExactlyOnce(t, got, []string{"a1", "a2", "a3", "b1", "b2"})
			if r.rawBad > 0 {
				t.Errorf("%d events whose bytes do not read back", r.rawBad)
			}
			for _, p := range r.problemList() {
				if p.Kind != Skipped {
					t.Errorf("problem %s", p)
				}
			}
		})
	}
}

// waitAcked waits until the Tail acknowledged path to its end.
func waitAcked(t *testing.T, r *tailRun, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := r.tail.Acked()
		if a.Offset == fi.Size() && a.Path == path {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("acked %s:%d (line %d), want the end of the file, %d", a.Path, a.Offset, a.Line, fi.Size())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTailCloudArray: an export that is one JSON value over many lines is
// said to be unsupported live, once, instead of a malformed line each.
func TestTailCloudArray(t *testing.T) {
	path := writeFile(t, t.TempDir(), "gcloud.json", "[\n  "+gkeEntry("g1", 0)+",\n  "+gkeEntry("g2", 0)+"\n]\n")
	r := startTail(t, &Tail{Path: path})
	waitAcked(t, r, path)
	probs := r.problemList()
	if len(probs) != 1 || probs[0].Line != 1 || !strings.Contains(probs[0].Msg, "cannot be followed live") {
		t.Errorf("problems %v", probs)
	}
	if got := r.got(); len(got) != 0 {
		t.Errorf("events %v", got)
	}
}

// TestTailCloudCluster: a followed export's events carry the cluster its
// envelopes name, as replay's do.
func TestTailCloudCluster(t *testing.T) {
	path := writeFile(t, t.TempDir(), "aks.json", lines(aksRecord(ev("a1")), aksRecord(ev("a2"))))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clusters := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- (&Tail{Path: path, Poll: 20 * time.Millisecond}).Run(ctx, func(b Batch) error {
			for range b.Events {
				clusters <- b.Cluster
			}
			return nil
		})
	}()
	for range 2 {
		select {
		case c := <-clusters:
			if c != "C1" {
				t.Errorf("cluster %q, want C1", c)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
	}
	cancel()
	<-done
}
