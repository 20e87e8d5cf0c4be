package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// keysOfFile reads (auditID, stage, stageTimestamp) of every event in an
// audit log file, plain or gzip.
func keysOfFile(t *testing.T, path string) []eventKey {
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
	var keys []eventKey
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e struct{ AuditID, Stage, StageTimestamp string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		keys = append(keys, eventKey{e.AuditID, e.Stage, e.StageTimestamp})
	}
	return keys
}

// TestE2ERealAPIServer runs a real etcd + kube-apiserver (rotating its audit
// log at 1 MB with gzip) and kubectl traffic as several users, with
// kaudit watch -o jsonl following the live directory; it is killed with
// SIGKILL once in the middle and restarted. At the end the set of
// (auditID, stage, stageTimestamp) printed equals the union of every file
// the server wrote, plain and gzipped. Needs the binaries built by
// realcluster/build.sh (12-20 min the first time; cached afterwards):
//
//	../shared/realcluster/build.sh && KAUDIT_E2E=1 go test ./cmd/kaudit -run E2ERealAPIServer -v -timeout 20m
func TestE2ERealAPIServer(t *testing.T) {
	e2e(t)
	rc := realcluster(t)
	bin := buildKaudit(t)
	api := startAPIServer(t, rc, "APISERVER_PORT=26443", "ETCD_CLIENT_PORT=22379", "ETCD_PEER_PORT=22380", "AUDIT_LOG_MAXSIZE=1", "AUDIT_LOG_COMPRESS=1", "AUDIT_POLICY=allstages")
	dir, state, outDir := api.dir, t.TempDir(), t.TempDir()

	n := 0
	start := func() *exec.Cmd {
		n++
		f, err := os.Create(filepath.Join(outDir, "out"+string(rune('0'+n))+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(bin, "watch", "-o", "jsonl", "--history", "all", "--state-dir", state, dir)
		cmd.Stdout, cmd.Stderr = f, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	watch := start()
	work := api.script("workload.sh", dir, "4")
	if err := work.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(25 * time.Second)
	watch.Process.Kill()
	watch.Wait()
	time.Sleep(2 * time.Second)
	watch = start()
	if err := work.Wait(); err != nil {
		t.Logf("workload.sh: %v (its commands' outcomes are in workload.log)", err)
	}
	api.run("down.sh", dir) // the API server flushes its audit buffer
	time.Sleep(2 * time.Second)
	watch.Process.Signal(syscall.SIGTERM)
	if err := watch.Wait(); err != nil {
		t.Fatalf("watch: %v", err)
	}

	want := map[eventKey]bool{}
	files := api.writtenFiles()
	for _, p := range files {
		for _, k := range keysOfFile(t, p) {
			want[k] = true
		}
	}
	got := map[eventKey]int{}
	lines := 0
	outs, _ := filepath.Glob(filepath.Join(outDir, "*.jsonl"))
	for _, p := range outs {
		for _, k := range readKeys(t, p) {
			got[k]++
			lines++
		}
	}
	missing, extra := 0, 0
	for k := range want {
		if got[k] == 0 {
			missing++
		}
	}
	for k := range got {
		if !want[k] {
			extra++
		}
	}
	t.Logf("server wrote %d events in %d files; watch printed %d lines, %d distinct (%d repeated after the kill -9)", len(want), len(files), lines, len(got), lines-len(got))
	if missing > 0 || extra > 0 {
		t.Fatalf("%d events missing, %d printed that the server did not write", missing, extra)
	}
	if len(files) < 3 {
		t.Errorf("only %d audit files: the test wanted rotation", len(files))
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
