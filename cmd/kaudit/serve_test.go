package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/internal/testwait"
	"github.com/kaudit/kaudit/webhook"
)

func init() { statsEvery = 50 * time.Millisecond }

// serveRun is kaudit serve running in the background, in process.
type serveRun struct {
	*watchRun
	url string
}

var listeningRE = regexp.MustCompile(`listening on (https?://\S+)`)

// startServe runs kaudit serve with args (plus --listen 127.0.0.1:0 unless
// given) and waits until it listens.
func startServe(t *testing.T, args ...string) *serveRun {
	t.Helper()
	if !strings.Contains(strings.Join(args, " "), "--listen") {
		args = append(args, "--listen", "127.0.0.1:0")
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchRun{cancel: cancel, code: make(chan int, 1), out: &syncBuffer{}, errOut: &syncBuffer{}}
	go func() { w.code <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), w.out, w.errOut) }()
	t.Cleanup(cancel)
	deadline := testwait.Deadline(t)
	for {
		if m := listeningRE.FindStringSubmatch(w.errOut.String()); m != nil {
			return &serveRun{watchRun: w, url: m[1]}
		}
		select {
		case c := <-w.code:
			t.Fatalf("serve exited %d: %s", c, w.errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not listen: %s", w.errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func eventListOf(lines ...string) string {
	return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + strings.Join(lines, ",") + `]}`
}

func postTo(t *testing.T, cl *http.Client, url, body string) int {
	t.Helper()
	resp, err := cl.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeUsage(t *testing.T) {
	p := newTestPKI(t, "kube-apiserver")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--listen", "0.0.0.0:0"}, "not loopback"},
		{[]string{"--listen", ":0", "--tls-cert", p.ServerCert, "--tls-key", p.ServerKey}, "not loopback"},
		{[]string{"--listen", "10.1.2.3:0", "--token-file", "x"}, "in the clear"},
		{[]string{"--tls-cert", p.ServerCert}, "go together"},
		{[]string{"--client-ca", p.CAFile}, "needs --tls-cert"},
		{[]string{"--client-name", "x"}, "needs --client-ca"},
		{[]string{"--token-file", filepath.Join(t.TempDir(), "missing")}, "--token-file"},
		{[]string{"--view", "users", "--jq", "."}, "--jq"},
		{[]string{"--max-memory", "lots"}, "--max-memory"},
		{[]string{"--max-body", "0"}, "positive"},
	} {
		code, _, errOut := kaudit(t, "", append([]string{"serve", "--no-state", "-o", "jsonl"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.msg) {
			t.Errorf("serve %q: exit %d, %q; want %d and %q", tc.args, code, errOut, exitUsage, tc.msg)
		}
	}
}

// TestServeJSONL: events POSTed are printed once each (a retried batch is
// not printed again), the filter applies, and kaudit status shows the
// receiver's counters.
func TestServeJSONL(t *testing.T) {
	state := t.TempDir()
	s := startServe(t, "-o", "jsonl", "-f", "user:alice", "--state-dir", state)
	body := eventListOf(evLine("00000000-0000-0000-0000-000000000001", "alice"), evLine("00000000-0000-0000-0000-000000000002", "bob"),
		evLine("00000000-0000-0000-0000-000000000003", "alice"))
	for range 2 { // the API server retrying the same batch
		if code := postTo(t, http.DefaultClient, s.url, body); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if code := postTo(t, http.DefaultClient, s.url, "{not json"); code != 400 {
		t.Errorf("malformed: %d", code)
	}
	s.waitLines(t, 2)
	time.Sleep(100 * time.Millisecond)
	if code := s.stop(t); code != exitOK {
		t.Fatalf("exit %d: %s", code, s.errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(s.out.String()), "\n")
	want := []string{evLine("00000000-0000-0000-0000-000000000001", "alice"), evLine("00000000-0000-0000-0000-000000000003", "alice")}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("printed:\n%s", s.out.String())
	}
	if !strings.Contains(s.errOut.String(), "400 Bad Request: malformed JSON") {
		t.Errorf("stderr: %s", s.errOut.String())
	}
	code, out, errOut := kaudit(t, "", "status", "--state-dir", state, "-o", "json")
	var rows []statusRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].Receiver == nil {
		t.Fatalf("status: %d %s %s", code, out, errOut)
	}
	r := rows[0].Receiver
	if r.Requests != 2 || r.Events != 6 || r.Rejected[webhook.ReasonMalformed] != 1 || r.LastSender != "127.0.0.1" || r.Listen != s.url {
		t.Errorf("receiver status %+v", r)
	}
	_, out, _ = kaudit(t, "", "status", "--state-dir", state)
	if !strings.Contains(out, "WEBHOOK RECEIVER") || !strings.Contains(out, "1 (malformed=1)") {
		t.Errorf("status table:\n%s", out)
	}
}

// TestServeTLSClientCert: over TLS with --client-ca and --client-name, the
// right client certificate is taken, none gets 401, /healthz needs none.
func TestServeTLSClientCert(t *testing.T) {
	p := newTestPKI(t, "kube-apiserver")
	state := t.TempDir()
	s := startServe(t, "-o", "jsonl", "--state-dir", state, "--listen", "127.0.0.1:0", "--tls-cert", p.ServerCert, "--tls-key", p.ServerKey,
		"--client-ca", p.CAFile, "--client-name", "kube-apiserver")
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatal(s.url)
	}
	with := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, p.CA, mustRead(t, p.ClientCert), mustRead(t, p.ClientKey))}}
	without := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, p.CA, nil, nil)}}
	body := eventListOf(evLine("00000000-0000-0000-0000-000000000001", "alice"))
	if code := postTo(t, without, s.url, body); code != 401 {
		t.Errorf("no certificate: %d", code)
	}
	if code := postTo(t, with, s.url, body); code != 200 {
		t.Errorf("client certificate: %d", code)
	}
	resp, err := without.Get(s.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", resp, err)
	}
	// A certificate from another CA: the handshake fails, and is counted.
	other := newTestCA(t, "someone-else")
	oc, ok := other.Issue(t, "kube-apiserver", false)
	foreign := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, p.CA, oc, ok)}}
	if _, err := foreign.Post(s.url, "application/json", strings.NewReader(body)); err == nil {
		t.Error("a certificate from another CA was accepted")
	}
	s.waitLines(t, 1)
	s.stop(t)
	if !strings.Contains(s.errOut.String(), "TLS handshake error") {
		t.Errorf("stderr: %s", s.errOut.String())
	}
	code, out, _ := kaudit(t, "", "status", "--state-dir", state, "-o", "json")
	var rows []statusRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].Receiver == nil {
		t.Fatalf("status: %d %s", code, out)
	}
	if r := rows[0].Receiver; r.Rejected[webhook.ReasonHandshake] != 1 || r.Rejected[webhook.ReasonUnauthenticated] != 1 || r.Requests != 1 ||
		!strings.HasPrefix(r.LastSender, "cert:kube-apiserver@") {
		t.Errorf("receiver status %+v", r)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServeSlowClient: a client sending its headers, or its body, one byte
// at a time is cut off by the timeouts, while others are served. Cut off
// means answered before it had sent all it meant to: at one byte per
// 300 ms the request takes minutes, so no wall-clock bound is needed.
func TestServeSlowClient(t *testing.T) {
	s := startServe(t, "-o", "jsonl", "--no-state", "--read-header-timeout", "500ms", "--read-timeout", "1s")
	addr := strings.TrimPrefix(s.url, "http://")
	// slow sends head at once and then rest one byte at a time, and
	// returns the answer and whether it came (or the server closed)
	// before rest was all sent.
	slow := func(head, rest string) (answer string, early bool) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		answered := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(bufio.NewReader(conn))
			answered <- string(b)
		}()
		io.WriteString(conn, head)
		unsent := len(rest)
		for unsent > 0 {
			if _, err := conn.Write([]byte{rest[len(rest)-unsent]}); err != nil {
				break // the server closed: its answer, if any, is on the way
			}
			unsent--
			select {
			case a := <-answered:
				return a, unsent > 0
			case <-time.After(300 * time.Millisecond): // one byte per 300 ms: far below any real sender
			}
		}
		select {
		case a := <-answered:
			return a, unsent > 0
		case <-time.After(patience):
			return "still open", false
		}
	}
	body := eventListOf(evLine("00000000-0000-0000-0000-000000000001", "alice"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a, early := slow("", fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
		if !early || strings.Contains(a, "200 OK") {
			t.Errorf("slow headers: answered before the end %v: %q", early, a)
		}
	}()
	a, early := slow(fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body)), body)
	if !early || !strings.Contains(a, "408 Request Timeout") {
		t.Errorf("slow body: answered before the end %v: %q", early, a)
	}
	// Meanwhile others are served.
	if code := postTo(t, http.DefaultClient, s.url, eventListOf(evLine("00000000-0000-0000-0000-000000000002", "bob"))); code != 200 {
		t.Errorf("a normal client: %d", code)
	}
	<-done
	s.stop(t)
	if !strings.Contains(s.errOut.String(), "408 Request Timeout") {
		t.Errorf("stderr: %s", s.errOut.String())
	}
}

// TestServeSpoolResume: with --spool the events are in the spool before
// the 200, and a restart prints only what it had not printed.
func TestServeSpoolResume(t *testing.T) {
	spool, state := t.TempDir(), t.TempDir()
	s := startServe(t, "-o", "jsonl", "--spool", spool, "--state-dir", state)
	if code := postTo(t, http.DefaultClient, s.url, eventListOf(evLine("00000000-0000-0000-0000-000000000001", "alice"))); code != 200 {
		t.Fatal(code)
	}
	if data := mustRead(t, filepath.Join(spool, webhook.SpoolName)); string(data) != evLine("00000000-0000-0000-0000-000000000001", "alice")+"\n" {
		t.Errorf("spool: %q", data)
	}
	s.waitLines(t, 1)
	s.stop(t)
	s = startServe(t, "-o", "jsonl", "--spool", spool, "--state-dir", state)
	// An event longer than the 16 MiB line limit of log files: the spool
	// takes what the body limit takes.
	big := strings.Replace(evLine("00000000-0000-0000-0000-000000000003", "carol"), `"level":`, `"requestObject":{"data":"`+strings.Repeat("x", 17<<20)+`"},"level":`, 1)
	for _, ev := range []string{evLine("00000000-0000-0000-0000-000000000002", "bob"), big} {
		if code := postTo(t, http.DefaultClient, s.url, eventListOf(ev)); code != 200 {
			t.Fatal(code)
		}
	}
	// A sentinel after them: an event printed again comes before it.
	if code := postTo(t, http.DefaultClient, s.url, eventListOf(evLine("00000000-0000-0000-0000-000000000004", "dave"))); code != 200 {
		t.Fatal(code)
	}
	lines := s.waitLines(t, 3)
	s.stop(t)
	if len(lines) != 3 || !strings.Contains(lines[0], "000000000002") || lines[1] != big || !strings.Contains(lines[2], "000000000004") ||
		strings.Count(s.out.String(), "\n") != 3 {
		t.Errorf("after restart printed %d lines:\n%.300s", len(lines), s.out.String())
	}
}

// TestServeForward: events POSTed to serve --forward are spooled (fsynced
// before the 200) and forwarded from the spool, in order, once each even
// when the API server retries a batch; without a state dir or spool it is
// a usage error.
func TestServeForward(t *testing.T) {
	state := t.TempDir()
	fake := newOTLPFake(t)
	s := startServe(t, "-o", "jsonl", "--state-dir", state, "--forward", fake.URL())
	var lines []string
	for i := range 20 {
		lines = append(lines, evLine(fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "alice"))
	}
	for range 2 { // a retried batch
		if code := postTo(t, http.DefaultClient, s.url, eventListOf(lines[:10]...)); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if code := postTo(t, http.DefaultClient, s.url, eventListOf(lines[10:]...)); code != 200 {
		t.Fatalf("status %d", code)
	}
	testwait.Until(t, "30 events at the receiver", func() bool {
		bodies, _ := fake.Got()
		return len(bodies) >= 30
	})
	if code := s.stop(t); code != exitOK {
		t.Fatalf("exit %d: %s", code, s.errOut.String())
	}
	bodies, _ := fake.Got()
	// The spool holds what was taken: the retried batch twice. The store
	// prints it once; the sink forwards the spool as it is, at least once.
	// Several senders may deliver payloads out of file order (positions are
	// still committed in order), so compare the events as multisets.
	want := append(append(append([]string{}, lines[:10]...), lines[:10]...), lines[10:]...)
	got := slices.Clone(bodies)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("receiver got %d events; want the spool's 30", len(bodies))
	}
	if _, err := os.Stat(filepath.Join(state, "spool", "webhook.log")); err != nil {
		t.Errorf("no spool under the state dir: %v", err)
	}
	if code, _, errOut := kaudit(t, "", "serve", "--no-state", "-o", "jsonl", "--forward", fake.URL()); code != exitUsage || !strings.Contains(errOut, "spool") {
		t.Errorf("--forward --no-state: exit %d, %s", code, errOut)
	}
}
