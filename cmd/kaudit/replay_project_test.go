package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/store"
)

// projectionLog writes a generated log of n events (impersonation,
// denials, watches and other long-running verbs with their two stages,
// latency annotations) with, for the headless path's other output, a
// run of events moved far out of time order (the late-events warning)
// and a few bad lines (the problem report).
func projectionLog(t *testing.T, n int) string {
	g := gen.New(gen.Config{Seed: 7})
	var lines [][]byte
	for range n {
		lines = append(lines, bytes.TrimRight(g.Next(nil), "\n"))
	}
	lines = append(lines[300:], lines[:300]...) // 300 events more than the merge's window (4,096) late
	lines = append(lines, []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1"`), []byte("not json"))
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProjectionSameOutput: a headless replay whose store keeps only its
// view's columns prints the same bytes, stdout and stderr, with the same
// exit code, as one keeping every column: every view, in table, json and
// jsonl, with and without --top, over every public fixture, the other
// test logs and a generated log. Runs with a filter (no projection) are
// checked alike. Each projected run is checked to have had a projected
// store (and the others not).
func TestProjectionSameOutput(t *testing.T) {
	fixturesAll, err := filepath.Glob(fixtures + "*")
	if err != nil {
		t.Fatal(err)
	}
	var inputs [][]string
	for _, f := range fixturesAll {
		if !strings.HasSuffix(f, ".md") && !strings.HasSuffix(f, ".tsv") {
			inputs = append(inputs, []string{f})
		}
	}
	// The sample's rotated .gz files (overlapping the current log) take a
	// quarter of a second a run: its own shorter list of runs, below.
	const sample = "../../testdata/sample"
	generated := projectionLog(t, 4600)
	inputs = append(inputs,
		[]string{sample},
		[]string{"testdata/twoservers/cp1", "testdata/twoservers/cp2"},
		[]string{"../../testdata/realcluster/rbac-workload.jsonl"},
		[]string{generated},
	)
	type run struct {
		args      []string
		projected bool
	}
	var runs []run
	for _, v := range viewNames() {
		for _, format := range []string{"table", "json", "jsonl"} {
			for _, top := range []string{"0", "5"} {
				runs = append(runs, run{[]string{"replay", "--view", v, "-o", format, "--top", top}, true})
			}
		}
		runs = append(runs, run{[]string{"replay", "--view", v, "-o", "table", "-f", "verb:get,list,watch -user:bob"}, false})
	}
	runs = append(runs,
		run{[]string{"replay", "--view", "users", "-o", "table", "--since", "2000-01-01T00:00:00Z"}, false},
		run{[]string{"replay", "--jq", ".verb"}, false},
	)
	// Which runs over which input: all but over the sample (the users view
	// in every format, the others as a table); with the race detector on,
	// every format and --top over the two servers, and the table and json
	// with --top over each other input. A run that is not projected takes
	// the same path either way, whatever it reads: it is checked to leave
	// projection off over the generated log and the two servers only (a
	// third of the test's runs otherwise, for nothing more).
	wanted := func(in, args []string, projected bool) bool {
		plain := slices.Equal(args[3:], []string{"-o", "table", "--top", "0"}) || slices.Equal(args[3:], []string{"-o", "json", "--top", "5"})
		switch {
		case !projected:
			return in[0] == generated || strings.HasPrefix(in[0], "testdata/twoservers")
		case in[0] == sample:
			return args[2] == "users" || slices.Equal(args[3:], []string{"-o", "table", "--top", "0"})
		case raceBuild:
			return plain || strings.HasPrefix(in[0], "testdata/twoservers")
		}
		return true
	}
	var sawStore store.Columns
	var sawFields audit.Fields
	var stores int
	onHeadlessStore = func(st *store.Store, f audit.Fields) { sawStore, sawFields, stores = st.Projection(), f, stores+1 }
	defer func() { projectStore, onHeadlessStore = true, nil }()
	printed, ran := 0, 0
	for _, in := range inputs {
		for _, r := range runs {
			if !wanted(in, r.args, r.projected) {
				continue
			}
			args := append(append([]string{}, r.args...), in...)
			ran++
			projectStore = false
			wantCode, want, wantErr := kaudit(t, "", args...)
			stores, sawStore, sawFields, projectStore = 0, 0, 0, true
			code, got, gotErr := kaudit(t, "", args...)
			name := fmt.Sprintf("%q", args)
			switch {
			case code != wantCode || got != want || gotErr != wantErr:
				t.Errorf("%s: projected exit %d:\n%.800s\n%.400s\nfull exit %d:\n%.800s\n%.400s", name, code, got, gotErr, wantCode, want, wantErr)
			case stores != 1:
				t.Errorf("%s: %d headless stores made", name, stores)
			case r.projected == (sawStore == store.AllColumns):
				t.Errorf("%s: the store kept %v", name, sawStore)
			case r.projected != (sawFields != 0 && sawFields != audit.AllFields):
				t.Errorf("%s: the replay decoded fields %b", name, sawFields)
			}
			if strings.Count(want, "\n") > 2 {
				printed++
			}
		}
	}
	if printed < 300 {
		t.Errorf("only %d of %d runs printed more than 2 lines: the comparison shows little", printed, ran)
	}
}
