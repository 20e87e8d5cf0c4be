package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/internal/testwait"
)

// TestE2EWatchDiscovers: against a real kube-apiserver, kaudit watch with
// no path finds its audit log and policy from the running process's
// command line, says so, and follows that log.
func TestE2EWatchDiscovers(t *testing.T) {
	bin := kauditBin(t)
	a := newAPIServer(t, realcluster(t), portsEnv(t)...)
	startAPIServers(t, a)
	var out, errb lockedBuffer
	cmd := exec.Command(bin, "watch", "-o", "jsonl", "--no-state")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	log, policy := filepath.Join(a.dir, "audit.log"), filepath.Join(a.dir, "audit-policy.yaml")
	testwait.Until(t, "watch to say what it found", func() bool {
		return strings.Contains(errb.String(), "kaudit: watching ") && strings.Contains(errb.String(), "audit policy ")
	})
	said := errb.String()
	// Another kube-apiserver on this machine (a parallel test) may be the
	// one found: then the message names its log, found the same way.
	if !strings.Contains(said, "running kube-apiserver's --audit-log-path") {
		t.Fatalf("watch did not find the running kube-apiserver:\n%s", said)
	}
	if !strings.Contains(said, "watching "+log+" ") || !strings.Contains(said, "audit policy "+policy) {
		t.Logf("found another kube-apiserver's files (%s); ours are %s and %s", said, log, policy)
		return
	}
	a.run(t, "workload.sh", a.dir, "1")
	testwait.Until(t, "events from the discovered log", func() bool { return strings.Count(out.String(), "\n") > 10 })
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
