package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// addFileLines adds every line of an audit log file (plain or gzip) to w.
func addFileLines(t *testing.T, w *written, cluster, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = bytes.NewReader(data)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		w.add(cluster, sc.Bytes())
	}
}

// TestE2EForwardRealAPIServer: a real kube-apiserver (audit log rotated at
// 1 MB, gzipped) under kubectl traffic as several users; kaudit watch
// --forward to the real collector follows it, is killed with SIGKILL once
// and restarted. The collector ends up with every event of every file the
// server wrote, byte-identical, each at least once.
func TestE2EForwardRealAPIServer(t *testing.T) {
	e2e(t)
	rc := realcluster(t)
	bin := buildKaudit(t)
	col := newCollector(t, 30015)
	api := startAPIServer(t, rc, "APISERVER_PORT=31443", "ETCD_CLIENT_PORT=31379", "ETCD_PEER_PORT=31380",
		"AUDIT_LOG_MAXSIZE=1", "AUDIT_LOG_COMPRESS=1", "AUDIT_POLICY=allstages")
	dir, state := api.dir, t.TempDir()
	const cluster = "real"
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "watch", "-o", "jsonl", "--history", "all", "--state-dir", state,
			"--forward", col.url(), "--cluster-name", cluster, dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	watch := start()
	work := api.script("workload.sh", dir, "2")
	if err := work.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Second)
	watch.Process.Kill()
	watch.Wait()
	time.Sleep(2 * time.Second)
	watch = start()
	if err := work.Wait(); err != nil {
		t.Logf("workload.sh: %v (its commands' outcomes are in workload.log)", err)
	}
	api.run("down.sh", dir) // the API server flushes its audit buffer
	w := &written{line: map[string]string{}}
	files := api.writtenFiles()
	for _, p := range files {
		addFileLines(t, w, cluster, p)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(distinct(col.collected())) < len(w.line) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	watch.Process.Signal(syscall.SIGTERM)
	if err := watch.Wait(); err != nil {
		t.Fatalf("watch: %v", err)
	}
	col.stop()
	got := col.collected()
	dups := w.check(t, got)
	t.Logf("the API server wrote %d events in %d files; the collector received %d records, %d distinct, %d repeated after the kill -9",
		len(w.line), len(files), len(got), len(distinct(got)), dups)
	if len(files) < 3 {
		t.Errorf("only %d audit files: the test wanted rotation", len(files))
	}
}
