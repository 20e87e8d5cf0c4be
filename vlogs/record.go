package vlogs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// record is one line of VictoriaLogs' query answer: a JSON object whose
// values are all strings.
type record struct {
	Msg     []byte // _msg: the forwarded body, unescaped
	Cluster string // k8s.cluster.name
	Host    string // host.name
}

// jsonRecord is the reference reading of a line.
type jsonRecord struct {
	Msg     string `json:"_msg"`
	Cluster string `json:"k8s.cluster.name"`
	Host    string `json:"host.name"`
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
	return record{Msg: []byte(m.Msg), Cluster: m.Cluster, Host: m.Host}, nil
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
		key, rest, ok := rawString(s)
		if !ok || bytes.IndexByte(key, '\\') >= 0 {
			return r, false
		}
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			return r, false
		}
		val, rest, ok := rawString(bytes.TrimLeft(rest[1:], " \t\r\n"))
		if !ok {
			return r, false
		}
		switch string(key) {
		case "_msg":
			if r.Msg, ok = unescape(val); !ok {
				return r, false
			}
		case attrCluster, attrHost:
			v, ok := unescape(val)
			if !ok {
				return r, false
			}
			if string(key) == attrCluster {
				r.Cluster = string(v)
			} else {
				r.Host = string(v)
			}
		default:
			if bytes.EqualFold(key, []byte("_msg")) || bytes.EqualFold(key, []byte(attrCluster)) || bytes.EqualFold(key, []byte(attrHost)) {
				return r, false // encoding/json matches keys regardless of case
			}
		}
		s = rest
	}
}

// rawString splits a JSON string (quotes included) off s: its escaped
// contents and what follows.
func rawString(s []byte) (val, rest []byte, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return nil, nil, false
	}
	for i := 1; i < len(s); {
		j := bytes.IndexByte(s[i:], '"')
		if j < 0 {
			return nil, nil, false
		}
		end := i + j
		bs := 0
		for k := end - 1; k > 0 && s[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return s[1:end], s[end+1:], true
		}
		i = end + 1
	}
	return nil, nil, false
}

// unescape decodes a JSON string's contents; ok is false for anything
// encoding/json would read differently or reject (control characters,
// invalid UTF-8, bad escapes, lone surrogates).
func unescape(v []byte) ([]byte, bool) {
	for _, c := range v {
		if c < 0x20 {
			return nil, false // invalid JSON
		}
	}
	if !utf8.Valid(v) {
		return nil, false // encoding/json replaces invalid bytes
	}
	out := make([]byte, 0, len(v))
	for len(v) > 0 {
		i := bytes.IndexByte(v, '\\')
		if i < 0 {
			i = len(v)
		}
		out = append(out, v[:i]...)
		v = v[i:]
		if len(v) == 0 {
			break
		}
		if len(v) < 2 {
			return nil, false
		}
		switch c := v[1]; c {
		case '"', '\\', '/':
			out, v = append(out, c), v[2:]
		case 'b':
			out, v = append(out, '\b'), v[2:]
		case 'f':
			out, v = append(out, '\f'), v[2:]
		case 'n':
			out, v = append(out, '\n'), v[2:]
		case 'r':
			out, v = append(out, '\r'), v[2:]
		case 't':
			out, v = append(out, '\t'), v[2:]
		case 'u':
			r, ok := hex4(v[2:])
			if !ok {
				return nil, false
			}
			v = v[6:]
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if len(v) >= 6 && v[0] == '\\' && v[1] == 'u' {
					r2, ok2 = hex4(v[2:])
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok2 || dec == utf8.RuneError {
					return nil, false // encoding/json's replacement rules decide
				}
				r, v = dec, v[6:]
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return out, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}
