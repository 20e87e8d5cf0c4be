package webhook

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServerServe runs Serve on a TLS listener with a bearer token: a
// request is taken, a plain-HTTP request on the TLS port counts as a
// failed handshake, and at stop Serve returns nil and the counters on
// disk are final.
func TestServerServe(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	ca := newTestCA(t, "kaudit-test-ca")
	srvCert, srvKey := ca.Issue(t, "127.0.0.1", true)
	s, err := NewServer(Config{
		CertFile:   writePEM(t, dir, "srv.crt", srvCert),
		KeyFile:    writePEM(t, dir, "srv.key", srvKey),
		TokenFile:  writePEM(t, dir, "token", []byte("tok\n")),
		StateDir:   state,
		StatsEvery: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	startWebhook(t, s.Receiver, c)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := s.URL(ln)
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	body := eventList(t, "v1", fixtureLines(t, "audit2rbac-demo-v1.jsonl", 3)...)
	req, _ := http.NewRequest("POST", url+"/", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, ca, nil, nil)}, Timeout: time.Minute}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.mu.Lock()
	n := c.events
	c.mu.Unlock()
	if resp.StatusCode != 200 || n != 3 {
		t.Fatalf("status %d, %d events taken; want 200, 3", resp.StatusCode, n)
	}
	if resp, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		resp.Body.Close() // Go answers plain HTTP on a TLS port with 400
	}
	// The failed handshake is counted when net/http logs it.
	for deadline := time.Now().Add(time.Minute); s.Receiver.Stats().Rejected[ReasonHandshake] == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the plain-HTTP request was never counted as a failed handshake")
		}
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	st, ok, err := LoadStats(state)
	if err != nil || !ok {
		t.Fatalf("LoadStats: %v %v", ok, err)
	}
	if st.Requests != 1 || st.Events != 3 || st.Rejected[ReasonHandshake] != 1 || st.Listen != url {
		t.Errorf("saved counters %+v", st)
	}
	if _, err := (&tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}}).DialContext(context.Background(), "tcp", ln.Addr().String()); err == nil {
		t.Error("the listener is still open after Serve returned")
	}
}
