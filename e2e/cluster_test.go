package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// follower is a kaudit process over a live audit directory that the test
// kills with SIGKILL and restarts; each run writes its own output file.
type follower struct {
	t      *testing.T
	name   string
	args   []string
	outDir string
	outs   []string
	cmd    *exec.Cmd
}

func newFollower(t *testing.T, name string, args ...string) *follower {
	f := &follower{t: t, name: name, args: args, outDir: t.TempDir()}
	f.start()
	t.Cleanup(func() {
		if f.cmd != nil {
			f.cmd.Process.Kill()
			f.cmd.Wait()
		}
	})
	return f
}

func (f *follower) start() {
	f.t.Helper()
	out, err := os.Create(filepath.Join(f.outDir, fmt.Sprintf("%s-%d.jsonl", f.name, len(f.outs))))
	if err != nil {
		f.t.Fatal(err)
	}
	defer out.Close()
	f.outs = append(f.outs, out.Name())
	f.cmd = exec.Command(kauditBin(f.t), f.args...)
	f.cmd.Stdout, f.cmd.Stderr = out, os.Stderr
	if err := f.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
}

// kill9 kills the process with SIGKILL and starts it again after down.
func (f *follower) kill9(down time.Duration) {
	f.cmd.Process.Kill()
	f.cmd.Wait()
	time.Sleep(down)
	f.start()
}

// stop ends the process with SIGTERM: it must exit 0.
func (f *follower) stop() {
	f.t.Helper()
	f.cmd.Process.Signal(syscall.SIGTERM)
	err := f.cmd.Wait()
	f.cmd = nil
	if err != nil {
		f.t.Fatalf("%s after SIGTERM: %v", f.name, err)
	}
}

// lines is the number of lines printed over all runs.
func (f *follower) lines() int {
	n := 0
	for _, o := range f.outs {
		n += countLines(f.t, o)
	}
	return n
}

// TestE2ERealAPIServer records one workload (scripts/realcluster/workload.sh,
// 2 iterations: kubectl and curl as admin, alice, bob, carol, ci-bot and
// anonymous, allowed and denied) on two real etcd + kube-apiserver pairs at
// once, and checks kaudit against what they wrote:
//
//   - A, under the allstages policy, rotates its log at 1 MB with gzip (no
//     backup pruned: the checks compare with every file it wrote) and
//     also sends every event to kaudit serve over its webhook backend (TLS,
//     a client certificate made here). kaudit watch -o jsonl and kaudit
//     watch --forward to a real OpenTelemetry Collector follow A's
//     directory and are each killed with SIGKILL once during the workload.
//   - B, under the fixed Datadog policy, records the same workload for the
//     policy simulation and stays up afterwards for the RBAC round trip.
//
// Subtests: RBAC (while B is up), then, after both servers flushed their
// logs by stopping, Watch, Forward, Webhook and PolicySimulate.
func TestE2ERealAPIServer(t *testing.T) {
	bin := kauditBin(t)
	rc := realcluster(t)
	fixed := filepath.Join(rc, "policy-datadog-fixed.yaml")
	pki := newTestPKI(t, "kube-apiserver")
	hookState, hookOut := t.TempDir(), filepath.Join(t.TempDir(), "webhook.jsonl")
	srv := startServeProc(t, bin, hookOut, "--listen", "127.0.0.1:0", "--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey,
		"--client-ca", pki.CAFile, "--client-name", "kube-apiserver", "--spool", t.TempDir(), "--state-dir", hookState, "-o", "jsonl")
	a := newAPIServer(t, rc, append(portsEnv(t),
		"AUDIT_LOG_MAXSIZE=1", "AUDIT_LOG_MAXBACKUP=100", "AUDIT_LOG_COMPRESS=1", "AUDIT_POLICY=allstages",
		"AUDIT_WEBHOOK_URL="+srv.url, "AUDIT_WEBHOOK_BATCH_MAX_WAIT=1s",
		"AUDIT_WEBHOOK_CA="+pki.CAFile, "AUDIT_WEBHOOK_CLIENT_CERT="+pki.ClientCert, "AUDIT_WEBHOOK_CLIENT_KEY="+pki.ClientKey)...)
	b := newAPIServer(t, rc, append(portsEnv(t),
		"AUDIT_LOG_MAXSIZE=1", "AUDIT_LOG_MAXBACKUP=100", "AUDIT_LOG_COMPRESS=0", "AUDIT_POLICY="+fixed)...)
	startAPIServers(t, a, b)

	col := newCollector(t, freePort(t))
	const cluster = "real"
	watch := newFollower(t, "watch", "watch", "-o", "jsonl", "--history", "all", "--state-dir", t.TempDir(), a.dir)
	fwd := newFollower(t, "forward", "watch", "-o", "jsonl", "--history", "all", "--state-dir", t.TempDir(),
		"--forward", col.url(), "--cluster-name", cluster, a.dir)

	began := time.Now()
	works := []*exec.Cmd{a.script("workload.sh", a.dir, "2"), b.script("workload.sh", b.dir, "2")}
	for _, w := range works {
		out := &strings.Builder{}
		w.Stdout, w.Stderr = out, out
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(15 * time.Second)
	watch.kill9(2 * time.Second)
	time.Sleep(10 * time.Second)
	fwd.kill9(2 * time.Second)
	for i, w := range works {
		if err := w.Wait(); err != nil {
			t.Logf("workload.sh on %c: %v (its commands' outcomes are in workload.log)", 'A'+i, err)
		}
		t.Logf("workload.sh on %c: %s", 'A'+i, lastLine([]byte(w.Stdout.(*strings.Builder).String())))
	}
	ended := time.Now()
	t.Logf("workloads done in %v", ended.Sub(began).Round(time.Second))
	// Every event before hookCut reaches the webhook within the batch wait
	// (1 s) plus a retry; at shutdown the API server may drop its last batch.
	time.Sleep(2 * time.Second)
	hookCut := time.Now()
	time.Sleep(4 * time.Second)
	a.run(t, "down.sh", a.dir) // the API server flushes its audit buffer

	t.Run("RBAC", func(t *testing.T) { checkRBAC(t, bin, b) })
	b.run(t, "down.sh", b.dir)

	aFiles := a.writtenFiles()
	t.Run("Watch", func(t *testing.T) { checkWatch(t, watch, aFiles) })
	t.Run("Forward", func(t *testing.T) { checkForward(t, fwd, col, cluster, aFiles) })
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Run("Webhook", func(t *testing.T) { checkWebhook(t, bin, hookOut, hookState, aFiles, hookCut) })
	t.Run("PolicySimulate", func(t *testing.T) { checkPolicySimulate(t, bin, fixed, aFiles, b.writtenFiles(), ended) })
}

// checkWatch: the set of (auditID, stage, stageTimestamp) kaudit watch
// printed over its runs equals the union of every file the server wrote,
// plain and gzipped.
func checkWatch(t *testing.T, watch *follower, files []string) {
	want := map[eventKey]bool{}
	for _, p := range files {
		for _, k := range readKeys(t, p) {
			want[k] = true
		}
	}
	waitUntil(t, "watch to print every event", func() bool { return watch.lines() >= len(want) })
	time.Sleep(time.Second) // nothing more may come
	watch.stop()
	got := map[eventKey]int{}
	lines := 0
	for _, p := range watch.outs {
		for _, k := range readPrintedKeys(t, p) {
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

// checkForward: the collector has every event of every file the server
// wrote, byte-identical, each at least once, although kaudit watch
// --forward was killed with SIGKILL once.
func checkForward(t *testing.T, fwd *follower, col *collector, cluster string, files []string) {
	w := &written{line: map[string]string{}}
	for _, p := range files {
		eachLine(t, p, func(line []byte) { w.add(cluster, line) })
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(distinct(col.collected())) < len(w.line) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	fwd.stop()
	col.stop()
	got := col.collected()
	dups := w.check(t, got)
	t.Logf("the API server wrote %d events in %d files; the collector received %d records, %d distinct, %d repeated after the kill -9",
		len(w.line), len(files), len(got), len(distinct(got)), dups)
}
