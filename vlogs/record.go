package vlogs

import (
	"bytes"
	"cmp"
	"encoding/json"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/forward"
)

// record is one line of VictoriaLogs' query answer: a JSON object whose
// values are all strings. Its shape (OTLP or Datadog) is told by which
// identity fields it has.
type record struct {
	Msg       []byte // _msg: the forwarded body, unescaped
	Cluster   string // k8s.cluster.name (OTLP shape)
	Host      string // host.name (OTLP shape)
	DDCluster string // kube_cluster_name (Datadog shape: from ddtags)
	DDHost    string // hostname (Datadog shape)
	Source    string // kaudit.source: the event's source where it was read
}

// source is what the event's source becomes: where it was read, as
// forwarded; else cluster/host, the forwarding process's identity.
func (r *record) source() string {
	c, h := cmp.Or(r.Cluster, r.DDCluster), cmp.Or(r.Host, r.DDHost)
	switch {
	case r.Source != "":
		return r.Source
	case c != "" && h != "":
		return c + "/" + h
	}
	return c + h
}

// jsonRecord is the reference reading of a line.
type jsonRecord struct {
	Msg       string `json:"_msg"`
	Cluster   string `json:"k8s.cluster.name"`
	Host      string `json:"host.name"`
	DDCluster string `json:"kube_cluster_name"`
	DDHost    string `json:"hostname"`
	Source    string `json:"kaudit.source"`
}

// recordParser reads answer lines. It keeps the last identity strings,
// which repeat from one record to the next, to spare their allocations,
// and cuts the bodies out of slabs. Not safe for concurrent use.
type recordParser struct {
	slab []byte
	last [5]string // the last value of each identity field, by fieldIndex
}

// Fields read from a record besides _msg, in recordParser.last.
var recordFields = [...]string{attrCluster, attrHost, ddAttrCluster, ddAttrHost, forward.AttrSource}

// slabSize is how much body bytes one allocation holds.
const slabSize = 256 << 10

// parse reads one answer line. Lines with anything unusual (keys that
// differ only in case from a field's, numbers or other non-string values)
// go through encoding/json, whose reading is the reference
// (FuzzParseRecord). r.Msg does not alias line.
func (p *recordParser) parse(line []byte) (record, error) {
	if r, ok := p.fast(line); ok {
		return r, nil
	}
	var m jsonRecord
	if err := json.Unmarshal(line, &m); err != nil {
		return record{}, err
	}
	return record{Msg: []byte(m.Msg), Cluster: m.Cluster, Host: m.Host, DDCluster: m.DDCluster, DDHost: m.DDHost, Source: m.Source}, nil
}

// parseRecord reads one line with a parser of its own.
func parseRecord(line []byte) (record, error) {
	var p recordParser
	return p.parse(line)
}

// fast is parse for well-formed lines of string values; ok is false
// when encoding/json must decide.
func (p *recordParser) fast(line []byte) (r record, ok bool) {
	s := bytes.TrimSpace(line)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return r, false
	}
	s = s[1 : len(s)-1]
	var keyBuf [64]byte
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
		key, n, ok := audit.ReadString(s, keyBuf[:0])
		if !ok {
			return r, false
		}
		s = bytes.TrimLeft(s[n:], " \t\r\n")
		if len(s) == 0 || s[0] != ':' {
			return r, false
		}
		s = bytes.TrimLeft(s[1:], " \t\r\n")
		if string(key) == "_msg" {
			if r.Msg, n, ok = p.body(s); !ok {
				return r, false
			}
			s = s[n:]
			continue
		}
		val, n, ok := audit.ReadString(s, nil)
		if !ok {
			return r, false
		}
		s = s[n:]
		if !p.field(&r, key, val) {
			return r, false
		}
	}
}

// body reads the _msg string into the slab: the events decoded from it
// alias it, and keep it (or the slab) alive as long as they need.
func (p *recordParser) body(s []byte) ([]byte, int, bool) {
	buf := p.slab
	if cap(buf)-len(buf) < len(s) {
		if len(s) > slabSize/4 {
			buf = nil // a big body gets an allocation of its own
		} else {
			p.slab = make([]byte, 0, slabSize)
			buf = p.slab
		}
	}
	val, n, ok := audit.ReadString(s, buf)
	if !ok || len(val) == 0 {
		return nil, n, ok
	}
	if &val[0] == &s[1] { // aliases the line, which is reused: copy
		val = append(buf, val...)
	}
	if buf == nil {
		return val, n, true
	}
	if cap(val) == cap(buf) { // still the slab (append did not grow it)
		p.slab = val
	}
	return val[len(buf):len(val):len(val)], n, true
}

// field sets the identity field named key; ok is false for a key that
// encoding/json would match to one (by case) but that is spelt otherwise.
func (p *recordParser) field(r *record, key, val []byte) bool {
	for i, name := range recordFields {
		if string(key) != name {
			if bytes.EqualFold(key, []byte(name)) {
				return false
			}
			continue
		}
		if p.last[i] != string(val) {
			p.last[i] = string(val)
		}
		switch i {
		case 0:
			r.Cluster = p.last[i]
		case 1:
			r.Host = p.last[i]
		case 2:
			r.DDCluster = p.last[i]
		case 3:
			r.DDHost = p.last[i]
		case 4:
			r.Source = p.last[i]
		}
		return true
	}
	return !bytes.EqualFold(key, []byte("_msg"))
}
