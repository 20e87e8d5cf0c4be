package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// kaudit's exit codes (cmd/kaudit/root.go).
const (
	exitOK    = 0
	exitError = 1
)

// eventKey identifies an audit event as kaudit does.
type eventKey struct{ id, stage, ts string }

// eachLine calls fn with every line (without its newline) of a file, plain
// or gzip (by name).
func eachLine(t *testing.T, path string, fn func(line []byte)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = bytes.NewReader(data)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readKeys reads the (auditID, stage, stageTimestamp) of every line of an
// audit log file, plain or gzip.
func readKeys(t *testing.T, path string) []eventKey {
	t.Helper()
	var keys []eventKey
	eachLine(t, path, func(line []byte) {
		var e struct{ AuditID, Stage, StageTimestamp string }
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s: not JSON: %v", path, err)
		}
		keys = append(keys, eventKey{e.AuditID, e.Stage, e.StageTimestamp})
	})
	return keys
}

// readPrintedKeys is readKeys for what a kaudit process printed before it
// was killed (-9): its last line may be torn mid-write. That event was
// never acknowledged (its position is saved only after the line is
// flushed), so the next run prints it again; a torn line anywhere but at
// the end is still an error.
func readPrintedKeys(t *testing.T, path string) []eventKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	if torn := len(data) - len(complete); torn > 0 {
		t.Logf("%s: last line torn by the kill (%d bytes), not counted", path, torn)
	}
	var keys []eventKey
	for _, line := range bytes.Split(bytes.TrimSuffix(complete, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e struct{ AuditID, Stage, StageTimestamp string }
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s: not JSON: %v", path, err)
		}
		keys = append(keys, eventKey{e.AuditID, e.Stage, e.StageTimestamp})
	}
	return keys
}

// countLines counts the complete lines of a file.
func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		b, err := r.ReadSlice('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			n++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return n
		}
	}
}

// vmRSS is a process's resident memory in KiB.
func vmRSS(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// waitUntil polls cond until it holds; after a generous deadline the test
// fails.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostname is what kaudit puts in kaudit.event_id and host.name.
func hostname() string { h, _ := os.Hostname(); return h }

// evLine is a small audit event line by user with auditID id.
func evLine(id, user string) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id +
		`","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list",` +
		`"user":{"username":"` + user + `","groups":["system:authenticated"]},"sourceIPs":["10.0.0.7"],` +
		`"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},` +
		`"requestReceivedTimestamp":"2026-11-25T17:53:17.123456Z","stageTimestamp":"2026-11-25T17:53:17.223456Z"}`
}

// evID and evUser are the auditID and user of the i-th event writeEvents
// writes.
func evID(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", i) }

func evUser(i int) string {
	if i%2 == 1 {
		return "bob"
	}
	return "alice"
}

// writeEvents writes events from..to-1 (evLine) through lj.
func writeEvents(t *testing.T, lj *lumberjack.Logger, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := lj.Write([]byte(evLine(evID(i), evUser(i)) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
}

// eventListOf is a webhook body holding lines.
func eventListOf(lines ...string) string {
	return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + strings.Join(lines, ",") + `]}`
}

// freePort is a TCP port on 127.0.0.1 that nothing listened on a moment
// ago: the machine may be running other tests' servers on fixed ports.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
