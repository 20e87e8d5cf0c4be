// Package remote reads audit logs on other hosts over SSH: kaudit replay
// ssh://cp1/var/log/kubernetes/apiserver/ and kaudit watch ssh://cp1
// ssh://cp2. It runs the system ssh client (kaudit handles no keys: the
// user's ssh config and agent decide), streams the remote bytes through
// the ordinary decoder (ingest.Replay on a pipe: remote output is
// untrusted input like any file), tags each event with its host and
// merges the hosts by time into one source.
package remote

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// SSH is the ssh client run (tests put a fake one first on PATH).
var SSH = "ssh"

// Target is one ssh://[user@]host[:port][/path] argument.
type Target struct {
	URL  string // as given, for messages
	User string
	Host string // a host name or an alias of the user's ssh config
	Port int    // 0: ssh's own default
	Path string // the remote path ("" or "/": the default)
}

// IsURL reports whether arg names a remote log.
func IsURL(arg string) bool { return strings.HasPrefix(arg, "ssh://") }

// Parse reads an ssh:// argument.
func Parse(arg string) (Target, error) {
	u, err := url.Parse(arg)
	if err != nil || u.Scheme != "ssh" {
		return Target{}, fmt.Errorf("%q: want ssh://[user@]host[:port][/path]", arg)
	}
	t := Target{URL: arg, Host: u.Hostname(), Path: u.Path}
	// A host or user starting with "-" would be taken for an ssh option.
	if t.Host == "" || strings.HasPrefix(t.Host, "-") {
		return Target{}, fmt.Errorf("%q: no host", arg)
	}
	if u.User != nil {
		t.User = u.User.Username()
		if _, set := u.User.Password(); set || strings.HasPrefix(t.User, "-") || t.User == "" {
			return Target{}, fmt.Errorf("%q: a user name only (ssh asks for passwords itself)", arg)
		}
	}
	if p := u.Port(); p != "" {
		if t.Port, err = strconv.Atoi(p); err != nil || t.Port <= 0 || t.Port > 65535 {
			return Target{}, fmt.Errorf("%q: bad port %q", arg, p)
		}
	}
	return t, nil
}

// Name is the host as events are tagged with it.
func (t Target) Name() string { return t.Host }

// args is ssh's command line running the shell script script on t. The
// script runs under sh whatever the user's login shell is. BatchMode: no
// prompt can hang a headless kaudit; a key or agent must do.
func (t Target) args(script string) []string {
	a := []string{"-o", "BatchMode=yes", "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3"}
	if t.User != "" {
		a = append(a, "-l", t.User)
	}
	if t.Port != 0 {
		a = append(a, "-p", strconv.Itoa(t.Port))
	}
	return append(a, "--", t.Host, "sh -c "+quote(script))
}

// quote is s as one sh word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
