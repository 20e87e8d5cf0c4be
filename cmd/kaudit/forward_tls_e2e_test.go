package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

// writeCA makes a CA and a serving certificate it signed for 127.0.0.1
// (an IP SAN only: "localhost" does not match), as PEM files in dir.
func writeCA(t *testing.T, dir, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	ca, err := gen.NewCA(name + " CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.IssueServer("collector", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+"-ca.pem", ca.PEM), writePEM(t, dir, name+"-cert.pem", cert), writePEM(t, dir, name+"-key.pem", key)
}

// TestE2EForwardTLS: otlp+https to the real collector serving TLS. With the
// collector's CA the events arrive; with another CA, or under a host name
// its certificate does not hold, nothing is sent and the error says why.
func TestE2EForwardTLS(t *testing.T) {
	e2e(t)
	certs := t.TempDir()
	ca, cert, key := writeCA(t, certs, "right")
	otherCA, _, _ := writeCA(t, certs, "other")
	col := newCollector(t, 30014, "tls:\n          cert_file: "+cert+"\n          key_file: "+key)
	dir := t.TempDir()
	var lines []string
	for i := range 50 {
		lines = append(lines, evLine(evID(i), evUser(i)))
	}
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	replay := func(host, caFile string) (int, string) {
		code, _, errOut := kaudit(t, "", "replay", "-o", "jsonl", "--state-dir", t.TempDir(), "--forward-drain", "1s",
			"--forward", "otlp+https://"+host+":30014", "--forward-ca-file", caFile, path)
		return code, errOut
	}
	if code, errOut := replay("127.0.0.1", ca); code != exitOK {
		t.Fatalf("right CA: exit %d: %s", code, errOut)
	}
	for _, tt := range []struct{ name, host, ca, want string }{
		{"wrong CA", "127.0.0.1", otherCA, "certificate signed by unknown authority"},
		{"wrong host name", "localhost", ca, "wanted to match localhost"},
	} {
		code, errOut := replay(tt.host, tt.ca)
		if code != exitError || !strings.Contains(errOut, "50 events not acknowledged") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d: %s", tt.name, code, errOut)
		}
	}
	col.stop()
	got := col.collected()
	if len(got) != 50 {
		t.Fatalf("the collector received %d events, want the 50 sent with the right CA", len(got))
	}
	for i, r := range got {
		if r.body != lines[i] {
			t.Fatalf("event %d: body differs", i)
		}
	}
	t.Logf("TLS: 50 events delivered with the collector's CA; a wrong CA and a wrong host name were refused")
}
