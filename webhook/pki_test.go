package webhook

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

// testCA is gen's throw-away certificate authority, failing the test on
// error.
type testCA struct{ *gen.CA }

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca, err := gen.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca}
}

// issue makes a leaf certificate: a server one (for 127.0.0.1 and
// localhost) or a client one.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (certPEM, keyPEM []byte) {
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

// clientTLS is a client configuration trusting ca, presenting cert if given.
func clientTLS(t *testing.T, ca *testCA, certPEM, keyPEM []byte) *tls.Config {
	t.Helper()
	cfg, err := ca.ClientTLS(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writePEM(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
