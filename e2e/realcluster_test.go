package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// realcluster is the repository's scripts/realcluster, with etcd,
// kube-apiserver and kubectl built: build.sh takes 12-20 min the first time
// and caches the binaries outside the repository (~/.cache/kaudit-realcluster).
func realcluster(t *testing.T) string {
	t.Helper()
	dir := repoPath(t, "scripts/realcluster")
	if out, err := exec.Command("bash", filepath.Join(dir, "build.sh")).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	return dir
}

// kubectl is build.sh's kubectl (the server's version), else the one on
// PATH, as the scripts choose it.
func kubectl() string {
	bin := os.Getenv("KAUDIT_RC_BIN")
	if bin == "" {
		cache := os.Getenv("KAUDIT_RC_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "kaudit-realcluster")
		}
		bin = filepath.Join(cache, "bin")
	}
	if p := filepath.Join(bin, "kubectl"); fileExists(p) {
		return p
	}
	return "kubectl"
}

// portsEnv is up.sh's port knobs, set to free ports.
func portsEnv(t *testing.T) []string {
	return []string{
		"APISERVER_PORT=" + strconv.Itoa(freePort(t)),
		"ETCD_CLIENT_PORT=" + strconv.Itoa(freePort(t)),
		"ETCD_PEER_PORT=" + strconv.Itoa(freePort(t)),
	}
}

// apiServer is a real etcd + kube-apiserver that the realcluster scripts
// run in dir, with env (ports and knobs, see scripts/realcluster/README.md)
// on top of the test process's environment. down.sh runs at cleanup.
type apiServer struct {
	scripts, dir string
	env          []string
}

// newAPIServer prepares a server in a new directory; up starts it.
func newAPIServer(t *testing.T, scripts string, env ...string) *apiServer {
	t.Helper()
	a := &apiServer{scripts: scripts, dir: t.TempDir(), env: append(os.Environ(), env...)}
	t.Cleanup(func() { a.script("down.sh", a.dir).Run() })
	return a
}

// startAPIServers starts servers at once (up.sh waits for /readyz).
func startAPIServers(t *testing.T, servers ...*apiServer) {
	t.Helper()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, a := range servers {
		wg.Go(func() { _, errs[i] = a.output("up.sh", a.dir) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// script is one of the realcluster scripts, ready to run with the
// server's environment.
func (a *apiServer) script(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{filepath.Join(a.scripts, name)}, args...)...)
	cmd.Env = a.env
	return cmd
}

// output runs a script to its end; its error carries the output.
func (a *apiServer) output(name string, args ...string) ([]byte, error) {
	out, err := a.script(name, args...).CombinedOutput()
	if err != nil {
		return out, errors.New(name + " " + strings.Join(args, " ") + ": " + err.Error() + "\n" + string(out))
	}
	return out, nil
}

// run runs a script to its end and returns its output; a failure ends the
// test.
func (a *apiServer) run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := a.output(name, args...)
	if err != nil {
		t.Fatal(err)
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
