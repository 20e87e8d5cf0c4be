package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/gen"
)

// TestE2EWatchRetention: 200 000 events in ten rotated files, followed by
// kaudit watch -o jsonl --max-events 70000. Every event is printed once,
// and the files whose events retention dropped are closed: the process
// holds descriptors only for the files of the events it kept. It logs the resident
// memory against a run without bounds.
func TestE2EWatchRetention(t *testing.T) {
	e2e(t)
	bin := buildKaudit(t)
	dir := t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 15}
	const n = 200000
	g := gen.New(gen.Config{Seed: 5})
	var line []byte
	for range n {
		line = g.Next(line[:0])
		if _, err := lj.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	lj.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "audit*.log"))

	measure := func(bound ...string) (printed, openLogs int, rssKiB int64) {
		out, err := os.Create(filepath.Join(t.TempDir(), "out.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		args := append([]string{"watch", "-o", "jsonl", "--history", "all", "--no-state"}, bound...)
		cmd := exec.Command(bin, append(args, dir)...)
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		for deadline := time.Now().Add(2 * time.Minute); countLines(t, out.Name()) < n && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // settle: nothing more may come
		printed = countLines(t, out.Name())
		fds, _ := os.ReadDir("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/fd")
		for _, fd := range fds {
			if target, err := os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, dir) {
				openLogs++
			}
		}
		rssKiB = vmRSS(t, cmd.Process.Pid)
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("watch %v: %v", bound, err)
		}
		return printed, openLogs, rssKiB
	}

	p1, fds1, rss1 := measure("--max-events", "70000")
	p0, fds0, rss0 := measure("--max-events", "0", "--max-memory", "0")
	t.Logf("%d events in %d files; --max-events 70000: printed %d, %d log files open, RSS %d MiB; unbounded: printed %d, %d open, RSS %d MiB",
		n, len(files), p1, fds1, rss1>>10, p0, fds0, rss0>>10)
	if p1 != n || p0 != n {
		t.Fatalf("printed %d (bounded) and %d (unbounded) lines; want %d each", p1, p0, n)
	}
	// At most 70000 events are kept: the files they span, plus one at
	// each end partly dropped or partly kept.
	if limit := 70000*len(files)/n + 2; fds1 > limit {
		t.Errorf("with retention %d log files stay open; want at most %d", fds1, limit)
	}
	if fds0 < len(files) {
		t.Errorf("without retention only %d of %d files open: the test no longer shows what it claims", fds0, len(files))
	}
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		b, err := r.ReadSlice('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			n++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return n
		}
	}
}

func vmRSS(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
