package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kaudit/kaudit/gen"
)

// TestE2EForwardLostCount: the real kaudit binary follows a log that
// lumberjack rotates every 1 MB, gzips, and prunes to 2 backups (as
// kube-apiserver's --audit-log-maxbackup=2 does) while the forward
// receiver does not answer: the sink's reader pauses, the store's reader
// goes on, and backups the sink never read are deleted. Once the receiver
// answers, the sink sends what is left and reports the rest as lost; the
// counts must add up exactly: received + lost == written, no duplicates,
// and kaudit status shows the same lost count.
func TestE2EForwardLostCount(t *testing.T) {
	e2e(t)
	bin := buildKaudit(t)
	dir, state, outDir := t.TempDir(), t.TempDir(), t.TempDir()
	fake := newOTLPFake(t)
	release := fake.holdRequests()
	defer func() {
		if release != nil {
			release()
		}
	}()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 1, MaxBackups: 2, Compress: true}
	defer lj.Close()
	g := gen.New(gen.Config{Seed: 33})
	written := map[string]bool{}
	var order []string
	write := func(n int) {
		for range n {
			line := g.Next(nil)
			body := string(bytes.TrimSuffix(line, []byte("\n")))
			written[body] = true
			order = append(order, body)
			if _, err := lj.Write(line); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(500)
	outPath, errPath := filepath.Join(outDir, "out.jsonl"), filepath.Join(outDir, "err.txt")
	out, _ := os.Create(outPath)
	errf, _ := os.Create(errPath)
	cmd := exec.Command(bin, "watch", "-o", "jsonl", "--state-dir", state, "--forward", fake.url(),
		"--forward-max-inflight", "256KiB", "--forward-drain", "2s", dir)
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	errf.Close()
	defer cmd.Process.Kill()
	waitUntil(t, "the first post", func() bool { fake.mu.Lock(); defer fake.mu.Unlock(); return fake.posts >= 1 })
	// ~3000 events/s for 4 s: many rotations while the sink is paused.
	tick := time.NewTicker(10 * time.Millisecond)
	for range 400 {
		<-tick.C
		write(30)
	}
	tick.Stop()
	waitUntil(t, "every event printed by the store's reader", func() bool { return countLines(t, outPath) >= len(order) })
	files, _ := filepath.Glob(filepath.Join(dir, "audit*"))
	release()
	release = nil
	// The sink catches up: wait until the receiver stops growing.
	last, stable := -1, 0
	for deadline := time.Now().Add(60 * time.Second); stable < 10 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if b, _ := fake.got(); len(b) == last {
			stable++
		} else {
			last, stable = len(b), 0
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v", err)
	}
	errText, _ := os.ReadFile(errPath)
	lost := 0
	reports := regexp.MustCompile(`: (\d+) events lost`).FindAllSubmatch(errText, -1)
	for _, m := range reports {
		n, _ := strconv.Atoi(string(m[1]))
		lost += n
	}
	bodies, _ := fake.got()
	seen := map[string]bool{}
	dups, foreign := 0, 0
	for _, b := range bodies {
		if seen[b] {
			dups++
		}
		seen[b] = true
		if !written[b] {
			foreign++
		}
	}
	st := sinkStats(t, state, fake.url())
	t.Logf("written %d events (%d files on disk when the receiver came back); received %d (%d duplicates); %d reports of lost events summing to %d; status lost %d",
		len(order), len(files), len(bodies), dups, len(reports), lost, st.Lost)
	if dups != 0 || foreign != 0 {
		t.Errorf("%d duplicates, %d events never written", dups, foreign)
	}
	if len(seen)+lost != len(order) {
		t.Errorf("received %d + lost %d = %d, want the %d written", len(seen), lost, len(seen)+lost, len(order))
	}
	if lost == 0 {
		t.Errorf("nothing was lost: the test did not exercise deleted backups\n%s", errText)
	}
	if st.Lost != int64(lost) {
		t.Errorf("status says %d lost, stderr %d", st.Lost, lost)
	}
}
