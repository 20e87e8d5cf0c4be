package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// checkWebhook compares what kaudit serve printed (out) from the API
// server's webhook with the server's log files: the same (auditID, stage,
// stageTimestamp) set for every event before cut, taken once the webhook
// had time to flush (the API server may drop its last batch at shutdown;
// events after the cut are counted and reported, not compared), nothing
// received that the log lacks, and the same denials view from either.
func checkWebhook(t *testing.T, bin, out, state string, logs []string, cut time.Time) {
	fileKeys := map[eventKey]bool{}
	for _, p := range logs {
		for _, k := range readKeys(t, p) {
			fileKeys[k] = true
		}
	}
	hookKeys := map[eventKey]bool{}
	hookLines := readKeys(t, out)
	for _, k := range hookLines {
		hookKeys[k] = true
	}
	before := func(k eventKey) bool {
		ts, err := time.Parse(time.RFC3339Nano, k.ts)
		if err != nil {
			t.Fatalf("stageTimestamp %q: %v", k.ts, err)
		}
		return ts.Before(cut)
	}
	var missing, extra, fileAfter, hookAfter, fileOnlyAfter int
	for k := range fileKeys {
		switch {
		case before(k) && !hookKeys[k]:
			missing++
		case !before(k):
			fileAfter++
			if !hookKeys[k] {
				fileOnlyAfter++
			}
		}
	}
	for k := range hookKeys {
		if !fileKeys[k] {
			extra++
		}
		if !before(k) {
			hookAfter++
		}
	}
	t.Logf("log files: %d events in %d files; webhook: %d lines, %d distinct; before the cut %d in the log, missing from the webhook %d; "+
		"after the cut (shutdown) %d in the log, %d received, %d only in the log; received but not in the log: %d",
		len(fileKeys), len(logs), len(hookLines), len(hookKeys), len(fileKeys)-fileAfter, missing, fileAfter, hookAfter, fileOnlyAfter, extra)
	if missing > 0 || extra > 0 {
		t.Errorf("webhook and log differ: %d logged events before the cut were not received, %d received events are not in the log", missing, extra)
	}
	if len(fileKeys) < 500 || len(logs) < 2 {
		t.Errorf("only %d events in %d files: the workload did not run", len(fileKeys), len(logs))
	}

	// The denials view, from either source, up to the cut.
	until := cut.UTC().Format(time.RFC3339Nano)
	denials := func(paths ...string) string {
		b, err := exec.Command(bin, append([]string{"replay", "--view", "denials", "-o", "json", "--until", until}, paths...)...).Output()
		if err != nil {
			t.Fatalf("replay %v: %v", paths, err)
		}
		return string(b)
	}
	fromLog, fromHook := denials(logs...), denials(out)
	if fromLog != fromHook {
		t.Errorf("denials differ:\nlog files:\n%s\nwebhook:\n%s", fromLog, fromHook)
	}
	rows := strings.Count(fromLog, `"subject":`)
	if rows == 0 {
		t.Errorf("no denials in the log: %s", fromLog)
	}
	t.Logf("denials view (identical from both sources): %d rows, %d bytes", rows, len(fromLog))

	// Both sources together: each event once.
	union := map[eventKey]bool{}
	for k := range fileKeys {
		union[k] = true
	}
	for k := range hookKeys {
		union[k] = true
	}
	both, err := exec.Command(bin, append([]string{"replay", "-o", "jsonl"}, append(logs, out)...)...).Output()
	if err != nil {
		t.Fatalf("replay of both: %v", err)
	}
	if n := strings.Count(string(both), "\n"); n != len(union) {
		t.Errorf("replay of the log files and the webhook output printed %d events, want %d (each once)", n, len(union))
	}

	code, st, _ := kaudit(t, "status", "--state-dir", state)
	t.Logf("kaudit status:\n%s", st)
	if code != exitOK || !strings.Contains(st, "cert:kube-apiserver@127.0.0.1") {
		t.Errorf("status (exit %d) does not name the API server as last sender", code)
	}
}
