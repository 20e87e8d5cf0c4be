package main

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

// testPKI is the shared throw-away PKI written as files (internal/testpki).
type testPKI = testpki.Files

func newTestPKI(t *testing.T, client string) *testPKI { return testpki.NewFiles(t, client) }
