package remote

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childWith is the PID of a child of this process whose command line
// holds s (waiting for it to appear).
func childWith(t *testing.T, s string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, st := range stats {
			b, err := os.ReadFile(st)
			if err != nil {
				continue
			}
			// pid (comm) state ppid ...: comm may hold spaces, so cut after ")".
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
			if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
				continue
			}
			cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(st), "cmdline"))
			if strings.Contains(string(cmdline), s) {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no child process with %q", s)
	return 0
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill() // SIGKILL on Unix
}
