package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestE2ESSHMixed: local paths and ssh:// hosts given together are merged
// by time, each event named after where it was read: replay (cp1 over
// ssh, cp2 and cp3 local directories) and watch (one local file, named
// after this host, followed beside two hosts).
func TestE2ESSHMixed(t *testing.T) {
	bin := kauditBin(t)
	binDir := sshHosts(t)
	logs := t.TempDir()
	file := func(h int) string { return filepath.Join(logs, fmt.Sprintf("cp%d", h), "audit.log") }
	var want []string
	for i := 1; i <= 60; i++ {
		appendTo(t, file(i%3+1), sshEvent(i))
		want = append(want, fmt.Sprintf("%s cp%d", evID(i), i%3+1))
	}
	env := append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"))
	idSource := `.auditID + " " + source`

	t.Run("replay", func(t *testing.T) {
		cmd := exec.Command(bin, "replay", "-o", "jsonl", "--jq", idSource, filepath.Join(logs, "cp2")+"/", "ssh://cp1"+logs+"/cp1/", filepath.Join(logs, "cp3"))
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("replay: %v\n%s", err, stderr.String())
		}
		if got := jqStrings(t, string(out)); !slices.Equal(got, want) {
			t.Errorf("mixed replay:\n got %v\nwant %v\nstderr: %s", got, want, stderr.String())
		}
	})

	t.Run("watch", func(t *testing.T) {
		// watch names a local log after this host.
		host, err := os.Hostname()
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			want[i] = strings.Replace(want[i], " cp2", " "+host, 1)
		}
		w := startWatch(t, binDir, func(l []byte) string { return strings.Trim(string(l), `"`) },
			"--jq", idSource, "ssh://cp1"+logs+"/cp1", file(2), "ssh://cp3"+file(3))
		waitUntil(t, "the 60 events written before", func() bool { return w.count() >= 60 })
		for i := 61; i <= 90; i++ {
			appendTo(t, file(i%3+1), sshEvent(i))
			want = append(want, strings.Replace(fmt.Sprintf("%s cp%d", evID(i), i%3+1), " cp2", " "+host, 1))
		}
		waitUntil(t, "all 90 events", func() bool { return w.count() >= 90 })
		w.printedOnce(t, want)
		// Each source's events in their order (the live merge of the
		// sources is exact only once every one delivers: a local file is
		// read at once, an ssh session takes a while to start).
		bySource := func(lines []string) map[string][]string {
			m := map[string][]string{}
			for _, l := range lines {
				id, src, _ := strings.Cut(l, " ")
				m[src] = append(m[src], id)
			}
			return m
		}
		if g, ws := bySource(w.lines()), bySource(want); fmt.Sprint(g) != fmt.Sprint(ws) {
			t.Errorf("per source:\n got %v\nwant %v", g, ws)
		}
	})
}

// jqStrings are the JSON strings --jq printed, one a line, unquoted.
func jqStrings(t *testing.T, out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, `"`) {
			t.Fatalf("not a jq string: %q", l)
		}
		got = append(got, strings.Trim(l, `"`))
	}
	return got
}
