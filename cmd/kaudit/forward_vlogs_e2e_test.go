package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
)

// victoriaLogs runs a real VictoriaLogs on 127.0.0.1:port.
func victoriaLogs(t *testing.T, port int) string {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(receiversBin(t, "victoria-logs"), "-storageDataPath="+t.TempDir(), "-httpListenAddr="+addr,
		"-retentionPeriod=100y", "-loggerLevel=WARN")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatal("VictoriaLogs did not listen")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vlQuery runs a LogsQL query and returns its rows.
func vlQuery(t *testing.T, base, q string) []map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/select/logsql/query?limit=1000000&query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rows []map[string]string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r map[string]string
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("VictoriaLogs answer: %v: %.200s", err, sc.Bytes())
		}
		rows = append(rows, r)
	}
	return rows
}

// TestE2EForwardVictoriaLogs: replay --forward to a real VictoriaLogs over
// both protocols at once — OTLP/HTTP and the Datadog v2 intake, which it
// parses independently of kaudit — then read everything back through its
// query API: per protocol, every event once, the message byte-identical to
// the line, the time = stageTimestamp, the attributes and tags mapped.
func TestE2EForwardVictoriaLogs(t *testing.T) {
	e2e(t)
	base := victoriaLogs(t, 30020)
	dir, state := t.TempDir(), t.TempDir()
	const n, cluster = 2000, "vl"
	w := &written{line: map[string]string{}}
	g := gen.New(gen.Config{Seed: 23})
	f, err := os.Create(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var line []byte
	for range n {
		line = g.Next(line[:0])
		w.add(cluster, line)
		f.Write(line)
	}
	f.Close()
	t.Setenv("DD_API_KEY", "test-key")
	code, _, errOut := kaudit(t, "", "replay", "-o", "table", "--view", "verbs", "--state-dir", state, "--cluster-name", cluster,
		"--forward", "otlp+http://"+base[len("http://"):]+"/insert/opentelemetry/v1/logs",
		"--forward", "datadog://datadoghq.eu", "--forward-endpoint", base+"/insert/datadog/api/v2/logs",
		"--forward-tag", "env:e2e", filepath.Join(dir, "audit.log"))
	if code != exitOK {
		t.Fatalf("replay exit %d: %s", code, errOut)
	}
	var otlpRows, ddRows []map[string]string
	for deadline := time.Now().Add(30 * time.Second); ; {
		otlpRows = vlQuery(t, base, `service.name:="kube-apiserver"`)
		ddRows = vlQuery(t, base, `ddsource:="kubernetes.audit"`)
		if len(otlpRows) >= n && len(ddRows) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	check := func(proto string, rows []map[string]string, precision time.Duration) {
		t.Helper()
		seen := map[string]bool{}
		for _, r := range rows {
			id := r["kaudit.event_id"]
			want, ok := w.line[id]
			if !ok || seen[id] {
				t.Fatalf("%s: unknown or repeated event id %q", proto, id)
			}
			seen[id] = true
			if r["_msg"] != want {
				t.Fatalf("%s: event %s: message differs from the line written", proto, id)
			}
			evs, err := audit.Decode([]byte(want), nil)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := time.Parse(time.RFC3339Nano, r["_time"])
			if err != nil || !ts.Equal(evs[0].StageTime.Truncate(precision)) {
				t.Fatalf("%s: event %s: _time %s, stageTimestamp %v", proto, id, r["_time"], evs[0].StageTime)
			}
		}
		if len(seen) != n {
			t.Fatalf("%s: %d events in VictoriaLogs, want %d", proto, len(seen), n)
		}
	}
	check("otlp", otlpRows, time.Nanosecond)
	check("datadog", ddRows, time.Millisecond)
	o, d := otlpRows[0], ddRows[0]
	if o["k8s.cluster.name"] != cluster || o["k8s.audit.verb"] == "" || o["k8s.audit.stage"] == "" || o["host.name"] != hostname() {
		t.Errorf("otlp attributes: %v", o)
	}
	if d["kube_cluster_name"] != cluster || d["env"] != "e2e" || d["service"] != "audit" || d["hostname"] != hostname() {
		t.Errorf("datadog fields: %v", d)
	}
	t.Logf("VictoriaLogs holds %d events sent over OTLP and %d over the Datadog intake, all byte-identical with their times", len(otlpRows), len(ddRows))
}
