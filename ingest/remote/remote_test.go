package remote

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Target
		bad  bool
	}{
		{in: "ssh://cp1", want: Target{Host: "cp1"}},
		{in: "ssh://cp1/var/log/kubernetes/apiserver/", want: Target{Host: "cp1", Path: "/var/log/kubernetes/apiserver/"}},
		{in: "ssh://admin@10.0.0.5:2222/var/log/audit.log", want: Target{User: "admin", Host: "10.0.0.5", Port: 2222, Path: "/var/log/audit.log"}},
		{in: "ssh://[::1]:22/x", want: Target{Host: "::1", Port: 22, Path: "/x"}},
		{in: "ssh://-oProxyCommand=x/", bad: true},
		{in: "ssh://-u@h/", bad: true},
		{in: "ssh://u:pw@h/", bad: true},
		{in: "ssh://h:0/", bad: true},
		{in: "ssh:///x", bad: true},
		{in: "http://h/", bad: true},
	} {
		got, err := Parse(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", c.in, got)
			}
			continue
		}
		c.want.URL = c.in
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestArgs(t *testing.T) {
	tg, _ := Parse("ssh://admin@cp1:2222/p")
	got := tg.args(`cat -- 'a'\''b'`)
	want := []string{"-o", "BatchMode=yes", "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3",
		"-l", "admin", "-p", "2222", "--", "cp1", `sh -c 'cat -- '\''a'\''\'\'''\''b'\'''`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("args:\n got %q\nwant %q", got, want)
	}
	tg, _ = Parse("ssh://cp2")
	if got := tg.args("x"); !slices.Equal(got[len(got)-3:], []string{"--", "cp2", "sh -c 'x'"}) || slices.Contains(got, "-p") || slices.Contains(got, "-l") {
		t.Errorf("args without user and port: %q", got)
	}
}

// event is an audit event line at second s (UTC, 2026-01-01T00:00:s).
func event(id string, s int) string {
	ts := time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC).Format(time.RFC3339Nano)
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
		`","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"},` +
		`"requestReceivedTimestamp":"` + ts + `","stageTimestamp":"` + ts + `"}` + "\n"
}

// fakeSSH points SSH at the fake client and returns its log's path.
func fakeSSH(t *testing.T) (log string) {
	t.Helper()
	bin, err := filepath.Abs("testdata/fake-ssh")
	if err != nil {
		t.Fatal(err)
	}
	old, oldMin := SSH, MinBackoff
	SSH, MinBackoff = bin, 10*time.Millisecond
	t.Cleanup(func() { SSH, MinBackoff = old, oldMin })
	log = filepath.Join(t.TempDir(), "ssh.log")
	t.Setenv("FAKE_SSH_LOG", log)
	t.Setenv("FAKE_SSH_FAIL", "")
	return log
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeGz(t *testing.T, path, data string) {
	t.Helper()
	write(t, path, "")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write([]byte(data))
	zw.Close()
	f.Close()
}

// collector gathers what a Source hands on.
type collector struct {
	mu       sync.Mutex
	ids      []string
	sources  []string
	warnings []string
	problems []ingest.Problem
}

func (c *collector) emit(b ingest.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range b.Events {
		c.ids = append(c.ids, e.AuditID)
		if e.Source == "" {
			c.ids = append(c.ids, "untagged")
		}
		c.sources = append(c.sources, e.Source)
	}
	return nil
}

func (c *collector) got() ([]string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids), slices.Clone(c.warnings)
}

func (c *collector) wire(s *Source) {
	s.Warn = func(m string) { c.mu.Lock(); c.warnings = append(c.warnings, m); c.mu.Unlock() }
	s.OnProblem = func(p ingest.Problem) { c.mu.Lock(); c.problems = append(c.problems, p); c.mu.Unlock() }
}

func targets(t *testing.T, urls ...string) []Target {
	var ts []Target
	for _, u := range urls {
		tg, err := Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tg)
	}
	return ts
}

// TestReplayMerge: two hosts' directories (rotated backups, one gzipped)
// come out as one stream in time order, each file in rotation order.
func TestReplayMerge(t *testing.T) {
	log := fakeSSH(t)
	dir := t.TempDir()
	// cp1 logs even seconds, cp2 odd ones; the backups hold the first half.
	var cp1old, cp1cur, cp2old, cp2cur strings.Builder
	for s := range 40 {
		cur := map[bool]*strings.Builder{true: &cp1old, false: &cp2old}[s%2 == 0]
		if s >= 20 {
			cur = map[bool]*strings.Builder{true: &cp1cur, false: &cp2cur}[s%2 == 0]
		}
		cur.WriteString(event(fmt.Sprintf("e%02d", s), s))
	}
	writeGz(t, filepath.Join(dir, "cp1/audit-2026-01-01T00-00-20.000.log.gz"), cp1old.String())
	write(t, filepath.Join(dir, "cp1/audit.log"), cp1cur.String())
	write(t, filepath.Join(dir, "cp1/other.txt"), "not a log\n")
	write(t, filepath.Join(dir, "cp2/audit.log.1"), cp2old.String())
	write(t, filepath.Join(dir, "cp2/audit.log"), strings.TrimSuffix(cp2cur.String(), "\n")) // last line without newline
	var c collector
	src := &Source{Targets: targets(t, "ssh://cp1"+dir+"/cp1/", "ssh://admin@cp2:2222"+dir+"/cp2")}
	c.wire(src)
	if err := src.Run(context.Background(), c.emit); err != nil {
		t.Fatal(err)
	}
	ids, warnings := c.got()
	var want []string
	for s := range 40 {
		want = append(want, fmt.Sprintf("e%02d", s))
	}
	if !slices.Equal(ids, want) {
		t.Errorf("merged:\n got %v\nwant %v", ids, want)
	}
	for i, src := range c.sources {
		if want := map[bool]string{true: "cp1", false: "cp2"}[i%2 == 0]; src != want {
			t.Errorf("event %d: source %q, want %q", i, src, want)
		}
	}
	if len(warnings) != 0 || len(c.problems) != 0 {
		t.Errorf("warnings %q, problems %v", warnings, c.problems)
	}
	calls, _ := os.ReadFile(log)
	for _, w := range []string{"-l admin -p 2222 -- cp2 ", "BatchMode=yes", "exec cat -- '\\''" + dir + "/cp1/audit-2026-01-01T00-00-20.000.log.gz'\\''"} {
		if !strings.Contains(string(calls), w) {
			t.Errorf("ssh calls lack %q:\n%s", w, calls)
		}
	}
}

// TestReplayResume: a session dropped in the middle of a line is reported
// and resumed at the end of the last complete line (tail -c +N for a plain
// file, skipping for a gzip one): every event once.
func TestReplayResume(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprint("gz=", gz), func(t *testing.T) {
			log := fakeSSH(t)
			dir := t.TempDir()
			var b strings.Builder
			var want []string
			for s := range 30 {
				id := fmt.Sprintf("e%02d", s)
				b.WriteString(event(id, s))
				want = append(want, id)
			}
			name := filepath.Join(dir, "audit.log")
			if gz {
				name += ".gz"
				writeGz(t, name, b.String())
			} else {
				write(t, name, b.String())
			}
			fail := filepath.Join(dir, "fail")
			write(t, fail, "")
			t.Setenv("FAKE_SSH_FAIL", fail)
			t.Setenv("FAKE_SSH_MATCH", "exec cat")
			t.Setenv("FAKE_SSH_BYTES", map[bool]string{false: "1000", true: "600"}[gz])
			var c collector
			src := &Source{Targets: targets(t, "ssh://cp1"+dir)}
			c.wire(src)
			if err := src.Run(context.Background(), c.emit); err != nil {
				t.Fatal(err)
			}
			ids, warnings := c.got()
			if !slices.Equal(ids, want) {
				t.Errorf("got %v\nwant %v", ids, want)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "exit status 255") || !strings.Contains(warnings[0], "closed by remote host") {
				t.Errorf("warnings: %q", warnings)
			}
			calls, _ := os.ReadFile(log)
			resumed := strings.Contains(string(calls), "tail -c +")
			if resumed == gz {
				t.Errorf("gz=%v: resumed with tail -c: %v\n%s", gz, resumed, calls)
			}
		})
	}
}

// TestFollowKill: two hosts followed live, merged by time; kill -9 of one
// session is reported and resumed with every event exactly once: at the
// byte offset in the file (followScript) when the host has no kaudit, by dropping
// the first N bytes of a restarted remote kaudit watch when it has.
func TestFollowKill(t *testing.T) {
	for _, remoteKaudit := range []bool{false, true} {
		t.Run(fmt.Sprint("kaudit=", remoteKaudit), func(t *testing.T) { testFollowKill(t, remoteKaudit) })
	}
}

func testFollowKill(t *testing.T, remoteKaudit bool) {
	log := fakeSSH(t)
	dir := t.TempDir()
	t.Setenv("PATH", "/usr/bin:/bin") // no kaudit on the "remote" host
	if remoteKaudit {
		// A stand-in for kaudit watch -o jsonl: the file's lines from the start.
		write(t, filepath.Join(dir, "bin/kaudit"), "#!/bin/sh\nfor a; do last=$a; done\nexec tail -F -c +1 \"$last\"\n")
		os.Chmod(filepath.Join(dir, "bin/kaudit"), 0o755)
		t.Setenv("PATH", filepath.Join(dir, "bin")+":/usr/bin:/bin")
	}
	cp1, cp2 := filepath.Join(dir, "cp1/audit.log"), filepath.Join(dir, "cp2/audit.log")
	write(t, cp1, "")
	write(t, cp2, "")
	var want []string
	appendEvents := func(from, to int) {
		for s := from; s < to; s++ {
			id := fmt.Sprintf("e%02d", s)
			want = append(want, id)
			f, err := os.OpenFile(map[bool]string{true: cp1, false: cp2}[s%2 == 0], os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(event(id, s))
			f.Close()
		}
	}
	appendEvents(0, 20)
	var c collector
	src := &Source{Targets: targets(t, "ssh://cp1"+dir+"/cp1", "ssh://cp2"+cp2), Follow: true, Window: Window{Hold: 5 * time.Second}}
	c.wire(src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, c.emit) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}()
	waitFor(t, &c, want)
	appendEvents(20, 30)
	waitFor(t, &c, want)

	pid := childWith(t, dir+"/cp1")
	if err := syscallKill(pid); err != nil {
		t.Fatal(err)
	}
	appendEvents(30, 40)
	waitFor(t, &c, want)
	_, warnings := c.got()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "ssh://cp1") || !strings.Contains(warnings[0], "signal: killed") {
		t.Errorf("warnings: %q", warnings)
	}
	calls, _ := os.ReadFile(log)
	resumedAtOffset := regexp.MustCompile(`ino='\\''\d+'\\''; off=[1-9]`).Match(calls) // in the file, after its first byte
	hasKaudit := strings.Contains(string(calls), "kaudit watch -o jsonl --no-state --history '\\''current'\\''")
	if resumedAtOffset == remoteKaudit || !hasKaudit || strings.Count(string(calls), "-- cp1 ") != 2 {
		t.Errorf("remote kaudit %v: resumed at offset %v; ssh calls:\n%s", remoteKaudit, resumedAtOffset, calls)
	}
}

// waitFor waits until c got exactly want, in that order.
func waitFor(t *testing.T, c *collector, want []string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ids, _ := c.got()
		if len(ids) >= len(want) {
			if !slices.Equal(ids, want) {
				t.Fatalf("got %v\nwant %v", ids, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: got %v\nwant %v", ids, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplayMixedLocal: a host over ssh and two local directories (each
// one host's log) come out as one stream in time order, each event named
// after where it was read; a missing local path is a problem, not the end.
func TestReplayMixedLocal(t *testing.T) {
	fakeSSH(t)
	dir := t.TempDir()
	// cp1 (remote) logs seconds 0, 3, 6…; cp2 (local) 1, 4, 7…; cp3 (local) 2, 5, 8…
	var logs [3]strings.Builder
	for s := range 30 {
		logs[s%3].WriteString(event(fmt.Sprintf("e%02d", s), s))
	}
	for i := range logs {
		write(t, filepath.Join(dir, fmt.Sprintf("cp%d/audit.log", i+1)), logs[i].String())
	}
	var c collector
	local := &ingest.Replay{Paths: []string{filepath.Join(dir, "cp2"), filepath.Join(dir, "cp3") + "/", filepath.Join(dir, "missing")}}
	src := &Source{Targets: targets(t, "ssh://cp1"+dir+"/cp1/"), Local: []Local{{Name: "local", Replay: local}}}
	c.wire(src)
	if err := src.Run(context.Background(), c.emit); err != nil {
		t.Fatal(err)
	}
	ids, _ := c.got()
	var want []string
	for s := range 30 {
		want = append(want, fmt.Sprintf("e%02d", s))
	}
	if !slices.Equal(ids, want) {
		t.Errorf("merged:\n got %v\nwant %v", ids, want)
	}
	for i, got := range c.sources {
		if want := fmt.Sprintf("cp%d", i%3+1); got != want {
			t.Errorf("event %d: source %q, want %q", i, got, want)
		}
	}
	if len(c.problems) != 1 || !strings.Contains(c.problems[0].Path, "missing") {
		t.Errorf("problems %v, want one for the missing path", c.problems)
	}
}
