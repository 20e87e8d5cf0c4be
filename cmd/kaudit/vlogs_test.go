package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// fakeVlogs answers kaudit's LogsQL queries with the lines of path as the
// records' bodies (every record, whatever the query: push-down is tested
// in package vlogs), counting extra more in the stats answer than it has.
func fakeVlogs(t *testing.T, path string, extra int) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var records []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			b, _ := json.Marshal(map[string]string{"_msg": line, "_time": "2026-01-15T09:00:00Z"})
			records = append(records, string(b))
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.FormValue("query"), "| stats ") {
			fmt.Fprintf(w, `{"t0":"2026-01-15T09:00:00Z","t1":"2026-01-15T09:00:00Z","n":"%d"}`+"\n", len(records)+extra)
			return
		}
		for _, rec := range records {
			fmt.Fprintln(w, rec)
		}
	}))
	t.Cleanup(srv.Close)
	return "vlogs://" + strings.TrimPrefix(srv.URL, "http://")
}

// TestReplayVlogs: replay vlogs:// prints the tables of the file whose
// events the server holds; a partial answer prints them and fails.
func TestReplayVlogs(t *testing.T) {
	path := fixtures + "audit2rbac-demo-v1.jsonl"
	for _, view := range []string{"users", "denials", "latency"} {
		_, want, _ := kaudit(t, "", "replay", "-o", "json", "--view", view, path)
		code, got, errOut := kaudit(t, "", "replay", "-o", "json", "--view", view, fakeVlogs(t, path, 0))
		if code != exitOK || got != want {
			t.Fatalf("%s: exit %d, %s\n%s\nwant\n%s", view, code, errOut, got, want)
		}
		if !strings.Contains(errOut, "kaudit: vlogs: ") {
			t.Errorf("no progress line: %q", errOut)
		}
	}
	_, want, _ := kaudit(t, "", "replay", "-o", "json", "--view", "users", path)
	code, got, errOut := kaudit(t, "", "replay", "-o", "json", "--view", "users", fakeVlogs(t, path, 1))
	if code != exitError || got != want || !strings.Contains(errOut, "partial result") {
		t.Fatalf("partial: exit %d, stderr %q", code, errOut)
	}
}

func TestReplayVlogsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"replay", "vlogs://127.0.0.1:1", fixtures + "audit2rbac-demo-v1.jsonl"},
		{"replay", "vlogs://user:pw@127.0.0.1:1"},
		{"replay", "--tenant", "a:b", "vlogs://127.0.0.1:1"},
	} {
		if code, _, errOut := kaudit(t, "", args...); code != exitUsage {
			t.Errorf("%q: exit %d (%s)", args, code, errOut)
		}
	}
}
