package e2e

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/gen"
)

// TestE2EWatchKill9UnderRotation: a generator writes ~3000 events/s through
// lumberjack (1 MB files, gzip) for 9 s; kaudit watch -o jsonl is killed
// with SIGKILL at 3 random moments and restarted each time, then stopped
// with SIGTERM. The union of its outputs holds every event written; the
// duplicates are at most the events of the flush period before each kill.
func TestE2EWatchKill9UnderRotation(t *testing.T) {
	liveUnderRotation(t, 3)
}

// TestE2EWatchLiveUnderRotation: the same stream (a rotation about every
// 0.4 s, backups gzipped) followed by one watch that is never killed:
// every event exactly once.
func TestE2EWatchLiveUnderRotation(t *testing.T) {
	liveUnderRotation(t, 0)
}

func liveUnderRotation(t *testing.T, kills int) {
	bin := kauditBin(t)
	dir, state, outDir := t.TempDir(), t.TempDir(), t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1, Compress: true}
	defer lj.Close()

	const rate, seconds = 3000, 9
	written := map[eventKey]bool{}
	var wmu sync.Mutex
	genDone := make(chan struct{})
	go func() {
		defer close(genDone)
		g := gen.New(gen.Config{Seed: 11})
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range seconds * 100 {
			<-tick.C
			for range rate / 100 {
				line := g.Next(nil)
				var e struct{ AuditID, Stage, StageTimestamp string }
				json.Unmarshal(line, &e)
				wmu.Lock()
				written[eventKey{e.AuditID, e.Stage, e.StageTimestamp}] = true
				wmu.Unlock()
				lj.Write(line)
			}
		}
	}()

	var outs []string
	start := func() *exec.Cmd {
		out := filepath.Join(outDir, "out"+string(rune('0'+len(outs)))+".jsonl")
		outs = append(outs, out)
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "watch", "-o", "jsonl", "--history", "all", "--state-dir", state, dir)
		cmd.Stdout, cmd.Stderr = f, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return cmd
	}
	time.Sleep(300 * time.Millisecond)
	cmd := start()
	for range kills {
		time.Sleep(time.Duration(1000+rand.IntN(1500)) * time.Millisecond)
		cmd.Process.Kill() // kill -9
		cmd.Wait()
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond) // down for a while
		cmd = start()
	}
	<-genDone
	// Let it catch up: at least one line per event written, then a moment
	// for what a restart repeats.
	waitUntil(t, "watch to catch up", func() bool {
		n := 0
		for _, o := range outs {
			n += countLines(t, o)
		}
		wmu.Lock()
		defer wmu.Unlock()
		return n >= len(written)
	})
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	seen := map[eventKey]int{}
	total := 0
	for _, o := range outs {
		for _, k := range readPrintedKeys(t, o) {
			seen[k]++
			total++
		}
	}
	missing := 0
	for k := range written {
		if seen[k] == 0 {
			missing++
		}
	}
	dups := total - len(seen)
	t.Logf("written %d, printed %d lines, %d distinct, %d missing, %d duplicates after %d kills", len(written), total, len(seen), missing, dups, kills)
	if missing > 0 || len(seen) != len(written) {
		t.Fatalf("%d events missing (%d distinct printed, %d written)", missing, len(seen), len(written))
	}
	// Positions are flushed every second: each kill repeats at most about a
	// second of events (plus what the restart's catch-up emitted before it).
	if limit := kills * rate * 3 / 2; dups > limit {
		t.Fatalf("%d duplicates, more than %d", dups, limit)
	}
}

// TestE2EWatchRetention: 200 000 events in ten rotated files, followed by
// kaudit watch -o jsonl --max-events 70000. Every event is printed once,
// and the backups read are closed (with or without retention): the
// process holds a descriptor for the followed file only. It logs the
// resident memory against a run without bounds.
func TestE2EWatchRetention(t *testing.T) {
	bin := kauditBin(t)
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
	// Backups are closed once read (their events' bytes are read again by
	// path when needed), with or without retention: only the followed
	// file stays open, plus what the re-read cache holds (nothing, when
	// the printer read each batch from memory).
	if fds1 > 2 || fds0 > 2 {
		t.Errorf("%d (bounded) and %d (unbounded) log files stay open of %d; want at most 2", fds1, fds0, len(files))
	}
}

// TestE2EWatchRealSizeLines: kaudit watch -o jsonl follows a file while a
// 20 MiB line (over the default 16 MiB --max-line: skipped and reported
// with its line number) and a 15 MiB event (kept, byte-identical) are
// written in 3 MiB pieces between small events. It moves ~70 MiB through
// memory.
func TestE2EWatchRealSizeLines(t *testing.T) {
	bin := kauditBin(t)
	dir := t.TempDir()
	path, outPath, errPath := filepath.Join(dir, "audit.log"), filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "err.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(evLine(evID(1), "alice") + "\n")
	out, _ := os.Create(outPath)
	errf, _ := os.Create(errPath)
	cmd := exec.Command(bin, "watch", "-o", "jsonl", "--no-state", path)
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	errf.Close()
	defer cmd.Process.Kill()
	waitUntil(t, "the first event", func() bool { return countLines(t, outPath) == 1 })

	huge := `{"kind":"Event","auditID":"x","requestObject":"` + strings.Repeat("y", 20<<20) + `"}` + "\n"
	big := strings.Replace(evLine(evID(2), "bob"), `"verb":"list"`, `"verb":"list","requestObject":{"data":"`+strings.Repeat("z", 15<<20)+`"}`, 1)
	for _, s := range []string{huge, big + "\n"} {
		for i := 0; i < len(s); i += 3 << 20 {
			f.WriteString(s[i:min(i+3<<20, len(s))])
			time.Sleep(20 * time.Millisecond)
		}
	}
	f.WriteString(evLine(evID(3), "carol") + "\n")
	waitUntil(t, "the big and the last event", func() bool { return countLines(t, outPath) >= 3 })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	got, _ := os.ReadFile(outPath)
	want := evLine(evID(1), "alice") + "\n" + big + "\n" + evLine(evID(3), "carol") + "\n"
	if string(got) != want {
		t.Fatalf("printed %d bytes in %d lines, want the 3 events (%d bytes) as written", len(got), strings.Count(string(got), "\n"), len(want))
	}
	warnings, _ := os.ReadFile(errPath)
	if !strings.Contains(string(warnings), path+":2: line too long") || strings.Count(string(warnings), "line too long") != 1 {
		t.Errorf("want one warning for line 2, stderr:\n%s", warnings)
	}
}
