package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const twoServers = "testdata/twoservers/"

// TestTwoServersGolden: two API servers' logs (one directory per host)
// are merged by time and named after their directories, whatever the
// argument order; the webhook's copy of events read from a file counts
// once.
func TestTwoServersGolden(t *testing.T) {
	cp1, cp2, hook := twoServers+"cp1", twoServers+"cp2", twoServers+"webhook.log"
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"twoservers-users.table", []string{"--view", "users", "-o", "table", cp1, cp2}},
		{"twoservers-users.table", []string{"--view", "users", "-o", "table", cp2, cp1}},
		{"twoservers-users.table", []string{"--view", "users", "-o", "table", hook, cp2, cp1}},
		{"twoservers-sources.table", []string{"--view", "sources", "-o", "table", cp1, cp2, hook}},
		{"twoservers-events.table", []string{"-o", "table", cp2, cp1}},
		{"twoservers-events.table", []string{"-o", "table", cp1, cp2}},
		{"twoservers-named.table", []string{"--view", "sources", "-o", "table", "--source", "east=" + cp1, "--source", "west=" + cp2}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := kaudit(t, "", append([]string{"replay"}, tc.args...)...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, filepath.Join("testdata", "golden", tc.golden), out)
		})
	}
}

// TestSourceTerm: source: selects one host's events, with globs.
func TestSourceTerm(t *testing.T) {
	for filter, want := range map[string]int{"source:cp2": 13, "source:cp*": 40, "-source:cp1": 13, "source:nope": 0,
		`source == "cp2"`: 13, `(source | startswith("cp")) and denied`: 10, `.verb == "get" and source == "cp1"`: 7} {
		code, out, errOut := kaudit(t, "", "replay", "-o", "jsonl", "-f", filter, twoServers+"cp1", twoServers+"cp2")
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", filter, code, errOut)
		}
		if got := strings.Count(out, "\n"); got != want {
			t.Errorf("%s: %d events, want %d", filter, got, want)
		}
	}
}

func TestSourceFlagUsage(t *testing.T) {
	for _, args := range [][]string{{"replay", "--source", "nameonly"}, {"replay"},
		{"watch", "--no-state", "-o", "jsonl", "a.log", "ssh://cp1", "b.log"}, {"replay", "ssh://-oProxyCommand=x/", "a.log"}} {
		if code, _, _ := kaudit(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// TestSourceJQ: --jq programs read the source with the source helper.
func TestSourceJQ(t *testing.T) {
	code, out, errOut := kaudit(t, "", "replay", "--jq", "source", "-f", "user:alice", twoServers+"cp1", twoServers+"cp2")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if c1, c2 := strings.Count(out, "\"cp1\"\n"), strings.Count(out, "\"cp2\"\n"); c1+c2 != 10 || c1 == 0 || c2 == 0 {
		t.Errorf("sources of alice's requests: %d cp1, %d cp2:\n%s", c1, c2, out)
	}
}

// TestLateEventKept: an event written far later than its time (beyond the
// reorder window) is kept, counted once, and said on stderr.
func TestLateEventKept(t *testing.T) {
	var b strings.Builder
	line := func(i, sec int) {
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","verb":"get",`+
			`"user":{"username":"u%d"},"stageTimestamp":"2026-11-25T10:%02d:%02d.000000Z"}`+"\n", i, i%2, sec/60, sec%60)
	}
	for i := range 5000 {
		line(i, 60+i%3000)
	}
	line(5000, 0) // written after 5000 newer events: beyond the window
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kaudit(t, "", "replay", "--view", "users", "-o", "json", path)
	if code != exitOK || !strings.Contains(errOut, "1 events came more than 4096 events out of time order") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, `"requests":2501`) {
		t.Errorf("the late event is not counted: %s", out)
	}
}

// TestCloudClusterSource: a cloud export is named after the cluster its
// envelopes name, unless --source names it.
func TestCloudClusterSource(t *testing.T) {
	const cloud = "../../ingest/cloud/testdata/"
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{cloud + "gke-khi.jsonl", cloud + "cw-firehose.json"}, []string{"sample-cluster", "demo-cluster"}},
		{[]string{"--source", "prod=" + cloud + "gke-khi.jsonl", cloud + "cw-firehose.json"}, []string{"prod", "demo-cluster"}},
	} {
		code, out, errOut := kaudit(t, "", append([]string{"replay", "--view", "sources", "-o", "json"}, tc.args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, `"source":"`+w+`"`) {
				t.Errorf("%v: no source %q in %s", tc.args, w, out)
			}
		}
	}
}

// TestReplayExportDir: `kaudit replay DIR/` reads the cloud exports in the
// directory, whatever their shape, as it reads them named one by one, and
// notes the file that is not audit data.
func TestReplayExportDir(t *testing.T) {
	const cloud = "../../ingest/cloud/testdata/"
	dir := t.TempDir()
	copies := map[string]string{ // fixture -> name in the directory
		"gke-panther.jsonl":         "gke-panther.jsonl",
		"gke-gcloud-array-khi.json": "gcloud-read.json",
		"cw-firehose.json":          "demo-stream-1-2022-11-29-00-09-04-0a1b", // Firehose objects have no extension
		"cw-s3-export.gz":           "000000.gz",
		"aks-eventhubs-sysdig.json": "PT1H.json",
	}
	var files []string
	for from, to := range copies {
		b, err := os.ReadFile(cloud + from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, cloud+from)
	}
	_, all, _ := kaudit(t, "", append([]string{"replay", "-o", "jsonl"}, files...)...)
	want := strings.Count(all, "\n")
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("exported on Monday\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kaudit(t, "", "replay", "-o", "jsonl", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := strings.Count(out, "\n"); got != want || want < 10 {
		t.Errorf("%d events from the directory, %d from its files named one by one", got, want)
	}
	if !strings.Contains(errOut, "notes.txt: not audit data") {
		t.Errorf("notes.txt not noted: %s", errOut)
	}
}
