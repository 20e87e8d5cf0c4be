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

// waitEntries waits until the log records n finished files.
func waitEntries(t *testing.T, l *FileLog, n int) []FinishedFile {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es := l.Entries()
		if len(es) >= n {
			return es
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log records %d finished files, want %d: %+v", len(es), n, es)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lostProblems are the problems that count lost events.
func lostProblems(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Lost > 0 || strings.Contains(p.Msg, "lost") || strings.Contains(p.Msg, "deleted") {
			out = append(out, p)
		}
	}
	return out
}

// TestTailLaggingReaderCountsDeletedBackup: a main Tail and a lagging Tail
// (a paused forward sink's) share a FileLog; while the lagging one is
// paused in file A, three rotations happen (A, B, C) and B is deleted
// before it reads it. It reads the rest and reports exactly B's 5 events
// as lost — also when the backups are gzipped (identity by fingerprint).
func TestTailLaggingReaderCountsDeletedBackup(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			dir := t.TempDir()
			lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100, Compress: compress}
			defer lj.Close()
			ljWrite(t, lj, idsN("l", 0, 10))
			log := NewFileLog(nil)
			main := startTail(t, &Tail{Path: dir, Finished: log})
			main.waitN(10)
			gate := make(chan struct{})
			lag := startTailGated(t, &Tail{Path: dir, Known: log}, 10, gate)
			lag.waitN(10)
			for k := range 3 { // A holds l-0..l-14, B l-15..l-19, C l-20..l-24
				from := 10 + 5*k
				ljWrite(t, lj, idsN("l", from, from+5))
				time.Sleep(2 * time.Millisecond) // distinct backup names
				if err := lj.Rotate(); err != nil {
					t.Fatal(err)
				}
			}
			ljWrite(t, lj, idsN("l", 25, 30))
			main.waitN(30)
			es := waitEntries(t, log, 3)
			if es[0].Lines != 15 || es[1].Lines != 5 || es[2].Lines != 5 {
				t.Fatalf("finished files %+v: want 15, 5 and 5 lines", es)
			}
			if compress {
				waitCompressed(t, dir, 3)
			}
			bks := backups(dir, "audit.log")
			if len(bks) != 3 {
				t.Fatalf("%d backups, want 3", len(bks))
			}
			if err := os.Remove(bks[1].path); err != nil { // B, as --audit-log-maxbackup would
				t.Fatal(err)
			}
			close(gate)
			want := append(idsN("l", 0, 15), idsN("l", 20, 30)...)
			send := func(id string) { ljWrite(t, lj, []string{id}) }
			checkExactlyOnce(t, waitAllSend(t, lag, want, send), want)
			lost := lostProblems(lag.problemList())
			if len(lost) != 1 || lost[0].Lost != 5 || !strings.Contains(lost[0].Msg, "5 events lost") {
				t.Fatalf("want B's 5 events reported lost, got %v", lost)
			}
			if b := strings.TrimSuffix(bks[1].path, ".gz"); strings.TrimSuffix(lost[0].Path, ".gz") != b {
				t.Errorf("reported path %s, want B's backup name %s", lost[0].Path, b)
			}
			if p := main.problemList(); len(p) != 0 {
				t.Errorf("main reader problems: %v", p)
			}
		})
	}
}

// TestTailResumeCountsLost: a lagging reader's checkpoint is in a file the
// main reader finished and that was deleted while the lagging one was
// stopped; on resume it says exactly which lines (events) are lost.
// Without the main reader's record it says the count is unknown.
func TestTailResumeCountsLost(t *testing.T) {
	dir := t.TempDir()
	lj := &lumberjack.Logger{Filename: filepath.Join(dir, "audit.log"), MaxSize: 100}
	defer lj.Close()
	ljWrite(t, lj, idsN("m", 0, 10))
	log := NewFileLog(nil)
	main := startTail(t, &Tail{Path: dir, Finished: log})
	lag := startTail(t, &Tail{Path: dir, Known: log})
	lag.waitN(10)
	lag.stop()
	cp := lag.tail.Acked()
	ljWrite(t, lj, idsN("m", 10, 17))
	lj.Rotate()
	ljWrite(t, lj, idsN("m", 17, 20))
	main.waitN(20)
	waitEntries(t, log, 1)
	for _, b := range backups(dir, "audit.log") {
		os.Remove(b.path)
	}
	for _, known := range []*FileLog{log, NewFileLog(nil)} {
		r := startTail(t, &Tail{Path: dir, Resume: &cp, Known: known})
		r.waitN(3)
		time.Sleep(60 * time.Millisecond)
		checkExactlyOnce(t, r.got(), idsN("m", 17, 20))
		p := r.problemList()
		if len(p) != 1 {
			t.Fatalf("problems %v: want one", p)
		}
		if known == log {
			want := fmt.Sprintf("7 events lost (lines 11..17 of %s)", log.Entries()[0].Path)
			if p[0].Lost != 7 || !strings.Contains(p[0].Msg, want) {
				t.Errorf("got %q (lost %d), want it to say %q", p[0].Msg, p[0].Lost, want)
			}
		} else if p[0].Lost != 0 || !strings.Contains(p[0].Msg, "count unknown") {
			t.Errorf("without a record: %q (lost %d), want the count unknown", p[0].Msg, p[0].Lost)
		}
		r.stop()
	}
}

func TestFileLogBoundAndOrder(t *testing.T) {
	var es []FinishedFile
	for i := range DefaultFileLogSize + 10 {
		es = append(es, FinishedFile{Path: fmt.Sprint(i), Fingerprint: fmt.Sprintf("%064x", i), FingerprintLen: 1024, Lines: int64(i)})
	}
	l := NewFileLog(es)
	got := l.Entries()
	if len(got) != DefaultFileLogSize || got[0].Path != "10" {
		t.Fatalf("%d entries from %s: want the newest %d", len(got), got[0].Path, DefaultFileLogSize)
	}
	l.Add(es[20]) // read again after a restart: moves to the end
	got = l.Entries()
	if len(got) != DefaultFileLogSize || got[len(got)-1].Path != "20" || got[10].Path == "20" {
		t.Fatalf("re-added entry not moved to the end: last %s", got[len(got)-1].Path)
	}
	l.Add(FinishedFile{Path: "empty"})
	if got := l.Entries(); got[len(got)-1].Path == "empty" {
		t.Error("a file nothing was read of was recorded")
	}
	if i := findFinished(got, fingerprint{n: 1024, sum: fmt.Sprintf("%064x", 30)}, 0, 0, 0); i < 0 || got[i].Lines != 30 {
		t.Errorf("findFinished: %d", i)
	}
}

func TestPositionsFinishedRoundTrip(t *testing.T) {
	state := t.TempDir()
	// A version 1 file written before "finished" existed still loads.
	old := `{"version":1,"positions":[{"source":"/a","path":"/a/audit.log","device":1,"inode":2,"fingerprint_len":0,"offset":5,"line":1}]}`
	if err := os.WriteFile(filepath.Join(state, PositionsFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	if cp, ok := p.Get("/a"); !ok || cp.Offset != 5 || len(p.Finished("/a")) != 0 {
		t.Fatalf("old file: %+v %v %v", cp, ok, p.Finished("/a"))
	}
	es := []FinishedFile{
		{Path: "/a/audit-2026-11-25T10-00-00.000.log", Dev: 1, Inode: 2, Fingerprint: strings.Repeat("ab", 32), FingerprintLen: 1024, Lines: 15, Bytes: 9000},
		{Path: "/a/audit-2026-11-25T11-00-00.000.log.gz", Dev: 1, Inode: 3, Fingerprint: strings.Repeat("cd", 32), FingerprintLen: 700, Lines: 1, Bytes: 700},
	}
	p.SetFinished("/a", es)
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	p2, err := OpenPositions(state)
	if err != nil {
		t.Fatal(err)
	}
	got := p2.Finished("/a")
	if len(got) != 2 || got[0] != es[0] || got[1] != es[1] {
		t.Fatalf("round trip: %+v, want %+v", got, es)
	}
	if cp, ok := p2.Get("/a"); !ok || cp.Offset != 5 {
		t.Errorf("checkpoint lost in the round trip: %+v", cp)
	}
	if m, err := LoadPositions(state); err != nil || len(m) != 1 {
		t.Errorf("LoadPositions: %v %v", m, err)
	}
}
