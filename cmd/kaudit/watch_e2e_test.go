package main

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/gen"
)

// e2e skips the test unless KAUDIT_E2E=1: these run real processes for
// several seconds. Run them alone with
//
//	KAUDIT_E2E=1 go test ./cmd/kaudit -run E2E -v
func e2e(t *testing.T) {
	t.Helper()
	if os.Getenv("KAUDIT_E2E") != "1" {
		t.Skip("set KAUDIT_E2E=1 to run end-to-end tests")
	}
}

// buildKaudit builds the kaudit binary into a temporary directory.
func buildKaudit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kaudit")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type eventKey struct{ id, stage, ts string }

// readKeys reads the (auditID, stage, stageTimestamp) of each line of path.
func readKeys(t *testing.T, path string) []eventKey {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []eventKey
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e struct {
			AuditID        string `json:"auditID"`
			Stage          string `json:"stage"`
			StageTimestamp string `json:"stageTimestamp"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: not JSON: %v", path, err)
		}
		keys = append(keys, eventKey{e.AuditID, e.Stage, e.StageTimestamp})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestE2EWatchKill9UnderRotation: a generator writes ~3000 events/s through
// lumberjack (1 MB files, gzip) for 9 s; kaudit watch -o jsonl is killed
// with SIGKILL at 3 random moments and restarted each time, then stopped
// with SIGTERM. The union of its outputs holds every event written; the
// duplicates are at most the events of the flush period before each kill.
func TestE2EWatchKill9UnderRotation(t *testing.T) {
	e2e(t)
	liveUnderRotation(t, 3)
}

// TestE2EWatchLiveUnderRotation: the same stream (a rotation about every
// 0.4 s, backups gzipped) followed by one watch that is never killed:
// every event exactly once.
func TestE2EWatchLiveUnderRotation(t *testing.T) {
	e2e(t)
	liveUnderRotation(t, 0)
}

func liveUnderRotation(t *testing.T, kills int) {
	bin := buildKaudit(t)
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
	time.Sleep(1500 * time.Millisecond) // let it catch up
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	seen := map[eventKey]int{}
	total := 0
	for _, o := range outs {
		for _, k := range readKeys(t, o) {
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
