package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upWithWebhookCert copies the realcluster scripts rc into a temporary
// directory and patches up.sh's webhook kubeconfig (which trusts any
// server and sends no credentials) to verify the receiver against
// $AUDIT_WEBHOOK_CA and present $AUDIT_WEBHOOK_CLIENT_CERT/KEY. It returns
// the patched copy's directory.
func upWithWebhookCert(t *testing.T, rc string) string {
	t.Helper()
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(rc, "*"))
	for _, p := range files {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == "up.sh" {
			s := string(data)
			for _, r := range []struct{ old, new string }{
				{"    insecure-skip-tls-verify: $( [[ $AUDIT_WEBHOOK_URL == https://* ]] && echo true || echo false )\n",
					"    certificate-authority: ${AUDIT_WEBHOOK_CA}\n"},
				{"  user: {}\n", "  user: {client-certificate: ${AUDIT_WEBHOOK_CLIENT_CERT}, client-key: ${AUDIT_WEBHOOK_CLIENT_KEY}}\n"},
			} {
				if strings.Count(s, r.old) != 1 {
					t.Fatalf("up.sh changed: %q is not there once; update upWithWebhookCert", r.old)
				}
				s = strings.Replace(s, r.old, r.new, 1)
			}
			data = []byte(s)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestE2ERealAPIServerWebhook runs a real etcd + kube-apiserver with both
// audit backends under the allstages policy: the log (rotating at 1 MB,
// gzip) and the webhook (batch mode) pointed at kaudit serve over TLS with
// a client certificate made here (serve checks its CA and CN). After the
// workload, the set of (auditID, stage, stageTimestamp) received over the
// webhook equals the set in the log files for every event before a cut
// taken once the webhook had time to flush (the API server may drop its
// last batch at shutdown; events after the cut are counted and reported,
// not compared), nothing is received that the log lacks, and the denials
// view is identical from either source.
//
//	../shared/realcluster/build.sh && KAUDIT_E2E=1 go test ./cmd/kaudit -run E2ERealAPIServerWebhook -v -timeout 20m
func TestE2ERealAPIServerWebhook(t *testing.T) {
	e2e(t)
	rc := realcluster(t)
	bin := buildKaudit(t)
	scripts := upWithWebhookCert(t, rc)
	pki := newTestPKI(t, "kube-apiserver")
	state, spool, outDir := t.TempDir(), t.TempDir(), t.TempDir()
	out := filepath.Join(outDir, "webhook.jsonl")
	srv := startServeProc(t, bin, out, "--listen", "127.0.0.1:29600", "--tls-cert", pki.serverCert, "--tls-key", pki.serverKey,
		"--client-ca", pki.caFile, "--client-name", "kube-apiserver", "--spool", spool, "--state-dir", state, "-o", "jsonl")

	api := startAPIServer(t, scripts, "APISERVER_PORT=29443", "ETCD_CLIENT_PORT=25379", "ETCD_PEER_PORT=25380",
		"AUDIT_LOG_MAXSIZE=1", "AUDIT_LOG_COMPRESS=1", "AUDIT_POLICY=allstages",
		"AUDIT_WEBHOOK_URL="+srv.url, "AUDIT_WEBHOOK_BATCH_MAX_WAIT=1s",
		"AUDIT_WEBHOOK_CA="+pki.caFile, "AUDIT_WEBHOOK_CLIENT_CERT="+pki.clientCert, "AUDIT_WEBHOOK_CLIENT_KEY="+pki.clientKey)
	dir := api.dir
	if out, err := api.script("workload.sh", dir, "1").CombinedOutput(); err != nil {
		t.Logf("workload.sh: %v (its commands' outcomes are in workload.log)\n%s", err, out)
	}
	// Every event before cut reaches the webhook within the batch wait
	// (1 s) plus a retry; then the server stops.
	time.Sleep(2 * time.Second)
	cut := time.Now()
	time.Sleep(4 * time.Second)
	downAt := time.Now()
	api.run("down.sh", dir)
	time.Sleep(2 * time.Second)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	logs := api.writtenFiles()
	fileKeys := map[eventKey]bool{}
	for _, p := range logs {
		for _, k := range keysOfFile(t, p) {
			fileKeys[k] = true
		}
	}
	hookKeys := map[eventKey]bool{}
	hookLines := readKeys(t, out)
	for _, k := range hookLines {
		hookKeys[k] = true
	}
	before := func(k eventKey) bool {
		ts, err := time.Parse(time.RFC3339Nano, k.ts)
		if err != nil {
			t.Fatalf("stageTimestamp %q: %v", k.ts, err)
		}
		return ts.Before(cut)
	}
	var missing, extra, fileAfter, hookAfter, fileOnlyAfter, fileOnlyBeforeDown int
	var lastBeforeDown eventKey
	for k := range fileKeys {
		switch {
		case before(k) && !hookKeys[k]:
			missing++
		case !before(k):
			fileAfter++
			if !hookKeys[k] {
				fileOnlyAfter++
				if ts, _ := time.Parse(time.RFC3339Nano, k.ts); ts.Before(downAt) {
					fileOnlyBeforeDown++
					lastBeforeDown = k
				}
			}
		}
	}
	for k := range hookKeys {
		if !fileKeys[k] {
			extra++
		}
		if !before(k) {
			hookAfter++
		}
	}
	t.Logf("log files: %d events in %d files; webhook: %d lines, %d distinct; before the cut %d in the log, missing from the webhook %d; "+
		"after the cut (shutdown) %d in the log, %d received, %d only in the log; received but not in the log: %d",
		len(fileKeys), len(logs), len(hookLines), len(hookKeys), len(fileKeys)-fileAfter, missing, fileAfter, hookAfter, fileOnlyAfter, extra)
	t.Logf("of the %d events only in the log after the cut, %d have a stageTimestamp before down.sh started (e.g. %v), %d during the shutdown",
		fileOnlyAfter, fileOnlyBeforeDown, lastBeforeDown, fileOnlyAfter-fileOnlyBeforeDown)
	if missing > 0 || extra > 0 {
		t.Errorf("webhook and log differ: %d logged events before the cut were not received, %d received events are not in the log", missing, extra)
	}
	if len(fileKeys) < 500 || len(logs) < 2 {
		t.Errorf("only %d events in %d files: the workload did not run", len(fileKeys), len(logs))
	}

	// The denials view, from either source, up to the cut.
	until := cut.UTC().Format(time.RFC3339Nano)
	denials := func(paths ...string) string {
		cmd := exec.Command(bin, append([]string{"replay", "--view", "denials", "-o", "json", "--until", until}, paths...)...)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("replay %v: %v", paths, err)
		}
		return string(b)
	}
	fromLog, fromHook := denials(logs...), denials(out)
	if fromLog != fromHook {
		t.Errorf("denials differ:\nlog files:\n%s\nwebhook:\n%s", fromLog, fromHook)
	}
	rows := strings.Count(fromLog, `"subject":`)
	if rows == 0 {
		t.Errorf("no denials in the log: %s", fromLog)
	}
	t.Logf("denials view (identical from both sources): %d rows, %d bytes", rows, len(fromLog))

	// Both sources together: each event once.
	union := map[eventKey]bool{}
	for k := range fileKeys {
		union[k] = true
	}
	for k := range hookKeys {
		union[k] = true
	}
	both, err := exec.Command(bin, append([]string{"replay", "-o", "jsonl"}, append(logs, out)...)...).Output()
	if err != nil {
		t.Fatalf("replay of both: %v", err)
	}
	if n := strings.Count(string(both), "\n"); n != len(union) {
		t.Errorf("replay of the log files and the webhook output printed %d events, want %d (each once)", n, len(union))
	}

	code, st, _ := kaudit(t, "", "status", "--state-dir", state)
	t.Logf("kaudit status:\n%s", st)
	if code != 0 || !strings.Contains(st, "cert:kube-apiserver@127.0.0.1") {
		t.Errorf("status (exit %d) does not name the API server as last sender", code)
	}
}
