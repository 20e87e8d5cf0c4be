package redact

import (
	"bytes"
	"encoding/json"
	"strings"
)

// span is the byte range of one value to replace.
type span struct{ start, end int }

// role is what the walk knows about a value from where it sits.
type role uint8

const (
	roleNone       role = iota
	roleSecretBody      // a body of a request on resource "secrets": a Secret, a list of them or a patch
	roleSecret          // an object known to be a Secret (a SecretList item)
)

// member is one member of an object: its key (decoded when it was escaped)
// and the byte range of its value.
type member struct {
	key    []byte
	vs, ve int
}

// walker finds the spans to redact. Its input was accepted by the audit
// decoder, so it is valid JSON; on anything else the walk stops, keeping
// the spans found so far.
type walker struct {
	b     []byte
	spans []span
}

func find(raw []byte) []span {
	w := &walker{b: raw}
	top, _ := w.members(w.ws(0))
	var resource, subresource []byte
	for _, m := range top {
		if string(m.key) == "objectRef" {
			ref, _ := w.members(m.vs)
			for _, r := range ref {
				switch string(r.key) {
				case "resource":
					resource = w.str(r)
				case "subresource":
					subresource = w.str(r)
				}
			}
		}
	}
	body := roleNone
	if string(resource) == "secrets" && len(subresource) == 0 {
		body = roleSecretBody
	}
	for _, m := range top {
		if k := string(m.key); k == "requestObject" || k == "responseObject" {
			w.value(m.vs, body)
		}
	}
	return w.spans
}

func (w *walker) redact(s, e int) { w.spans = append(w.spans, span{s, e}) }

// value walks the value at i (no leading space) in role r.
func (w *walker) value(i int, r role) {
	if i >= len(w.b) {
		return
	}
	switch w.b[i] {
	case '{':
		w.object(i, r)
	case '[':
		w.array(i, r)
	}
}

func (w *walker) object(i int, r role) {
	ms, ok := w.members(i)
	if !ok {
		return
	}
	var kind []byte
	for _, m := range ms {
		if string(m.key) == "kind" {
			kind = w.str(m)
		}
	}
	isSecret := string(kind) == "Secret" || r == roleSecret || r == roleSecretBody && len(kind) == 0
	isList := string(kind) == "SecretList" || r == roleSecretBody && len(kind) == 0
	for _, m := range ms {
		k := string(m.key)
		switch {
		case isSecret && (k == "data" || k == "stringData"):
			w.secretData(m)
		case isSecret && k == "metadata":
			w.secretMetadata(m)
		case isList && k == "items" && w.b[m.vs] == '[':
			w.array(m.vs, roleSecret)
		case sensitive(m.key):
			if c := w.b[m.vs]; c == '{' || c == '[' {
				w.value(m.vs, roleNone)
			} else if c != 'n' { // null hides nothing
				w.redact(m.vs, m.ve)
			}
		default:
			w.value(m.vs, roleNone)
		}
	}
}

// secretData redacts each value of a Secret's data or stringData (the keys
// stay: which keys changed is what a reviewer needs).
func (w *walker) secretData(m member) {
	switch w.b[m.vs] {
	case 'n':
	case '{':
		ms, _ := w.members(m.vs)
		for _, d := range ms {
			if w.b[d.vs] != 'n' {
				w.redact(d.vs, d.ve)
			}
		}
	default:
		w.redact(m.vs, m.ve)
	}
}

// secretMetadata redacts the last-applied-configuration annotation, a
// copy of the whole Secret that kubectl apply keeps.
func (w *walker) secretMetadata(m member) {
	ms, _ := w.members(m.vs)
	for _, md := range ms {
		if string(md.key) != "annotations" {
			continue
		}
		as, _ := w.members(md.vs)
		for _, a := range as {
			if string(a.key) == lastApplied && w.b[a.vs] != 'n' {
				w.redact(a.vs, a.ve)
			}
		}
	}
}

func (w *walker) array(i int, r role) {
	for _, el := range w.elements(i) {
		if r == roleSecretBody && w.b[el] == '{' && w.patchOp(el) {
			continue
		}
		elRole := roleNone
		if r == roleSecret {
			elRole = roleSecret
		}
		w.value(el, elRole)
	}
}

// patchOp redacts the value of a JSON-patch operation on a secret's data
// and reports whether the element was one.
func (w *walker) patchOp(i int) bool {
	ms, _ := w.members(i)
	var path []byte
	val := -1
	for j, m := range ms {
		switch string(m.key) {
		case "path":
			path = w.str(m)
		case "value":
			val = j
		}
	}
	if path == nil || val < 0 {
		return false
	}
	p := string(path)
	if p == "/data" || p == "/stringData" || strings.HasPrefix(p, "/data/") || strings.HasPrefix(p, "/stringData/") ||
		p == "/metadata/annotations/"+strings.ReplaceAll(lastApplied, "/", "~1") {
		if w.b[ms[val].vs] != 'n' {
			w.redact(ms[val].vs, ms[val].ve)
		}
		return true
	}
	w.value(ms[val].vs, roleNone)
	return true
}

// sensitive reports whether key is one of sensitiveKeys, in any case.
func sensitive(key []byte) bool {
	if len(key) > maxKey || !keyLen[len(key)] {
		return false
	}
	for _, k := range sensitiveKeys {
		if len(k) == len(key) && bytes.EqualFold(key, []byte(k)) {
			return true
		}
	}
	return false
}

// str is the contents of m's value when it is a string, else nil.
func (w *walker) str(m member) []byte {
	if w.b[m.vs] != '"' {
		return nil
	}
	return w.unquote(m.vs, m.ve)
}

// unquote decodes the string b[s:e] (quotes included): the bytes between
// the quotes when there is no escape.
func (w *walker) unquote(s, e int) []byte {
	in := w.b[s+1 : e-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return in
	}
	var out string
	if json.Unmarshal(w.b[s:e], &out) != nil {
		return in
	}
	return []byte(out)
}

// members parses the object at i. ok is false when it is not an object or
// is cut short.
func (w *walker) members(i int) (ms []member, ok bool) {
	b := w.b
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = w.ws(i + 1)
	if i < len(b) && b[i] == '}' {
		return nil, true
	}
	for i < len(b) {
		ks := i
		if b[ks] != '"' {
			return ms, false
		}
		ke := w.skipString(ks)
		if ke < 0 {
			return ms, false
		}
		i = w.ws(ke)
		if i >= len(b) || b[i] != ':' {
			return ms, false
		}
		vs := w.ws(i + 1)
		ve := w.skip(vs)
		if ve < 0 {
			return ms, false
		}
		ms = append(ms, member{key: w.unquote(ks, ke), vs: vs, ve: ve})
		i = w.ws(ve)
		if i >= len(b) {
			break
		}
		if b[i] == '}' {
			return ms, true
		}
		if b[i] != ',' {
			return ms, false
		}
		i = w.ws(i + 1)
	}
	return ms, false
}

// elements returns the start of each element of the array at i.
func (w *walker) elements(i int) []int {
	b := w.b
	var out []int
	i = w.ws(i + 1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		e := w.skip(i)
		if e < 0 {
			return out
		}
		out = append(out, i)
		i = w.ws(e)
		if i >= len(b) || b[i] != ',' {
			return out
		}
		i = w.ws(i + 1)
	}
	return out
}

func (w *walker) ws(i int) int {
	for i < len(w.b) {
		switch w.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skip returns the end of the value at i, or -1 when it is cut short.
func (w *walker) skip(i int) int {
	b := w.b
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return w.skipString(i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = w.skipString(i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	// A number or literal: up to the next delimiter.
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

func (w *walker) skipString(i int) int {
	b := w.b
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
