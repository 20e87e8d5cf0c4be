package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// realcluster is ../shared/realcluster (or $KAUDIT_REALCLUSTER), with its
// etcd and kube-apiserver built: build.sh takes 12-20 min the first time
// and caches the binaries outside the repository.
func realcluster(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KAUDIT_REALCLUSTER")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "realcluster")
	}
	if _, err := os.Stat(filepath.Join(dir, "up.sh")); err != nil {
		t.Fatalf("no realcluster scripts at %s (set KAUDIT_REALCLUSTER)", dir)
	}
	if out, err := exec.Command("bash", filepath.Join(dir, "build.sh")).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	return dir
}

// apiServer is a real etcd + kube-apiserver that the realcluster scripts
// started in dir, with env (ports and knobs, see its README) on top of the
// test process's environment. down.sh runs at cleanup.
type apiServer struct {
	t            *testing.T
	scripts, dir string
	env          []string
}

// startAPIServer runs up.sh from scripts (realcluster(t), or a patched
// copy of it) in a new directory.
func startAPIServer(t *testing.T, scripts string, env ...string) *apiServer {
	t.Helper()
	a := &apiServer{t: t, scripts: scripts, dir: t.TempDir(), env: append(os.Environ(), env...)}
	a.run("up.sh", a.dir)
	t.Cleanup(func() { a.script("down.sh", a.dir).Run() })
	return a
}

// script is one of the realcluster scripts, ready to run with the
// server's environment.
func (a *apiServer) script(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{filepath.Join(a.scripts, name)}, args...)...)
	cmd.Env = a.env
	return cmd
}

// run runs a script to its end and returns its output; a failure ends the
// test.
func (a *apiServer) run(name string, args ...string) []byte {
	a.t.Helper()
	out, err := a.script(name, args...).CombinedOutput()
	if err != nil {
		a.t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return out
}

// writtenFiles is every audit log file the server wrote in dir, each once:
// a plain backup lumberjack was still gzipping counts as its .gz.
func (a *apiServer) writtenFiles() []string {
	files, _ := filepath.Glob(filepath.Join(a.dir, "audit*.log*"))
	var out []string
	for _, p := range files {
		if strings.HasSuffix(p, ".log") && fileExists(p+".gz") {
			continue
		}
		out = append(out, p)
	}
	return out
}
