package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/kaudit/kaudit/forward"
)

// receiversBin is where scripts/receivers/build.sh puts the real receivers.
func receiversBin(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("KAUDIT_RECEIVERS_BIN")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "kaudit-receivers", "bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: not built (run bash scripts/receivers/build.sh): %v", p, err)
	}
	return p
}

// collector is a real OpenTelemetry Collector (OTLP/HTTP receiver, file
// exporter) on 127.0.0.1:port.
type collector struct {
	t     *testing.T
	bin   string
	dir   string
	outs  []string // the output of each start, in order
	port  int
	extra string
	cmd   *exec.Cmd
}

func (c *collector) url() string { return "otlp+http://127.0.0.1:" + strconv.Itoa(c.port) }

// newCollector starts one; extra is more YAML for its OTLP/HTTP protocol
// section (tls: …), indented to sit under "http:".
func newCollector(t *testing.T, port int, extra ...string) *collector {
	dir := t.TempDir()
	c := &collector{t: t, bin: receiversBin(t, "otelcol-kaudit"), dir: dir, port: port, extra: strings.Join(extra, "\n        ")}
	c.start()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "collector.log"))
			t.Logf("collector log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
		}
	})
	return c
}

// start starts the collector, writing to a new file (the file exporter
// truncates its file when it starts).
func (c *collector) start() {
	c.t.Helper()
	out := filepath.Join(c.dir, fmt.Sprintf("logs-%d.jsonl", len(c.outs)))
	c.outs = append(c.outs, out)
	cfg := filepath.Join(c.dir, "config.yaml")
	conf := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
        %s
exporters:
  file:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, c.port, c.extra, out)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.cmd = exec.Command(c.bin, "--config", cfg)
	logf, err := os.OpenFile(filepath.Join(c.dir, "collector.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer logf.Close()
	c.cmd.Stderr = logf // shown if the test fails
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(c.port), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("collector did not listen on %d: %v", c.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the collector with SIGTERM (its file exporter flushes).
func (c *collector) stop() {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
	c.cmd = nil
}

// received is one log record as the collector's file exporter wrote it.
type received struct {
	id, body string
	ts       time.Time
	dets     []string // kaudit.detections
}

// collected parses the file exporter's outputs (one ExportLogsServiceRequest
// as JSON per line; a partly written last line is left for later).
func (c *collector) collected() []received {
	c.t.Helper()
	var out []received
	for _, o := range c.outs {
		out = append(out, c.read(o)...)
	}
	return out
}

func (c *collector) read(path string) []received {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		c.t.Fatal(err)
	}
	var out []received
	var um plog.JSONUnmarshaler
	for line := range bytes.Lines(data) {
		if line[len(line)-1] != '\n' {
			break
		}
		ld, err := um.UnmarshalLogs(line)
		if err != nil {
			c.t.Fatalf("collector output: %v", err)
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					id, _ := lr.Attributes().Get(forward.AttrEventID)
					r := received{id: id.Str(), body: lr.Body().Str(), ts: lr.Timestamp().AsTime()}
					if d, ok := lr.Attributes().Get(forward.AttrDetections); ok {
						for _, v := range d.Slice().All() {
							r.dets = append(r.dets, v.Str())
						}
					}
					out = append(out, r)
				}
			}
		}
	}
	return out
}

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
