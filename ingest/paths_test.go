package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExpandPathsOrder(t *testing.T) {
	dir := t.TempDir()
	names := []string{
		"audit.log",
		"audit-2026-11-25T17-53-17.123.log.gz",
		"audit-2026-11-24T01-00-00.000.log",
		"audit-2026-11-25T09-00-00.500.log",
		"audit-2026-11-25T09-00-00.500.log.gz", // mid-compression: read the .log only
		"audit-2026-11-23T23-59-59.999.log.gz",
		"audit.log.1",
		"audit.log.2.gz",
		"audit.log.10.gz",
		"audit.log-20261120",
		"audit-webhook.log",
		"audit-webhook-2026-11-01T00-00-00.000.log",
		"notes.txt",
		"audit-policy.yaml",
		"audit.log.swp",
		"kube-apiserver.log",
		"audit.logfile",
	}
	for _, n := range names {
		writeFile(t, dir, n, "")
	}
	if err := os.Mkdir(filepath.Join(dir, "audit-dir.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "audit.log.1"), filepath.Join(dir, "audit.log.3")); err != nil {
		t.Fatal(err)
	}
	files, probs := ExpandPaths([]string{dir, "-", filepath.Join(dir, "notes.txt"), filepath.Join(dir, "nope")})
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	want := []string{
		"audit-webhook-2026-11-01T00-00-00.000.log",
		"audit-webhook.log",
		"audit-2026-11-23T23-59-59.999.log.gz",
		"audit-2026-11-24T01-00-00.000.log",
		"audit-2026-11-25T09-00-00.500.log",
		"audit-2026-11-25T17-53-17.123.log.gz",
		"audit.log-20261120",
		"audit.log.10.gz",
		"audit.log.3",
		"audit.log.2.gz",
		"audit.log.1",
		"audit.log",
		"-",
		"notes.txt", // named explicitly: read whatever its name
	}
	if !eq(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	// Files that may be exports are sniffed: these empty ones are not
	// audit data, said and counted (Skipped), not read.
	var pgot []string
	for _, p := range probs {
		pgot = append(pgot, filepath.Base(p.Path)+" "+p.Kind.String())
	}
	if want := []string{"kube-apiserver.log skipped", "notes.txt skipped", "nope unreadable"}; !eq(pgot, want) {
		t.Errorf("problems %v, want %q", probs, want)
	}
}

func TestParseLogName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
		want logName
	}{
		{"audit.log", true, logName{base: "audit.log", rank: 2}},
		{"audit.log.gz", true, logName{base: "audit.log", rank: 2}},
		{"audit-2026-11-25T17-53-17.123.log", true, logName{base: "audit.log", key: "2026-11-25T17-53-17.123"}},
		{"audit-x-2026-11-25T17-53-17.123.log.gz", true, logName{base: "audit-x.log", key: "2026-11-25T17-53-17.123"}},
		{"audit-2026-13-25T17-53-17.123.log", true, logName{base: "audit-2026-13-25T17-53-17.123.log", rank: 2}}, // not a time
		{"audit.log.7", true, logName{base: "audit.log", rank: 1, num: 7}},
		{"audit.log.7.gz", true, logName{base: "audit.log", rank: 1, num: 7}},
		{"audit.log-2026112501", true, logName{base: "audit.log", key: "2026112501"}},
		{"audit.log.old", false, logName{}},
		{"audit.log.-1", false, logName{}},
		{"myaudit.log", false, logName{}},
		{"audit.json", false, logName{}},
	} {
		got, ok := parseLogName(tt.name)
		got.name = ""
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseLogName(%q) = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestReplayDirectory reads a rotated directory, plain and gzip, oldest
// first, and positions name each file.
func TestReplayDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "audit-2026-11-24T01-00-00.000.log.gz", gz(t, lines(ev("1"), ev("2"))))
	writeFile(t, dir, "audit-2026-11-25T09-00-00.500.log", lines(ev("3")))
	writeFile(t, dir, "audit-2026-11-25T09-00-00.500.log.gz", gz(t, lines(ev("3"))))
	writeFile(t, dir, "audit.log", lines(ev("4"), ev("5")))
	res := run(t, &Replay{Paths: []string{dir}, Workers: 2})
	if got := res.ids(); !eq(got, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("events %q", got)
	}
	if res.sum.Files != 3 || len(res.problems) != 0 {
		t.Errorf("summary %+v, problems %v", res.sum, res.problems)
	}
	var paths []string
	for _, b := range res.batches {
		paths = append(paths, filepath.Base(b.Pos.Path))
		if _, isSpool := b.Raw.(*Spool); isSpool != (filepath.Ext(b.Pos.Path) == ".gz") {
			t.Errorf("%s: Raw is %T", b.Pos.Path, b.Raw)
		}
		if b.Pos.Inode == 0 {
			t.Errorf("%s: no inode", b.Pos.Path)
		}
	}
	if !eq(paths, []string{"audit-2026-11-24T01-00-00.000.log.gz", "audit-2026-11-25T09-00-00.500.log", "audit.log"}) {
		t.Errorf("batch paths %q", paths)
	}
}
