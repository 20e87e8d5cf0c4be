package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2EWatchCopytruncate: a writer appends 12,000 events at 3,000/s and
// rotates the log the way logrotate's copytruncate does every 2,000 lines
// (copy to audit.log.1, older copies shifted, then truncate in place).
// kaudit watch -o jsonl prints every event, none twice, and exits 0 (it
// used to exit 1 on "reading N bytes at offset X: EOF" and lose the lines
// not read before each truncation).
func TestE2EWatchCopytruncate(t *testing.T) {
	bin := kauditBin(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(t.TempDir(), "out.jsonl")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "watch", "-o", "jsonl", "--no-state", "--history", "all", path)
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	const rate, total, every = 3000, 12000, 2000
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < total; {
		<-tick.C
		for range rate / 100 {
			if _, err := w.WriteString(evLine(evID(i), evUser(i)) + "\n"); err != nil {
				t.Fatal(err)
			}
			if i++; i%every == 0 {
				copytruncate(t, path)
			}
		}
	}
	waitUntil(t, "watch to print every event", func() bool { return countLines(t, outPath) >= total })
	// One more event: a duplicate comes before it.
	if _, err := w.WriteString(evLine(evID(total), evUser(total)) + "\n"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the last event", func() bool {
		data, _ := os.ReadFile(outPath)
		return bytes.Contains(data, []byte(evID(total)))
	})
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	seen := map[eventKey]int{}
	for _, k := range readKeys(t, outPath) {
		seen[k]++
	}
	missing, dups := 0, 0
	for i := range total {
		n := seen[eventKey{evID(i), "ResponseComplete", "2026-11-25T17:53:17.223456Z"}]
		if n == 0 {
			missing++
		}
		dups += max(n-1, 0)
	}
	t.Logf("copytruncate every %d lines at %d events/s: %d written, %d missing, %d duplicates", every, rate, total, missing, dups)
	if err != nil {
		t.Errorf("watch: %v; stderr:\n%s", err, stderr.String())
	}
	if missing > 0 || dups > 0 {
		t.Errorf("%d missing, %d duplicated; stderr:\n%s", missing, dups, stderr.String())
	}
}

// copytruncate rotates path as logrotate's copytruncate does.
func copytruncate(t *testing.T, path string) {
	t.Helper()
	for k := 20; k >= 1; k-- {
		if old := fmt.Sprintf("%s.%d", path, k); fileExists(old) {
			if err := os.Rename(old, fmt.Sprintf("%s.%d", path, k+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}

// TestE2EManyFilesLowFDLimit: under ulimit -n 256, replay of a directory
// of 10,001 files and watch --history all over it get all 11,000 events
// (replay used to keep 247 and exit 0; watch skipped the backups for good,
// naming X.log.gz for X.log).
func TestE2EManyFilesLowFDLimit(t *testing.T) {
	bin := kauditBin(t)
	dir := t.TempDir()
	for i := 1; i <= 10000; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("audit.log.%d", i)), []byte(evLine(evID(100000+i), "bk")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var cur strings.Builder
	for i := range 1000 {
		cur.WriteString(evLine(evID(i), evUser(i)) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), []byte(cur.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = 11000
	limited := func(args ...string) *exec.Cmd {
		return exec.Command("sh", append([]string{"-c", `ulimit -n 256 && exec "$@"`, "sh", bin}, args...)...)
	}
	t.Run("replay", func(t *testing.T) {
		var out, errOut bytes.Buffer
		cmd := limited("replay", "-o", "jsonl", dir)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if n := strings.Count(out.String(), "\n"); err != nil || n != want {
			t.Errorf("replay under ulimit -n 256: %v, %d events, want %d; stderr: %.500s", err, n, want, errOut.String())
		}
	})
	t.Run("watch history all", func(t *testing.T) {
		outPath := filepath.Join(t.TempDir(), "out.jsonl")
		out, err := os.Create(outPath)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		var errOut bytes.Buffer
		cmd := limited("watch", "-o", "jsonl", "--no-state", "--history", "all", filepath.Join(dir, "audit.log"))
		cmd.Stdout, cmd.Stderr = out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		waitUntil(t, "watch to print every event", func() bool { return countLines(t, outPath) >= want })
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil || strings.Contains(errOut.String(), "warning") {
			t.Errorf("watch: %v; stderr: %.500s", err, errOut.String())
		}
		if n := countLines(t, outPath); n != want {
			t.Errorf("watch printed %d events, want %d", n, want)
		}
	})
}

// TestE2EBadLinesMemory: the peak resident memory of kaudit replay over
// runs of blank or malformed lines stays flat; only counters grow (it
// reached 1.3-5 GB on these inputs).
func TestE2EBadLinesMemory(t *testing.T) {
	bin := kauditBin(t)
	dir := t.TempDir()
	var events strings.Builder
	for i := range 100 {
		events.WriteString(evLine(evID(i), evUser(i)) + "\n")
	}
	write := func(name string, parts ...func(io.Writer)) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var w io.Writer = f
		if strings.HasSuffix(name, ".gz") {
			zw := gzip.NewWriter(f)
			defer zw.Close()
			w = zw
		}
		for _, part := range parts {
			part(w)
		}
		return p
	}
	repeat := func(s string, n int) func(io.Writer) {
		return func(w io.Writer) {
			chunk := []byte(strings.Repeat(s, 1<<20/len(s)))
			for written := 0; written < n; written += len(chunk) {
				w.Write(chunk)
			}
		}
	}
	inputs := []struct{ name, path string }{
		{"100 events, then 50 MB of blank lines", write("blank.log", func(w io.Writer) { io.WriteString(w, events.String()) }, repeat("\n", 50<<20))},
		{"300 MB of newlines, gzipped", write("nl.log.gz", repeat("\n", 300<<20))},
		{"10 MB of x lines", write("x.log", repeat("x\n", 10<<20))},
		{"20 MB of {} lines", write("obj.log", repeat("{}\n", 20<<20))},
	}
	for _, in := range inputs {
		cmd := exec.Command(bin, "replay", "-o", "jsonl", in.path)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v", in.name, err)
			continue
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		t.Logf("%s: peak RSS %d MiB", in.name, rss>>10)
		if rss > 256<<10 {
			t.Errorf("%s: peak RSS %d MiB, want under 256 MiB", in.name, rss>>10)
		}
	}
}
