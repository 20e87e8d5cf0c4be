package vlogs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kaudit/kaudit/forward"
)

// record is one line of VictoriaLogs' query answer: a JSON object whose
// values are all strings.
type record struct {
	Msg     []byte // _msg: the forwarded body, unescaped
	Cluster string // k8s.cluster.name
	Host    string // host.name
	Source  string // kaudit.source: the event's source where it was read
}

// source is what the event's source becomes: where it was read, as
// forwarded; else cluster/host, the forwarding process's identity.
func (r record) source() string {
	switch {
	case r.Source != "":
		return r.Source
	case r.Cluster != "" && r.Host != "":
		return r.Cluster + "/" + r.Host
	}
	return r.Cluster + r.Host
}

// jsonRecord is the reference reading of a line.
type jsonRecord struct {
	Msg     string `json:"_msg"`
	Cluster string `json:"k8s.cluster.name"`
	Host    string `json:"host.name"`
	Source  string `json:"kaudit.source"`
}

// parseRecord reads one answer line. Lines with anything unusual
// (escaped keys, invalid UTF-8, control characters) go through
// encoding/json, whose reading is the reference (FuzzParseRecord).
func parseRecord(line []byte) (record, error) {
	if r, ok := fastRecord(line); ok {
		return r, nil
	}
	var m jsonRecord
	if err := json.Unmarshal(line, &m); err != nil {
		return record{}, err
	}
	return record{Msg: []byte(m.Msg), Cluster: m.Cluster, Host: m.Host, Source: m.Source}, nil
}

// fastRecord is parseRecord for well-formed plain lines; ok is false when
// encoding/json must decide.
func fastRecord(line []byte) (r record, ok bool) {
	s := bytes.TrimSpace(line)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return r, false
	}
	s = s[1 : len(s)-1]
	for first := true; ; first = false {
		s = bytes.TrimLeft(s, " \t\r\n")
		if len(s) == 0 {
			return r, true
		}
		if !first {
			if s[0] != ',' {
				return r, false
			}
			s = bytes.TrimLeft(s[1:], " \t\r\n")
		}
		key, rest, ok := jsonString(s)
		if !ok {
			return r, false
		}
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			return r, false
		}
		val, rest, ok := jsonString(bytes.TrimLeft(rest[1:], " \t\r\n"))
		if !ok {
			return r, false
		}
		switch string(key) {
		case "_msg":
			r.Msg = val
		case attrCluster:
			r.Cluster = string(val)
		case attrHost:
			r.Host = string(val)
		case forward.AttrSource:
			r.Source = string(val)
		default:
			if bytes.EqualFold(key, []byte("_msg")) || bytes.EqualFold(key, []byte(attrCluster)) || bytes.EqualFold(key, []byte(attrHost)) ||
				bytes.EqualFold(key, []byte(forward.AttrSource)) {
				return r, false // encoding/json matches keys regardless of case
			}
		}
		s = rest
	}
}

// jsonString reads the JSON string s starts with, in one pass: its
// unescaped value and what follows. ok is false for anything encoding/json
// would read differently or reject (control characters, invalid UTF-8,
// bad escapes, lone surrogates).
func jsonString(s []byte) (val, rest []byte, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return nil, nil, false
	}
	out := make([]byte, 0, len(s))
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			if !utf8.Valid(out) { // escapes make valid UTF-8: only raw bytes can fail
				return nil, nil, false
			}
			return out, s[i+1:], true
		case c < 0x20:
			return nil, nil, false
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil, nil, false
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s[i+2:])
			if !ok {
				return nil, nil, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if i+7 < len(s) && s[i+2] == '\\' && s[i+3] == 'u' {
					r2, ok2 = hex4(s[i+4:])
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok2 || dec == utf8.RuneError {
					return nil, nil, false // encoding/json's replacement rules decide
				}
				r, i = dec, i+6
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, nil, false
		}
		i += 2
	}
	return nil, nil, false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}
