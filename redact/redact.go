// Package redact hides secret values in audit events before they are
// shown or sent anywhere: Secret data, tokens (TokenReview, TokenRequest,
// bootstrap tokens) and credential-like fields in request and response
// bodies. Each hidden value becomes "<redacted sha256:HEX12>", the first 12
// hex digits of the SHA-256 of the value as the log wrote it (for a string,
// the bytes between its quotes), so that equal secrets still compare equal.
//
// What is redacted, inside the event's requestObject and responseObject
// only (the rest of the event is never touched):
//
//   - a Secret (an object of kind Secret, an item of a SecretList, or the
//     body itself when objectRef.resource is "secrets" and the body has no
//     other kind, which covers patches): every value of data and
//     stringData, and the kubectl.kubernetes.io/last-applied-configuration
//     annotation (kubectl apply copies the whole Secret into it). This
//     covers bootstrap-token Secrets (type bootstrap.kubernetes.io/token).
//   - a JSON patch (an array of operations) on a secret: the value of every
//     operation whose path starts with /data, /stringData or that annotation.
//   - anywhere in a body, a string value under one of the keys in
//     sensitiveKeys, compared without case: TokenReview spec.token (request
//     and response), TokenRequest status.token, and the credential fields
//     of kubeconfig-like and HTTP-header-like objects.
//
// Bytes outside the redacted values are kept as they are, so an event
// without secrets is returned unchanged (the same slice, no allocation).
package redact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"

	"github.com/kaudit/kaudit/internal/bytefind"
)

// sensitiveKeys are the member names whose string values are redacted
// anywhere in a body, compared case-insensitively.
var sensitiveKeys = []string{
	"token",               // TokenReview spec.token, TokenRequest status.token
	"bearerToken",         // kubeconfig-like user entries, bearer token fields
	"authorization",       // HTTP headers copied into bodies
	"proxy-authorization", // idem
	"password",            // basic-auth fields (kubeconfig, registry credentials)
	"client-key-data",     // a kubeconfig's private key
	"clientSecret",        // OIDC-style client secrets
	"client_secret",
	"client-secret",
	"access_token",
	"refresh_token",
	"id-token", // kubeconfig oidc auth-provider config
	"id_token",
}

// maxKey is the length of the longest sensitive key.
const maxKey = len("proxy-authorization")

// keyLast and keyLen are what the fast path checks at each colon before
// comparing keys: a sensitive key's last byte, in either case, and its
// length. They turn away most members at one or two loads.
var keyLast [256]bool
var keyLen [maxKey + 1]bool

func init() {
	for _, k := range sensitiveKeys {
		c := k[len(k)-1]
		keyLast[c], keyLast[c&^0x20], keyLast[c|0x20] = true, true, true
		keyLen[len(k)] = true
	}
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

var showSecrets atomic.Bool

// SetShowSecrets turns redaction off (true) or on (false) for Output in
// the whole process: it is the user's --show-secrets choice, made once
// and read by every output path, several of which run on their own
// goroutines.
func SetShowSecrets(show bool) { showSecrets.Store(show) }

// ShowSecrets reports the process-wide choice.
func ShowSecrets() bool { return showSecrets.Load() }

// Output is Event unless the user asked to see secrets (SetShowSecrets).
// Every printer and sender calls it on an event's original bytes.
func Output(raw []byte) []byte {
	if showSecrets.Load() {
		return raw
	}
	return Event(raw)
}

// Event returns raw with its secret values replaced. When nothing needs
// redacting it returns raw itself without allocating; otherwise a new
// slice (raw is never modified).
func Event(raw []byte) []byte {
	if !mayHold(raw) {
		return raw
	}
	spans := find(raw)
	if len(spans) == 0 {
		return raw
	}
	out := make([]byte, 0, len(raw))
	last := 0
	for _, s := range spans {
		out = append(out, raw[last:s.start]...)
		out = appendMark(out, raw[s.start:s.end])
		last = s.end
	}
	return append(out, raw[last:]...)
}

// Mark is the replacement of a value whose bytes (as written in the log;
// for a string, between its quotes) are v.
func Mark(v []byte) string { return string(appendMark(nil, v)) }

func appendMark(dst, v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	sum := sha256.Sum256(v)
	var hx [12]byte
	hex.Encode(hx[:], sum[:6])
	dst = append(dst, `"<redacted sha256:`...)
	dst = append(dst, hx[:]...)
	return append(dst, `>"`...)
}

// mayHold is the fast path: an event can hold a secret only if it has a
// body, and a body can hold one only if a sensitive key (in any case) or a
// value marking a secret ("secrets", "Secret", "SecretList") is in it.
// False positives only cost the walk. It allocates nothing.
func mayHold(raw []byte) bool {
	if !hasBody(raw) {
		return false
	}
	// A letter written as a \u escape (\u0041-\u007f) hides a key from
	// the scan; encoders never write letters so, only hostile senders:
	// take the slow path. (Go escapes only &, < and >: \u0026, \u003c, \u003e.)
	if HidesKeys(raw) {
		return true
	}
	// Every member is `"key"<spaces>:<spaces>value`: look at each colon.
	// The byte before the key's closing quote and the two after the colon
	// turn away most colons here, without a call (a pod's body has
	// hundreds of them).
	for i := 0; ; i++ {
		j := bytes.IndexByte(raw[i:], ':')
		if j < 0 {
			return false
		}
		i += j
		e := i
		for e > 0 && isSpace(raw[e-1]) {
			e--
		}
		if e >= 2 && raw[e-1] == '"' && keyLast[raw[e-2]] && sensitiveBefore(raw[:i]) {
			return true
		}
		a := i + 1
		for a < len(raw) && isSpace(raw[a]) {
			a++
		}
		if a+1 < len(raw) && raw[a] == '"' && (raw[a+1] == 's' || raw[a+1] == 'S') && secretAfter(raw[i+1:]) {
			return true
		}
	}
}

// hasBody reports whether raw holds "requestObject" or "responseObject".
func hasBody(raw []byte) bool { return BodyStart(raw) >= 0 }

// BodyStart is the offset of the first "requestObject" or "responseObject"
// in raw (a key or not), or -1. Redaction changes only bytes inside the
// values of those members, so it never changes the bytes before this
// offset, and an event without either is never changed. A key can hide
// behind \u escapes of its letters (only hostile senders write them): then
// it is 0. It looks only at each capital O, which is rare in audit JSON.
func BodyStart(raw []byte) int {
	if HidesKeys(raw) {
		return 0
	}
	return BodyStartUnescaped(raw)
}

// BodyStartUnescaped is BodyStart for raw in which HidesKeys is false (a
// caller that looked at many events' bytes at once).
func BodyStartUnescaped(raw []byte) int {
	for i := 0; ; i++ {
		j := bytes.IndexByte(raw[i:], 'O')
		if j < 0 {
			return -1
		}
		i += j
		if bytes.HasPrefix(raw[i:], []byte(`Object"`)) {
			if bytes.HasSuffix(raw[:i], []byte(`"request`)) {
				return i - len(`"request`)
			}
			if bytes.HasSuffix(raw[:i], []byte(`"response`)) {
				return i - len(`"response`)
			}
		}
	}
}

// sensitiveBefore reports whether b ends with a sensitive key in quotes,
// perhaps followed by spaces.
func sensitiveBefore(b []byte) bool {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	if len(b) < 2 || b[len(b)-1] != '"' || !keyLast[b[len(b)-2]] {
		return false
	}
	b = b[:len(b)-1]
	start := max(0, len(b)-maxKey-1)
	k := bytes.LastIndexByte(b[start:], '"')
	if k < 0 {
		return false
	}
	return sensitive(b[start+k+1:])
}

// secretAfter reports whether b starts with spaces and a value that marks
// a secret.
func secretAfter(b []byte) bool {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	if len(b) < 2 || b[0] != '"' || b[1] != 's' && b[1] != 'S' {
		return false // most values: not a string, or not one starting like the marks
	}
	return bytes.HasPrefix(b, []byte(`"secrets"`)) || bytes.HasPrefix(b, []byte(`"Secret"`)) || bytes.HasPrefix(b, []byte(`"SecretList"`))
}

// isSpace reports whether c is JSON whitespace. (bytes.TrimLeft and
// TrimRight build a set from their cutset on every call: at every colon of
// every event, that was most of the fast path.)
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// HidesKeys reports whether b holds a letter written as a \u escape, which
// can hide a key (or a body) from the fast path: Go and the API server
// escape only &, < and >, so this is for hostile senders.
func HidesKeys(b []byte) bool {
	for {
		i := escape.Index(b)
		if i < 0 {
			return false
		}
		if i+4 < len(b) && b[i+4] >= '4' && b[i+4] <= '7' {
			return true
		}
		b = b[i+1:]
	}
}

// escape finds \u00 fast: JSON has many backslashes (\" in messages),
// and a scan stopping at each was most of HidesKeys.
var escape = bytefind.New([]byte(`\u00`))

// markShape is every Mark with its 12 hex digits as 'x'.
const markShape = `"<redacted sha256:xxxxxxxxxxxx>"`

// NeverAdds reports whether redacting cannot make needle appear in an
// event that does not hold it: a match that redaction creates overlaps a
// mark, so needle either holds one of the mark's quotes or lies inside a
// mark. Searches use it to skip redacting events that lack needle.
func NeverAdds(needle []byte) bool {
	if len(needle) == 0 || bytes.IndexByte(needle, '"') >= 0 {
		return false
	}
	for at := 0; at+len(needle) <= len(markShape); at++ {
		if inShape(needle, markShape[at:at+len(needle)]) {
			return false
		}
	}
	return true
}

// inShape reports whether b fits shape, where 'x' stands for a lowercase
// hex digit.
func inShape(b []byte, shape string) bool {
	for i, c := range b {
		s := shape[i]
		hex := '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
		if s == 'x' && !hex || s != 'x' && c != s {
			return false
		}
	}
	return true
}
