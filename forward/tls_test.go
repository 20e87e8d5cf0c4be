package forward

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kaudit/kaudit/internal/testwait"
)

// TestTLS: an https receiver is trusted through --forward-ca-file only, and
// only under a name its certificate holds.
func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	wrong := filepath.Join(dir, "wrong.pem")
	// httptest's servers share one certificate: make a different CA by
	// re-encoding a certificate that did not sign this one.
	os.WriteFile(wrong, []byte(testOtherCA), 0o600)
	port := srv.Listener.Addr().String()[strings.LastIndex(srv.Listener.Addr().String(), ":"):]
	tests := []struct {
		name, host, ca string
		ok             bool
		errWant        string
	}{
		{"right CA", "127.0.0.1", good, true, ""},
		{"wrong CA", "127.0.0.1", wrong, false, "certificate"},
		{"wrong host name", "localhost", good, false, "certificate"},
		{"system roots", "127.0.0.1", "", false, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New("otlp+https://"+tt.host+port, Config{Identity: testID, CAFile: tt.ca, Backoff: Backoff{Base: time.Millisecond, Max: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			f.Enqueue(context.Background(), records(t, 0, 1), 1)
			// Wait for the outcome (the ack, or a refused handshake), not
			// for a time budget: on a busy machine under -race, loading the
			// system roots alone can take longer than any budget.
			testwait.Until(t, "an ack or an error", func() bool {
				s := f.Stats()
				return s.Acked == 1 || s.LastError != ""
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Until(testwait.Deadline(t)))
			if !tt.ok {
				cancel() // nothing will be delivered: give up at once
			}
			defer cancel()
			left := f.Close(ctx)
			s := f.Stats()
			if tt.ok != (left == 0 && s.Acked == 1) {
				t.Errorf("left %d, stats %+v", left, s)
			}
			if !tt.ok && !strings.Contains(s.LastError, tt.errWant) {
				t.Errorf("last error %q, want it to mention %q", s.LastError, tt.errWant)
			}
		})
	}
}

// testOtherCA is a self-signed CA certificate that signed nothing here.
const testOtherCA = `-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIQIRi6zePL6mKjOipn+dNuaTAKBggqhkjOPQQDAjASMRAw
DgYDVQQKEwdBY21lIENvMB4XDTE3MTAyMDE5NDMwNloXDTE4MTAyMDE5NDMwNlow
EjEQMA4GA1UEChMHQWNtZSBDbzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD0d
7VNhbWvZLWPuj/RtHFjvtJBEwOkhbN/BnnE8rnZR8+sbwnc/KhCk3FhnpHZnQz7B
5aETbbIgmuvewdjvSBSjYzBhMA4GA1UdDwEB/wQEAwICpDATBgNVHSUEDDAKBggr
BgEFBQcDATAPBgNVHRMBAf8EBTADAQH/MCkGA1UdEQQiMCCCDmxvY2FsaG9zdDo1
NDUzgg4xMjcuMC4wLjE6NTQ1MzAKBggqhkjOPQQDAgNIADBFAiEA2zpJEPQyz6/l
Wf86aX6PepsntZv2GYlA5UpabfT2EZICICpJ5h/iI+i341gBmLiAFQOyTDT+/wQc
6MF9+Yw1Yy0t
-----END CERTIFICATE-----
`
