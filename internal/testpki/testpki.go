// Package testpki wraps gen's throw-away certificate authority for tests:
// every step fails the test instead of returning an error, so the webhook,
// cmd and end-to-end tests share one copy of these helpers.
package testpki

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

// CA is gen's throw-away certificate authority.
type CA struct{ *gen.CA }

// New makes a CA named name.
func New(t testing.TB, name string) *CA {
	t.Helper()
	ca, err := gen.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{ca}
}

// Issue makes a leaf certificate: a server one (for 127.0.0.1 and
// localhost) or a client one.
func (ca *CA) Issue(t testing.TB, cn string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	var err error
	if server {
		certPEM, keyPEM, err = ca.IssueServer(cn, "127.0.0.1", "localhost")
	} else {
		certPEM, keyPEM, err = ca.IssueClient(cn)
	}
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

// Client is a client configuration trusting ca, presenting cert if given.
func (ca *CA) Client(t testing.TB, certPEM, keyPEM []byte) *tls.Config {
	t.Helper()
	cfg, err := ca.ClientTLS(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// WritePEM writes data to dir/name (0600) and returns the path.
func WritePEM(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Files is a throw-away CA with a serving certificate for 127.0.0.1 and
// localhost and a client certificate, written as PEM files in a temporary
// directory.
type Files struct {
	CA                                                   *CA
	CAFile, ServerCert, ServerKey, ClientCert, ClientKey string
}

// NewFiles makes and writes the CA, the server and the client (CN client)
// certificates.
func NewFiles(t testing.TB, client string) *Files {
	t.Helper()
	dir := t.TempDir()
	ca := New(t, "kaudit-test-ca")
	sc, sk := ca.Issue(t, "kaudit-serve", true)
	cc, ck := ca.Issue(t, client, false)
	return &Files{
		CA:         ca,
		CAFile:     WritePEM(t, dir, "ca.crt", ca.PEM),
		ServerCert: WritePEM(t, dir, "serve.crt", sc),
		ServerKey:  WritePEM(t, dir, "serve.key", sk),
		ClientCert: WritePEM(t, dir, "client.crt", cc),
		ClientKey:  WritePEM(t, dir, "client.key", ck),
	}
}
