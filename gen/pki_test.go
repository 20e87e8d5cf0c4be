package gen

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// Certificates issued by a CA verify against it, for their use and hosts
// only; another CA's do not.
func TestCA(t *testing.T) {
	ca, err := NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewCA("other-ca")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	parse := func(certPEM, keyPEM []byte) *x509.Certificate {
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(certPEM)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sc, sk, err := ca.IssueServer("srv", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := parse(sc, sk)
	if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("server certificate for 127.0.0.1: %v", err)
	}
	if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err == nil {
		t.Error("server certificate verified for a host it does not name")
	}
	cc, ck, _ := ca.IssueClient("kube-apiserver")
	cli := parse(cc, ck)
	if _, err := cli.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || cli.Subject.CommonName != "kube-apiserver" {
		t.Errorf("client certificate: %v", err)
	}
	oc, ok, _ := other.IssueClient("x")
	if _, err := parse(oc, ok).Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("another CA's certificate verified")
	}
	cfg, err := ca.ClientTLS(cc, ck)
	if err != nil || cfg.GetClientCertificate == nil || cfg.RootCAs == nil {
		t.Errorf("ClientTLS: %v", err)
	}
}
