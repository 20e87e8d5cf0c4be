package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoverAudit(t *testing.T) {
	t.Run("running apiserver", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "proc/1/cmdline"), "/sbin/init\x00")
		write(t, filepath.Join(root, "proc/42/cmdline"), "/usr/local/bin/kube-apiserver\x00--etcd-servers=http://127.0.0.1:2379\x00--audit-log-path=/srv/audit/a.log\x00--audit-policy-file\x00/etc/k/policy.yaml\x00")
		write(t, filepath.Join(root, kubeadmManifest), "    - --audit-log-path=/other.log\n")
		d := discoverAudit(root)
		if d.log != "/srv/audit/a.log" || d.policy != "/etc/k/policy.yaml" || !strings.Contains(d.how, "running kube-apiserver") {
			t.Errorf("%+v", d)
		}
	})
	t.Run("static pod manifest", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, kubeadmManifest), "spec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --audit-log-path=/var/log/kubernetes/audit/audit.log\n    - \"--audit-policy-file=/etc/kubernetes/audit-policy.yaml\"\n")
		d := discoverAudit(root)
		if d.log != "/var/log/kubernetes/audit/audit.log" || d.policy != "/etc/kubernetes/audit-policy.yaml" || !strings.Contains(d.how, "manifests") {
			t.Errorf("%+v", d)
		}
	})
	t.Run("stdout is not a file", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "proc/7/cmdline"), "kube-apiserver\x00--audit-log-path=-\x00")
		write(t, filepath.Join(root, "var/lib/rancher/k3s/server/logs/audit.log"), "")
		if d := discoverAudit(root); d.log != "/var/lib/rancher/k3s/server/logs/audit.log" || !strings.Contains(d.how, "usual location") {
			t.Errorf("%+v", d)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		if d := discoverAudit(t.TempDir()); d.log != defaultWatchPath || !strings.Contains(d.how, "waiting") {
			t.Errorf("%+v", d)
		}
	})
}

// watch with no path follows the log the running kube-apiserver writes,
// and says so.
func TestWatchNoPathDiscovers(t *testing.T) {
	root, logDir := t.TempDir(), t.TempDir()
	log := filepath.Join(logDir, "audit.log")
	write(t, filepath.Join(root, "proc/9/cmdline"), "kube-apiserver\x00--audit-log-path="+log+"\x00")
	write(t, log, evLine("a1", "alice")+"\n"+evLine("a2", "bob")+"\n")
	defer func(r string) { discoverRoot = r }(discoverRoot)
	discoverRoot = root
	w := startWatch(t, "-o", "jsonl", "--no-state")
	if lines := w.waitLines(t, 2); len(lines) != 2 {
		t.Fatalf("lines %v", lines)
	}
	w.stop(t)
	if want := "kaudit: watching " + log + " (the running kube-apiserver's --audit-log-path)"; !strings.Contains(w.errOut.String(), want) {
		t.Errorf("stderr %q, want %q", w.errOut.String(), want)
	}
}
