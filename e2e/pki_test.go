package e2e

import (
	"testing"

	"github.com/kaudit/kaudit/internal/testpki"
)

// testPKI is the shared throw-away PKI written as files (internal/testpki).
type testPKI = testpki.Files

func newTestPKI(t *testing.T, client string) *testPKI { return testpki.NewFiles(t, client) }

func writePEM(t *testing.T, dir, name string, data []byte) string {
	return testpki.WritePEM(t, dir, name, data)
}
