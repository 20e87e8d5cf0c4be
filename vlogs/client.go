package vlogs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"

	"github.com/kaudit/kaudit/termsafe"
)

// Scheme prefixes of a VictoriaLogs address on the command line.
const (
	SchemeHTTP  = "vlogs://"
	SchemeHTTPS = "vlogs+https://"
)

// IsURL reports whether arg names a VictoriaLogs server rather than a path.
func IsURL(arg string) bool {
	return strings.HasPrefix(arg, SchemeHTTP) || strings.HasPrefix(arg, SchemeHTTPS)
}

// BaseURL turns vlogs://HOST:PORT[/prefix] into http://HOST:PORT[/prefix]
// (vlogs+https:// into https://).
func BaseURL(arg string) (string, error) {
	var rest, scheme string
	switch {
	case strings.HasPrefix(arg, SchemeHTTPS):
		rest, scheme = arg[len(SchemeHTTPS):], "https://"
	case strings.HasPrefix(arg, SchemeHTTP):
		rest, scheme = arg[len(SchemeHTTP):], "http://"
	default:
		return "", fmt.Errorf("%q is not a vlogs:// or vlogs+https:// address", arg)
	}
	u, err := url.Parse(scheme + rest)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%q: want vlogs://HOST:PORT (credentials go in flags)", arg)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// Auth is how the read side authenticates, as the forward side does.
type Auth struct {
	BearerToken string // Authorization: Bearer …
	Username    string // basic auth, when set
	Password    string
	CAFile      string // PEM roots for https (empty: the system's)
	// Tenant is "AccountID:ProjectID" (or "AccountID"), sent as
	// VictoriaLogs' AccountID/ProjectID headers; empty: the default tenant.
	Tenant string
}

// client posts LogsQL queries and counts the bytes it reads back.
type client struct {
	base  string
	auth  Auth
	hc    *http.Client
	bytes atomic.Int64
	// loopback: the server is on this host (no compression asked for).
	loopback bool
}

func newClient(base string, auth Auth, hc *http.Client) (*client, error) {
	if _, _, err := splitTenant(auth.Tenant); err != nil {
		return nil, err
	}
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if auth.CAFile != "" {
			pem, err := os.ReadFile(auth.CAFile)
			if err != nil {
				return nil, err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate", auth.CAFile)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		hc = &http.Client{Transport: tr}
	}
	return &client{base: base, auth: auth, hc: hc, loopback: isLoopback(base)}, nil
}

func splitTenant(t string) (account, project string, err error) {
	if t == "" {
		return "", "", nil
	}
	account, project, _ = strings.Cut(t, ":")
	for _, s := range []string{account, project} {
		if strings.Trim(s, "0123456789") != "" {
			return "", "", fmt.Errorf("--tenant %q: want ACCOUNT_ID[:PROJECT_ID], numbers", t)
		}
	}
	return account, project, nil
}

// post runs path (e.g. /select/logsql/query) with form args; the caller
// reads and closes the body.
func (c *client) post(ctx context.Context, path string, args url.Values) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(args.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch {
	case c.auth.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+c.auth.BearerToken)
	case c.auth.Username != "":
		req.SetBasicAuth(c.auth.Username, c.auth.Password)
	}
	if acc, proj, _ := splitTenant(c.auth.Tenant); acc != "" {
		req.Header.Set("AccountID", acc)
		req.Header.Set("ProjectID", proj)
	}
	// Asked for explicitly, gzip is left to kaudit to decode (with
	// klauspost's faster inflate); on loopback it is not asked for: there
	// it only costs CPU on both sides (a quarter of kaudit's read-back).
	req.Header.Set("Accept-Encoding", "gzip")
	if c.loopback {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := decoded(resp)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("VictoriaLogs %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(body, 512))
		body.Close()
		return nil, fmt.Errorf("VictoriaLogs %s: %s: %s", path, resp.Status, termsafe.Printable(strings.TrimSpace(string(msg))))
	}
	return &counting{r: body, n: &c.bytes}, nil
}

// decoded is resp's body, gunzipped if it came gzipped.
func decoded(resp *http.Response) (io.ReadCloser, error) {
	if !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return resp.Body, nil
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, resp.Body}, nil
}

// isLoopback reports whether base's host is a loopback address or
// localhost.
func isLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	if h := u.Hostname(); h == "localhost" {
		return true
	} else if ip, err := netip.ParseAddr(h); err == nil {
		return ip.IsLoopback()
	}
	return false
}

// counting counts the bytes read through it.
type counting struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *counting) Close() error { return c.r.Close() }

var errBadStats = errors.New("VictoriaLogs: unexpected stats answer")
