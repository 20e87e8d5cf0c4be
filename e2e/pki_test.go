package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

// testPKI is a throw-away CA (gen.CA) with a serving certificate for
// 127.0.0.1 and localhost and a client certificate, written as PEM files in
// a temporary directory.
type testPKI struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
}

func newTestPKI(t *testing.T, client string) *testPKI {
	t.Helper()
	dir := t.TempDir()
	ca, err := gen.NewCA("kaudit-test-ca")
	if err != nil {
		t.Fatal(err)
	}
	sc, sk, err := ca.IssueServer("kaudit-serve", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cc, ck, err := ca.IssueClient(client)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{
		caFile:     writePEM(t, dir, "ca.crt", ca.PEM),
		serverCert: writePEM(t, dir, "serve.crt", sc),
		serverKey:  writePEM(t, dir, "serve.key", sk),
		clientCert: writePEM(t, dir, "client.crt", cc),
		clientKey:  writePEM(t, dir, "client.key", ck),
	}
}

func writePEM(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
