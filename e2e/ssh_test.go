package e2e

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sshHosts starts Debian's sshd on a free loopback port with throw-away
// keys, and returns a directory holding an "ssh" (the system client with
// a config naming cp1, cp2 and cp3, all that sshd) to put first on PATH.
func sshHosts(t *testing.T) (binDir string) {
	t.Helper()
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Fatalf("openssh-server is not installed (%v): .ci/run installs it", err)
	}
	dir := t.TempDir()
	keygen := func(name string) {
		if out, err := exec.Command("ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", filepath.Join(dir, name)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	keygen("host_key")
	keygen("user_key")
	pub, _ := os.ReadFile(filepath.Join(dir, "user_key.pub"))
	hostPub, _ := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	writeFile(t, filepath.Join(dir, "authorized_keys"), string(pub))
	port := freePort(t)
	writeFile(t, filepath.Join(dir, "sshd_config"), fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_key
AuthorizedKeysFile %s/authorized_keys
PidFile %s/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
`, port, dir, dir, dir))
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory, when running as root
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	logf, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Logf("sshd log:\n%s", b)
		}
	})
	waitUntil(t, "sshd listening", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	fields := strings.Fields(string(hostPub))
	writeFile(t, filepath.Join(dir, "known_hosts"), fmt.Sprintf("[127.0.0.1]:%d %s %s\n", port, fields[0], fields[1]))
	writeFile(t, filepath.Join(dir, "ssh_config"), fmt.Sprintf(`Host cp1 cp2 cp3
	HostName 127.0.0.1
	Port %d
	IdentityFile %s/user_key
	IdentitiesOnly yes
	UserKnownHostsFile %s/known_hosts
	StrictHostKeyChecking yes
	LogLevel ERROR
`, port, dir, dir))
	binDir = filepath.Join(dir, "bin")
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(binDir, "ssh"), "#!/bin/sh\nexec "+ssh+" -F "+dir+"/ssh_config \"$@\"\n")
	os.Chmod(filepath.Join(binDir, "ssh"), 0o755)
	return binDir
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sshEvent is event number i of host h (of 3), at second i: the hosts'
// events interleave in time.
func sshEvent(i int) string {
	ts := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + evID(i) +
		`","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"` + evUser(i) + `"},` +
		`"requestReceivedTimestamp":"` + ts + `","stageTimestamp":"` + ts + `"}` + "\n"
}

func appendTo(t *testing.T, path, data string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

// ids are the auditIDs of JSON lines.
func ids(t *testing.T, out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct{ AuditID string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not an event line %q: %v", l, err)
		}
		got = append(got, e.AuditID)
	}
	return got
}

// TestE2ESSHReplay: three "hosts" served by one sshd from three
// directories (a gzipped backup and the current file each) replay as one
// stream: the union, in time order.
func TestE2ESSHReplay(t *testing.T) {
	bin := kauditBin(t)
	binDir := sshHosts(t)
	logs := t.TempDir()
	var want []string
	for h := 1; h <= 3; h++ {
		var old, cur strings.Builder
		for i := h; i <= 90; i += 3 {
			want = append(want, evID(i))
			if i <= 45 {
				old.WriteString(sshEvent(i))
			} else {
				cur.WriteString(sshEvent(i))
			}
		}
		d := filepath.Join(logs, fmt.Sprintf("cp%d", h))
		writeFile(t, filepath.Join(d, "audit.log"), cur.String())
		f, _ := os.Create(filepath.Join(d, "audit-2026-11-25T10-00-45.000.log.gz"))
		zw := gzip.NewWriter(f)
		zw.Write([]byte(old.String()))
		zw.Close()
		f.Close()
	}
	slices.Sort(want) // evID(i) sorts as i, and i is the time
	cmd := exec.Command(bin, "replay", "-o", "jsonl", "ssh://cp1"+logs+"/cp1/", "ssh://cp2"+logs+"/cp2/", "ssh://cp3"+logs+"/cp3")
	cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr.String())
	}
	if got := ids(t, string(out)); !slices.Equal(got, want) {
		t.Errorf("merged replay:\n got %v\nwant %v\nstderr: %s", got, want, stderr.String())
	}
}

// TestE2ESSHWatchKill: watch follows three hosts; kill -9 of one ssh
// client (a child of kaudit) is reported and the session resumed at its
// byte offset: every event printed exactly once.
func TestE2ESSHWatchKill(t *testing.T) {
	binDir := sshHosts(t)
	logs := t.TempDir()
	file := func(h int) string { return filepath.Join(logs, fmt.Sprintf("cp%d", h), "audit.log") }
	next := 0
	write := func(n int) { // n more events, round robin over the hosts
		for range n {
			next++
			appendTo(t, file(next%3+1), sshEvent(next))
		}
	}
	write(30)
	w := startWatch(t, binDir, auditID, "ssh://cp1"+logs+"/cp1", "ssh://cp2"+file(2), "ssh://cp3"+logs+"/cp3/")
	waitUntil(t, "the first 30 events", func() bool { return w.count() >= 30 })
	for i, id := range w.lines()[:30] { // all three hosts had theirs: merged in time order
		if id != evID(i+1) {
			t.Errorf("live merge: event %d is %s, want %s", i, id, evID(i+1))
		}
	}

	pid := childOf(t, w.cmd.Process.Pid, "cp2")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	write(60)
	waitUntil(t, "all 90 events", func() bool { return w.count() >= 90 })
	waitUntil(t, "the kill reported", func() bool {
		s := w.stderrText()
		return strings.Contains(s, "ssh://cp2") && strings.Contains(s, "signal: killed")
	})
	// One more event per host, after all: an event read twice comes
	// before the one after it from the same host.
	write(3)
	waitUntil(t, "events 91-93", func() bool { return w.printed(evIDs(91, 93)) })
	w.printedOnce(t, evIDs(1, 93))
}

// printed reports whether every id of ids was printed.
func (w *watchRun) printed(ids []string) bool {
	got := w.lines()
	for _, id := range ids {
		if !slices.Contains(got, id) {
			return false
		}
	}
	return true
}

// evIDs are evID(from) to evID(to).
func evIDs(from, to int) []string {
	var ids []string
	for i := from; i <= to; i++ {
		ids = append(ids, evID(i))
	}
	return ids
}

// watchRun is a running kaudit watch and what it has printed.
type watchRun struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	got    []string // stdout lines, as the line func of startWatch made them
	stderr strings.Builder
}

// startWatch runs kaudit watch -o jsonl --no-state args with path (the
// ssh wrappers' directories) first on PATH, keeping each stdout line as
// line makes it, and stops it (SIGTERM) when the test ends.
func startWatch(t *testing.T, path string, line func([]byte) string, args ...string) *watchRun {
	t.Helper()
	w := &watchRun{cmd: exec.Command(kauditBin(t), append([]string{"watch", "-o", "jsonl", "--no-state"}, args...)...)}
	w.cmd.Env = append(os.Environ(), "PATH="+path+":"+os.Getenv("PATH"))
	w.cmd.Stderr = writerFunc(func(p []byte) { w.mu.Lock(); w.stderr.Write(p); w.mu.Unlock() })
	stdout, _ := w.cmd.StdoutPipe()
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.cmd.Process.Signal(syscall.SIGTERM); w.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			l := line(sc.Bytes())
			w.mu.Lock()
			w.got = append(w.got, l)
			w.mu.Unlock()
		}
	}()
	return w
}

// auditID is the auditID of a JSON event line (a startWatch line func).
func auditID(line []byte) string {
	var e struct{ AuditID string }
	json.Unmarshal(line, &e)
	return e.AuditID
}

func (w *watchRun) count() int { w.mu.Lock(); defer w.mu.Unlock(); return len(w.got) }

// lines is a copy of what watch has printed so far.
func (w *watchRun) lines() []string { w.mu.Lock(); defer w.mu.Unlock(); return slices.Clone(w.got) }

func (w *watchRun) stderrText() string { w.mu.Lock(); defer w.mu.Unlock(); return w.stderr.String() }

// printedOnce checks that watch printed each of want exactly once and
// nothing else, and logs its stderr.
func (w *watchRun) printedOnce(t *testing.T, want []string) {
	t.Helper()
	got, stderr := w.lines(), w.stderrText()
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s printed %d times", id, seen[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d lines printed, want %d; stderr:\n%s", len(got), len(want), stderr)
	}
	t.Logf("stderr:\n%s", stderr)
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// childOf is the PID of a child of parent whose command line holds s.
func childOf(t *testing.T, parent int, s string) int {
	t.Helper()
	var pid int
	waitUntil(t, "the ssh client of "+s, func() bool {
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, st := range stats {
			b, err := os.ReadFile(st)
			if err != nil {
				continue
			}
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
			if len(f) < 2 || f[1] != strconv.Itoa(parent) {
				continue
			}
			cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(st), "cmdline"))
			if strings.Contains(string(cmdline), "\x00"+s+"\x00") {
				pid, _ = strconv.Atoi(filepath.Base(filepath.Dir(st)))
				return true
			}
		}
		return false
	})
	return pid
}
