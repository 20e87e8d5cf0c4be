package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Auth is how a Receiver knows who is sending: a client certificate
// verified against a CA (the TLS handshake does that: see ServerTLS),
// optionally restricted to some names, and/or a bearer token.
//
// Goroutines: read-only once built; any number of requests use it.
type Auth struct {
	ClientCert bool     // a verified client certificate is required
	Names      []string // if set, the certificate's CN or one of its SANs must be one of these
	token      [sha256.Size]byte
	hasToken   bool
}

// SetToken requires "Authorization: Bearer TOKEN" on every request.
func (a *Auth) SetToken(token string) error {
	token = strings.TrimSpace(token)
	if token == "" {
		return errors.New("empty token")
	}
	a.token, a.hasToken = sha256.Sum256([]byte(token)), true
	return nil
}

// ReadTokenFile reads a token file (surrounding white space is ignored).
func (a *Auth) ReadTokenFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := a.SetToken(string(data)); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// Authenticates reports whether a asks anything of a client.
func (a *Auth) Authenticates() bool { return a != nil && (a.ClientCert || a.hasToken) }

// check returns who sent r (the certificate's CN, "token", or "" when a is
// nil), or the status to refuse it with and why.
func (a *Auth) check(r *http.Request) (sender string, status int, why string) {
	if a == nil {
		return "", 0, ""
	}
	if a.ClientCert {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			return "", http.StatusUnauthorized, "no verified client certificate"
		}
		cert := r.TLS.VerifiedChains[0][0]
		if len(a.Names) > 0 && !slices.ContainsFunc(certNames(cert), func(n string) bool { return slices.Contains(a.Names, n) }) {
			return "", http.StatusForbidden, fmt.Sprintf("client certificate %q is not an allowed sender", cert.Subject.CommonName)
		}
		sender = "cert:" + cert.Subject.CommonName
	}
	if a.hasToken {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			return "", http.StatusUnauthorized, "no bearer token"
		}
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 {
			return "", http.StatusUnauthorized, "wrong bearer token"
		}
		if sender == "" {
			sender = "token"
		}
	}
	if sender != "" {
		sender += "@" + remoteIP(r)
	}
	return sender, 0, ""
}

// bearer is the token of an "Authorization: Bearer TOKEN" header. The
// scheme is case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1), and any
// blanks may separate it from the token.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// certNames is the certificate's CN and SANs (DNS names, e-mail addresses,
// IP addresses, URIs).
func certNames(c *x509.Certificate) []string {
	names := []string{c.Subject.CommonName}
	names = append(names, c.DNSNames...)
	names = append(names, c.EmailAddresses...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	for _, u := range c.URIs {
		names = append(names, u.String())
	}
	return names
}

// ServerTLS is the TLS configuration of a receiver: its certificate and key
// (PEM files), and, with clientCA, client certificates verified against
// that CA whenever one is presented (a certificate from another CA fails
// the handshake; a request without one gets 401 from Auth, while /healthz
// stays reachable for probes).
func ServerTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %v", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("client CA: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s: no PEM certificate in it", clientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// Loopback reports whether a listen address (host:port) only accepts
// connections from this host. An empty host (every interface) is not.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
