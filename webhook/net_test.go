package webhook

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaudit/kaudit/ingest"
)

// TestWebhookAuth runs a real TLS listener: client certificates from the
// right CA, from another CA, none; bearer tokens right, wrong, missing.
func TestWebhookAuth(t *testing.T) {
	dir := t.TempDir()
	ca, other := newTestCA(t, "kaudit-test-ca"), newTestCA(t, "someone-else")
	srvCert, srvKey := ca.Issue(t, "kaudit", true)
	apiCert, apiKey := ca.Issue(t, "kube-apiserver", false)
	strayCert, strayKey := ca.Issue(t, "stranger", false)
	foreignCert, foreignKey := other.Issue(t, "kube-apiserver", false)
	tlsCfg, err := ServerTLS(writePEM(t, dir, "srv.crt", srvCert), writePEM(t, dir, "srv.key", srvKey), writePEM(t, dir, "ca.crt", ca.PEM))
	if err != nil {
		t.Fatal(err)
	}
	body := eventList(t, "v1", fixtureLines(t, "audit2rbac-demo-v1.jsonl", 2)...)

	start := func(auth *Auth) (*Receiver, string) {
		w := &Receiver{Auth: auth}
		startWebhook(t, w, &collector{})
		srv := httptest.NewUnstartedServer(w)
		srv.TLS = tlsCfg.Clone()
		srv.Config.ErrorLog = discardLog()
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return w, srv.URL
	}
	post := func(url string, cfg *tls.Config, token string) (int, error) {
		req, _ := http.NewRequest("POST", url+"/", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		resp, err := cl.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	t.Run("client certificates", func(t *testing.T) {
		w, url := start(&Auth{ClientCert: true, Names: []string{"kube-apiserver"}})
		for _, tc := range []struct {
			name       string
			cert, key  []byte
			status     int
			handshakes bool
		}{
			{"no certificate", nil, nil, 401, true},
			{"right CA, allowed name", apiCert, apiKey, 200, true},
			{"right CA, other name", strayCert, strayKey, 403, true},
			{"wrong CA", foreignCert, foreignKey, 0, false},
		} {
			status, err := post(url, clientTLS(t, ca, tc.cert, tc.key), "")
			if tc.handshakes && (err != nil || status != tc.status) {
				t.Errorf("%s: status %d, err %v; want %d", tc.name, status, err, tc.status)
			}
			// With TLS 1.3 the client may learn of the refusal as a
			// broken pipe or a reset rather than a TLS alert: any error
			// will do, and the counters below show nothing was taken.
			if !tc.handshakes && err == nil {
				t.Errorf("%s: want a failed TLS handshake, got status %d", tc.name, status)
			}
		}
		st := w.Stats()
		if st.Rejected[ReasonUnauthenticated] != 1 || st.Rejected[ReasonForbidden] != 1 || st.Requests != 1 || !strings.HasPrefix(st.LastSender, "cert:kube-apiserver@127.0.0.1") {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		auth := &Auth{}
		if err := auth.ReadTokenFile(writePEM(t, dir, "token", []byte("s3cret-token\n"))); err != nil {
			t.Fatal(err)
		}
		w, url := start(auth)
		cfg := clientTLS(t, ca, nil, nil)
		for _, tc := range []struct {
			token  string
			status int
		}{{"", 401}, {"wrong", 401}, {"s3cret-tokeX", 401}, {"s3cret-token", 200}} {
			if status, err := post(url, cfg, tc.token); err != nil || status != tc.status {
				t.Errorf("token %q: status %d err %v, want %d", tc.token, status, err, tc.status)
			}
		}
		if st := w.Stats(); st.Rejected[ReasonUnauthenticated] != 3 || st.Requests != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// rawPost writes a POST with the given headers over a plain connection
// and then up to total bytes of body in 64 KiB pieces, stopping when the
// server answers or the connection fails. It returns the status (0 if
// none) and how many body bytes it managed to write.
func rawPost(t *testing.T, addr, headers string, total int64) (status int, written int64) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	if _, err := io.WriteString(conn, headers); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = ' '
	}
	conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
	for written < total {
		select {
		case s := <-answered:
			return s, written
		default:
		}
		n, err := conn.Write(chunk[:min(int64(len(chunk)), total-written)])
		written += int64(n)
		if err != nil {
			break
		}
	}
	select {
	case s := <-answered:
		return s, written
	case <-time.After(10 * time.Second):
		return 0, written
	}
}

// TestWebhookBodyLimit: 100 MiB bodies get 413 without being read into
// memory: declared ones before any byte is read, chunked ones after at
// most the limit; a gzip bomb is stopped at the limit after decompression.
func TestWebhookBodyLimit(t *testing.T) {
	const hundred = 100 << 20
	var probs []ingest.Problem
	var mu sync.Mutex
	w := &Receiver{MaxBody: 1 << 20, OnProblem: func(p ingest.Problem) { mu.Lock(); probs = append(probs, p); mu.Unlock() }}
	c := &collector{}
	startWebhook(t, w, c)
	srv := httptest.NewServer(w)
	srv.Config.ErrorLog = discardLog()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	status, written := rawPost(t, addr, fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", hundred), hundred)
	t.Logf("declared 100 MiB: %d after %d bytes written (%v)", status, written, time.Since(t0))
	if status != 413 || written > 16<<20 {
		t.Errorf("declared 100 MiB: status %d after %d bytes written, want 413 well before 100 MiB", status, written)
	}
	// Chunked: the server reads at most the limit.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(conn)
	fmt.Fprintf(bw, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		answered <- resp.StatusCode
	}()
	chunk := bytes.Repeat([]byte{' '}, 64<<10)
	written = 0
	conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
	status = -1
	for written < hundred && status == -1 {
		fmt.Fprintf(bw, "%x\r\n", len(chunk))
		bw.Write(chunk)
		bw.WriteString("\r\n")
		if bw.Flush() != nil {
			break
		}
		written += int64(len(chunk))
		select {
		case status = <-answered:
		default:
		}
	}
	if status == -1 {
		select {
		case status = <-answered:
		case <-time.After(10 * time.Second):
		}
	}
	conn.Close()
	t.Logf("chunked 100 MiB: %d after %d bytes written (%v)", status, written, time.Since(t0))
	if status != 413 || written > 16<<20 {
		t.Errorf("chunked 100 MiB: status %d after %d bytes written, want 413 well before 100 MiB", status, written)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 40<<20 {
		t.Errorf("allocated %d MiB while refusing 2×100 MiB: the body was buffered", alloc>>20)
	}

	// A gzip bomb: a few KiB on the wire, 8 times the limit inflated.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 8 {
		zw.Write(zero)
	}
	zw.Close()
	req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(bomb.Bytes()))
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("gzip bomb: status %d, want 413", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(probs) != 3 || !strings.Contains(probs[0].Msg, fmt.Sprintf("body of %d bytes over the limit of %d", hundred, 1<<20)) ||
		!strings.Contains(probs[2].Msg, "decompressed body") {
		t.Errorf("problems %v", probs)
	}
	if st := w.Stats(); st.Rejected[ReasonTooLarge] != 3 || c.events != 0 {
		t.Errorf("stats %+v, %d events", st, c.events)
	}
}

// TestWebhookDefaultLimit: the default limit takes a 20 MiB body (Falco
// drops events over 256 KB) and refuses a declared 100 MiB one at once.
func TestWebhookDefaultLimit(t *testing.T) {
	w := &Receiver{}
	c := &collector{}
	startWebhook(t, w, c)
	big := fixtureLines(t, "audit2rbac-demo-v1.jsonl", 1)[0]
	big = strings.Replace(big, `"level":`, `"requestObject":{"data":"`+strings.Repeat("x", 20<<20)+`"},"level":`, 1)
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(eventList(t, "v1", big))))
	if rec.Code != 200 || c.events != 1 || len(c.raws[0]) != len(big) {
		t.Errorf("20 MiB event: status %d, %d events", rec.Code, c.events)
	}
	req := httptest.NewRequest("POST", "/", strings.NewReader(""))
	req.ContentLength = 100 << 20
	rec = httptest.NewRecorder()
	w.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("declared 100 MiB: status %d", rec.Code)
	}
}

// TestWebhookConcurrentSenders: 20 senders at full speed, retrying on 429
// as the API server does; every event acknowledged with 200 was handed on.
func TestWebhookConcurrentSenders(t *testing.T) {
	w := &Receiver{Queue: 2, MaxRequests: 8, QueueWait: 5 * time.Millisecond}
	c := &collector{}
	startWebhook(t, w, c)
	srv := httptest.NewServer(w)
	defer srv.Close()
	tmpl := fixtureLines(t, "audit2rbac-demo-v1.jsonl", 1)[0]
	const senders, batches, per = 20, 25, 20
	var mu sync.Mutex
	acked := map[string]bool{}
	retries := 0
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			cl := &http.Client{Timeout: 30 * time.Second}
			for b := range batches {
				items := make([]string, per)
				ids := make([]string, per)
				for i := range items {
					ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%04d%04d%04d", s, b, i)
					items[i] = strings.Replace(tmpl, `"auditID":"`, `"auditID":"`+ids[i]+`","x":"`, 1)
				}
				body := eventList(t, "v1", items...)
				for {
					resp, err := cl.Post(srv.URL, "application/json", strings.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						mu.Lock()
						for _, id := range ids {
							acked[id] = true
						}
						mu.Unlock()
						break
					}
					if resp.StatusCode != 429 {
						t.Errorf("status %d", resp.StatusCode)
						return
					}
					mu.Lock()
					retries++
					mu.Unlock()
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	missing := 0
	for id := range acked {
		if !c.has(id) {
			missing++
		}
	}
	t.Logf("%d events acknowledged, %d handed on, %d retries after 429", len(acked), c.events, retries)
	if missing > 0 || len(acked) != senders*batches*per {
		t.Errorf("%d acknowledged events missing; %d acknowledged of %d", missing, len(acked), senders*batches*per)
	}
}
