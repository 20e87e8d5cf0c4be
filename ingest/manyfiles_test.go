//go:build unix

package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// manyFiles is how many files the descriptor-limit tests read, under a
// limit of lowNoFile descriptors.
const (
	manyFiles = 300
	lowNoFile = 64
)

// TestHelperManyFiles is not a test: run by TestManyFilesLowFDLimit in a
// process of its own with RLIMIT_NOFILE lowered, it reads KAUDIT_MANY_DIR
// (replay, or a Tail with --history all) and prints what it got.
func TestHelperManyFiles(t *testing.T) {
	dir, mode := os.Getenv("KAUDIT_MANY_DIR"), os.Getenv("KAUDIT_MANY_MODE")
	if dir == "" {
		t.Skip("helper process only")
	}
	lim := syscall.Rlimit{Cur: lowNoFile, Max: lowNoFile}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var batches []Batch
	var problems []string
	events := 0
	emit := func(b Batch) error {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, b)
		events += len(b.Events)
		return nil
	}
	onProblem := func(p Problem) {
		mu.Lock()
		problems = append(problems, p.String())
		mu.Unlock()
	}
	var err error
	switch mode {
	case "replay":
		_, err = (&Replay{Paths: []string{dir}, OnProblem: onProblem}).Run(context.Background(), emit)
	case "tail":
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		tl := &Tail{Path: filepath.Join(dir, "audit.log"), History: History{All: true}, Poll: 20 * time.Millisecond, OnProblem: onProblem}
		go func() { done <- tl.Run(ctx, emit) }()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			n := events
			mu.Unlock()
			if n >= manyFiles+1 {
				break
			}
		}
		cancel()
		if err = <-done; err == context.Canceled {
			err = nil
		}
	}
	// Every event's original bytes read back, after all files were read.
	rawBad := 0
	for _, b := range batches {
		for i, e := range b.Events {
			got := make([]byte, len(e.Raw))
			if _, rerr := b.Raw.ReadAt(got, b.Offsets[i]); rerr != nil || !bytes.Equal(got, e.Raw) {
				rawBad++
			}
		}
	}
	fmt.Printf("events=%d rawbad=%d err=%v problems=%d\n", events, rawBad, err, len(problems))
	for _, p := range problems[:min(len(problems), 3)] {
		fmt.Println("problem:", p)
	}
	os.Exit(0)
}

// TestManyFilesLowFDLimit: with a descriptor limit far below the number of
// files, replaying a directory, and a Tail reading every backup, get every
// event, and every event's bytes read back afterwards (every file used to
// stay open: 247 of 11,000 events were kept under ulimit -n 256).
func TestManyFilesLowFDLimit(t *testing.T) {
	dir := t.TempDir()
	for i := 1; i <= manyFiles; i++ {
		writeFile(t, dir, fmt.Sprintf("audit.log.%d", i), lines(ev(fmt.Sprintf("bk-%04d", i))))
	}
	writeFile(t, dir, "audit.log", lines(ev("current")))
	for _, mode := range []string{"replay", "tail"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperManyFiles$")
			cmd.Env = append(os.Environ(), "KAUDIT_MANY_DIR="+dir, "KAUDIT_MANY_MODE="+mode)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			want := fmt.Sprintf("events=%d rawbad=0 err=<nil> problems=0\n", manyFiles+1)
			if !strings.HasPrefix(string(out), want) {
				t.Errorf("under RLIMIT_NOFILE=%d: %s\nwant %s", lowNoFile, out, want)
			}
		})
	}
}
