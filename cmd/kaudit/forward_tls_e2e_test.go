package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCA makes a CA and a serving certificate it signed for 127.0.0.1
// (an IP SAN only: "localhost" does not match), as PEM files in dir.
func writeCA(t *testing.T, dir, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "collector"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, name+"-ca.pem"), filepath.Join(dir, name+"-cert.pem"), filepath.Join(dir, name+"-key.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return caFile, certFile, keyFile
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
