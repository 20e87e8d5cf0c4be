package audit

import (
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"
)

// Skim reports whether Decode would make exactly one event of doc (doc is
// one audit Event) with no error, and nothing to report about it: valid
// UTF-8 (no BadUTF8) and nothing Event.Check finds. If so it returns that
// event's StageTime, which is all a reader needs of an event it will not
// keep: its place in time. It validates doc completely, as Decode does,
// but builds nothing and allocates nothing for an ordinary event, at a
// fraction of Decode's cost.
//
// ok false says only that Decode has something to say: decode doc to
// learn what (the problem, its message, or the events of an EventList).
// FuzzSkim holds Skim to Decode.
func Skim(doc []byte) (stageTime time.Time, ok bool) {
	s := skimmer{data: doc}
	return s.skim()
}

func (s *skimmer) skim() (time.Time, bool) {
	doc := s.data
	i := s.ws(0)
	if i >= len(doc) || doc[i] != '{' {
		return time.Time{}, false
	}
	var f skimFields
	if i = s.event(i, &f); i < 0 || s.ws(i) != len(doc) {
		return time.Time{}, false
	}
	if s.high && !utf8.Valid(doc) {
		return time.Time{}, false
	}
	return f.result()
}

// skimFields are the values Skim needs: what decides that doc is an Event
// (classify) and what Event.Check and the event's time are made of. They
// are set as the decoder sets them: the last non-null value wins.
type skimFields struct {
	kind, apiVersion, auditID, stage string
	ts                               timestamps
	code                             int32
}

// result is what Decode and Event.Check would conclude from f.
func (f *skimFields) result() (time.Time, bool) {
	if classify(f.kind, f.apiVersion, f.auditID != "", f.stage != "") != shapeEvent ||
		f.auditID == "" || ParseStage(f.stage) == StageUnknown ||
		f.code != 0 && (f.code < 100 || f.code > 599) {
		return time.Time{}, false
	}
	_, _, rBad := parsePresent(f.ts.received)
	stage, sOK, sBad := parsePresent(f.ts.stage)
	legacy, lOK, lBad := parsePresent(f.ts.legacy)
	if rBad || sBad || lBad {
		return time.Time{}, false
	}
	switch {
	case sOK:
		return stage, true
	case lOK:
		return legacy, true
	case f.ts.created != "":
		t, _ := ParseTime(f.ts.created)
		return t, true
	}
	return time.Time{}, true
}

// event mirrors decoder.event for a top-level object: the same keys, the
// same type rules, without decoding what Check does not read.
func (s *skimmer) event(i int, f *skimFields) int {
	i, more := s.objOpen(i)
	for ; more; i, more = s.objNext(i) {
		var id int
		if i, id = s.field(i, eventWords); i < 0 {
			return -1
		}
		switch eventField(id) {
		case fKind:
			i = s.strVal(i, &f.kind)
		case fAPIVersion:
			i = s.strVal(i, &f.apiVersion)
		case fItems:
			i = s.items(i)
		case fAuditID:
			i = s.strVal(i, &f.auditID)
		case fStage:
			i = s.strVal(i, &f.stage)
		case fLevel, fVerb, fRequestURI, fUserAgent:
			i = s.strCheck(i)
		case fUser, fImpersonatedUser:
			i = s.user(i)
		case fSourceIPs:
			i = s.strArray(i)
		case fObjectRef:
			i = s.objectRef(i)
		case fResponseStatus:
			i = s.status(i, &f.code)
		case fAnnotations:
			i = s.annotations(i)
		case fRequestReceivedTimestamp:
			i = s.strVal(i, &f.ts.received)
		case fStageTimestamp:
			i = s.strVal(i, &f.ts.stage)
		case fTimestamp:
			i = s.strVal(i, &f.ts.legacy)
		case fMetadata:
			i = s.metadata(i, &f.ts.created)
		default:
			i = s.value(i, 1)
		}
	}
	return i
}

// field reads a key of an object of table t's kind and its colon, leaving
// the value at the result, and returns the key's id as decoder.key does:
// the exact names first, then encoding/json's case-folding lookup.
func (s *skimmer) field(i int, wk *wordKeys) (next, id int) {
	t := wk.t
	data := s.data
	if i < 0 || i+1 >= len(data) || data[i] != '"' {
		return -1, 0
	}
	// A known name followed by its closing quote is that key, valid,
	// with nothing to unescape: no need to scan it. Compared a word at a
	// time where 32 bytes follow, else byte by byte.
	if c := data[i+1]; c < utf8.RuneSelf && i+1+32 <= len(data) {
		p := i + 1
		d := (*[32]byte)(data[p : p+32])
		x0 := binary.LittleEndian.Uint64(d[0:8])
		x1 := binary.LittleEndian.Uint64(d[8:16])
		x2 := binary.LittleEndian.Uint64(d[16:24])
		x3 := binary.LittleEndian.Uint64(d[24:32])
		es := wk.byFirst[c]
		for j := range es {
			e := &es[j] // not a copy: a wordKey is 88 bytes
			// The first word tells most names apart; the rest at once.
			if x0&e.m[0] != e.w[0] || (x1&e.m[1]^e.w[1])|(x2&e.m[2]^e.w[2])|(x3&e.m[3]^e.w[3]) != 0 {
				continue
			}
			v := s.colon(p + e.len)
			if s.lens != 0 {
				// The items spelled as this key, worked out once (Tokens.add).
				if m := s.t.keyItems[e.tok]; m != 0 {
					s.keyItems(m, v)
				}
			}
			return v, e.id
		}
	} else if c < utf8.RuneSelf {
		for _, e := range t.byFirst[c] {
			end := i + 1 + len(e.quoted)
			if end <= len(data) && bytesString(data[i+1:end]) == e.quoted {
				v := s.colon(end)
				if s.wants(end - 1 - (i + 1)) {
					s.keyTok(i+1, end-1, v)
				}
				return v, e.id
			}
		}
	}
	end, esc := s.plainEnd(i), false
	if end < 0 {
		end, esc = s.strSlow(i)
	}
	if end < 0 {
		return -1, 0
	}
	raw := data[i+1 : end-1]
	key := bytesString(raw)
	if esc || !utf8.Valid(raw) {
		key = unquote(raw)
	}
	v := s.colon(end)
	if !esc && s.wants(end-1-(i+1)) {
		s.keyTok(i+1, end-1, v)
	}
	return v, t.lookup(key)
}

// items checks an items value as decoder.items does for a document that
// turns out to be an Event: the items' own type errors are dropped with
// them, only their syntax counts. (An EventList is not an Event: Skim
// says no to it.)
func (s *skimmer) items(i int) int {
	switch s.data[i] {
	case '[':
		return s.value(i, 1)
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

// strVal reads a string field into dst (null leaves it unchanged); -1 for
// anything else.
func (s *skimmer) strVal(i int, dst *string) int {
	if i < 0 {
		return -1
	}
	switch s.data[i] {
	case '"':
		end, esc := s.plainEnd(i), false
		if end < 0 {
			end, esc = s.strSlow(i)
		}
		if end < 0 {
			return -1
		}
		if !esc && s.wantsStr(end-1-(i+1)) {
			s.strTok(i+1, end-1)
		}
		raw := s.data[i+1 : end-1]
		if esc || s.high && !utf8.Valid(raw) {
			*dst = unquote(raw)
		} else {
			*dst = bytesString(raw)
		}
		return end
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

// strCheck is strVal for a string nobody reads.
func (s *skimmer) strCheck(i int) int {
	if i < 0 {
		return -1
	}
	switch s.data[i] {
	case '"':
		end, esc := s.plainEnd(i), false
		if end < 0 {
			end, esc = s.strSlow(i)
		}
		if !esc && end >= 0 && s.wantsStr(end-1-(i+1)) {
			s.strTok(i+1, end-1)
		}
		return end
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

// strArray checks an array of strings (groups, sourceIPs), or null.
func (s *skimmer) strArray(i int) int {
	switch s.data[i] {
	case '[':
		i, more := s.arrOpen(i)
		for ; more; i, more = s.arrNext(i) {
			i = s.strCheck(i)
		}
		return i
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

func (s *skimmer) user(i int) int {
	switch s.data[i] {
	case '{':
		i, more := s.objOpen(i)
		for ; more; i, more = s.objNext(i) {
			var id int
			if i, id = s.field(i, userWords); i < 0 {
				return -1
			}
			switch id {
			case 0:
				i = s.strCheck(i)
			case 1:
				i = s.strArray(i)
			default:
				i = s.value(i, 2)
			}
		}
		return i
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

func (s *skimmer) objectRef(i int) int {
	switch s.data[i] {
	case '{':
		i, more := s.objOpen(i)
		for ; more; i, more = s.objNext(i) {
			var id int
			if i, id = s.field(i, objectRefWords); i < 0 {
				return -1
			}
			if id >= 0 {
				i = s.strCheck(i)
			} else {
				i = s.value(i, 2)
			}
		}
		return i
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

func (s *skimmer) status(i int, code *int32) int {
	switch s.data[i] {
	case '{':
		i, more := s.objOpen(i)
		for ; more; i, more = s.objNext(i) {
			var id int
			if i, id = s.field(i, statusWords); i < 0 {
				return -1
			}
			switch id {
			case 0:
				i = s.code(i, code)
			case 1:
				i = s.strCheck(i)
			default:
				i = s.value(i, 2)
			}
		}
		return i
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

// code reads responseStatus.code by decoder.code's rules: an int32 in
// base 10, or null.
func (s *skimmer) code(i int, dst *int32) int {
	switch c := s.data[i]; {
	case c == '-' || '0' <= c && c <= '9':
		end := s.number(i)
		if end < 0 {
			return -1
		}
		if end-i <= 9 { // plain digits this short are an int32 as they are
			n := int32(0)
			k := i
			for ; k < end && s.data[k] >= '0' && s.data[k] <= '9'; k++ {
				n = n*10 + int32(s.data[k]-'0')
			}
			if k == end {
				*dst = n
				return end
			}
		}
		n, err := strconv.ParseInt(bytesString(s.data[i:end]), 10, 32)
		if err != nil {
			return -1
		}
		*dst = int32(n)
		return end
	case c == 'n':
		return s.lit(i, "null")
	}
	return -1
}

// annotations checks that every value is a string or null: the ones the
// decoder keeps (decision, reason, latencies) report nothing whatever
// their value.
func (s *skimmer) annotations(i int) int {
	switch s.data[i] {
	case '{':
		i, more := s.objOpen(i)
		for ; more; i, more = s.objNext(i) {
			i = s.strCheck(s.key(i))
		}
		return i
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

func (s *skimmer) metadata(i int, created *string) int {
	switch s.data[i] {
	case '{':
		i, more := s.objOpen(i)
		for ; more; i, more = s.objNext(i) {
			var id int
			if i, id = s.field(i, metadataWords); i < 0 {
				return -1
			}
			if id == 0 {
				i = s.strVal(i, created)
			} else {
				i = s.value(i, 2)
			}
		}
		return i
	case 'n':
		return s.lit(i, "null")
	}
	return -1
}

// skimKeys are the key tables' names (and closing quotes) as words, for
// field's comparison a word at a time. Names longer than 32 bytes are left
// out: they take the general path, which finds them too.
var (
	eventWords     = newWordKeys(eventKeys)
	userWords      = newWordKeys(userKeys)
	objectRefWords = newWordKeys(objectRefKeys)
	statusWords    = newWordKeys(statusKeys)
	metadataWords  = newWordKeys(metadataKeys)
)

type wordKeys struct {
	t       *keyTable
	byFirst [128][]wordKey
}

type wordKey struct {
	w, m [4]uint64 // the quoted name, 8 bytes a word, and which bytes count
	n    int       // words
	len  int       // bytes
	id   int
	tok  int // its index in wordKeyNames (and Tokens.keyItems)
}

// wordKeyNames are the names of every table's wordKeys, by wordKey.tok.
var wordKeyNames []string

func newWordKeys(t *keyTable) *wordKeys {
	wk := &wordKeys{t: t}
	for c, es := range t.byFirst {
		for _, e := range es {
			q := e.quoted
			if len(q) > 32 {
				continue
			}
			k := wordKey{n: (len(q) + 7) / 8, len: len(q), id: e.id, tok: len(wordKeyNames)}
			wordKeyNames = append(wordKeyNames, q[:len(q)-1])
			for j := 0; j < len(q); j++ {
				k.w[j/8] |= uint64(q[j]) << (8 * (j % 8))
				k.m[j/8] |= 0xff << (8 * (j % 8))
			}
			wk.byFirst[c] = append(wk.byFirst[c], k)
		}
	}
	return wk
}
