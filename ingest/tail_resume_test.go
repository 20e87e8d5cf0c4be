package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// waitCompressed waits until lumberjack has gzipped every backup in dir.
func waitCompressed(t *testing.T, dir string, backups int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		gz, plain := 0, 0
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			switch {
			case strings.HasSuffix(e.Name(), ".log.gz"):
				gz++
			case e.Name() != "audit.log" && strings.HasSuffix(e.Name(), ".log"):
				plain++
			}
		}
		if gz == backups && plain == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("lumberjack did not compress its backups")
}

func ljWrite(t *testing.T, lj *lumberjack.Logger, ids []string) {
	t.Helper()
	for _, id := range ids {
		if _, err := lj.Write([]byte(ev(id) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTailResumeAfterRotationsWhileDown(t *testing.T) {
	for _, deleted := range []bool{false, true} {
		t.Run(fmt.Sprintf("deleted=%v", deleted), func(t *testing.T) {
			dir := t.TempDir()
			lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100, Compress: true}
			defer lj.Close()
			ljWrite(t, lj, idsN("r", 0, 100))
			r := startTail(t, &Tail{Path: dir})
			r.waitN(100)
			ljWrite(t, lj, idsN("r", 100, 110)) // maybe read, maybe not: the checkpoint says
			time.Sleep(30 * time.Millisecond)
			r.stop()
			cp := r.tail.Acked()
			seen := len(r.got())
			// kaudit is down: three rotations, all backups gzipped, the
			// plain originals deleted by lumberjack.
			for k := range 3 {
				ljWrite(t, lj, idsN("r", 110+50*k, 160+50*k))
				time.Sleep(2 * time.Millisecond) // distinct backup names
				if err := lj.Rotate(); err != nil {
					t.Fatal(err)
				}
			}
			ljWrite(t, lj, idsN("r", 260, 300))
			waitCompressed(t, dir, 3)
			want := idsN("r", seen, 300)
			if deleted {
				// The backup holding the checkpoint's file is deleted: lines
				// r-000110..r-000159 are lost, and reported.
				bks := backups(dir, "audit.log")
				if err := os.Remove(bks[0].path); err != nil {
					t.Fatal(err)
				}
				want = idsN("r", 160, 300)
			}
			r2 := startTail(t, &Tail{Path: dir, Resume: &cp})
			send := func(id string) { ljWrite(t, lj, []string{id}) }
			checkExactlyOnce(t, waitAllSend(t, r2, want, send), want)
			p := r2.problemList()
			if !deleted && len(p) != 0 {
				t.Errorf("problems: %v", p)
			}
			if deleted && (len(p) != 1 || !strings.Contains(p[0].Msg, fmt.Sprintf("after byte %d (line %d)", cp.Offset, cp.Line))) {
				t.Errorf("want the loss reported exactly, got %v", p)
			}
			if r2.rawBad != 0 {
				t.Errorf("%d raw reads failed", r2.rawBad)
			}
		})
	}
}

// TestTailCrashRestart simulates kill -9: the positions on disk are those
// of the last flush; everything emitted after it comes again, nothing more.
func TestTailCrashRestart(t *testing.T) {
	dir := t.TempDir()
	state := t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100, Compress: true}
	defer lj.Close()
	ljWrite(t, lj, idsN("k", 0, 100))
	r := startTail(t, &Tail{Path: dir})
	r.waitN(100)
	// Acked moves once emit has returned, a moment after the events were
	// seen: wait for it, or the "last flush" below would save an older one.
	for deadline := time.Now().Add(5 * time.Second); r.tail.Acked().Line < 100; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Acked stays at line %d", r.tail.Acked().Line)
		}
	}
	pos, err := OpenPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	pos.Set(r.tail.Acked())
	if err := pos.Flush(); err != nil { // the last flush before the crash
		t.Fatal(err)
	}
	ljWrite(t, lj, idsN("k", 100, 150))
	lj.Rotate()
	ljWrite(t, lj, idsN("k", 150, 200))
	r.waitN(200)
	r.stop() // crash: no final flush
	first := r.got()

	loaded, err := LoadPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	cp, ok := loaded[r.tail.Path]
	if !ok {
		t.Fatalf("no position for %s in %v", r.tail.Path, loaded)
	}
	ljWrite(t, lj, idsN("k", 200, 220))
	r2 := startTail(t, &Tail{Path: dir, Resume: &cp})
	// A sentinel after them: anything more comes before it.
	got2 := untilSentinel(t, r2.got, r2.waitN(120), func(id string) { ljWrite(t, lj, []string{id}) }, r2.problemList)
	all := append(first, got2...)
	seen := map[string]int{}
	dups := 0
	for _, id := range all {
		if seen[id]++; seen[id] == 2 {
			dups++
		}
	}
	if len(seen) != 220 {
		t.Fatalf("union has %d distinct events, want 220", len(seen))
	}
	if dups != 100 { // exactly the events emitted after the last flush
		t.Fatalf("%d duplicates, want 100 (events after the last flush)", dups)
	}
}

func TestPositionsRoundTrip(t *testing.T) {
	state := filepath.Join(t.TempDir(), "nested", "kaudit")
	p, err := OpenPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	c := Checkpoint{Source: "/var/log/a", Path: "/var/log/a/audit.log", Dev: 1, Inode: 2, Fingerprint: "ab", FingerprintLen: 1024, Offset: 99, Line: 3, LastEvent: time.Unix(100, 0).UTC()}
	p.Set(c)
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err := LoadPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	got := m["/var/log/a"]
	got.Updated = time.Time{}
	if got != c {
		t.Fatalf("got %+v, want %+v", got, c)
	}
	ents, _ := os.ReadDir(state)
	if len(ents) != 2 { // the positions and the lock
		t.Fatalf("state dir holds %d files (temp file left?)", len(ents))
	}
	os.WriteFile(filepath.Join(state, PositionsFile), []byte(`{"version":99,"positions":[]}`), 0o600)
	if _, err := LoadPositions(state); err == nil {
		t.Fatal("a future version was accepted")
	}
}
