package webhook

import (
	"crypto/tls"
	"testing"

	"github.com/kaudit/kaudit/internal/testpki"
)

// The shared helpers (internal/testpki) under this package's old names.
type testCA = testpki.CA

func newTestCA(t *testing.T, name string) *testCA { return testpki.New(t, name) }

func clientTLS(t *testing.T, ca *testCA, certPEM, keyPEM []byte) *tls.Config {
	return ca.Client(t, certPEM, keyPEM)
}

func writePEM(t *testing.T, dir, name string, data []byte) string {
	return testpki.WritePEM(t, dir, name, data)
}
