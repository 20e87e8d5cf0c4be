package audit

import (
	"strconv"
	"strings"
	"time"
)

// The nested parts of an event. Each follows the encoding/json rule for its
// type in the reference (see decode_event.go): structs merge, slices are
// replaced (reusing their memory, which shows), maps merge.

// user decodes a user object; f is the group of its name (FieldUser or
// FieldImpersonated), f<<1 that of its groups.
func (d *decoder) user(u *UserInfo, reusing *bool, f Fields, prefix, name string) {
	switch d.data[d.pos] {
	case '{':
		hint := 0
		var more bool
		if v, ok := d.leadStr(`{"username":"`); ok {
			if d.leftOut&f == 0 {
				u.Name = v
			}
			hint, more = 1, true
		} else {
			more = d.objBegin()
		}
		for ; more; more = d.objNext() {
			id, ok := d.key(userKeys, &hint)
			if !ok {
				return
			}
			switch id {
			case 0:
				if d.leftOut&f != 0 {
					d.strCheck(prefix, name, ".username")
				} else {
					d.strVal(&u.Name, prefix, name, ".username")
				}
			case 1:
				if d.leftOut&(f<<1) != 0 {
					d.groupsCheck(prefix, name)
				} else {
					d.groups(&u.Groups, reusing, prefix, name)
				}
			default:
				d.skipValue()
			}
		}
	case 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, name, "")
	}
}

// groups decodes a groups array. The result is a new slice of exactly the
// right size, except when the field already holds groups: encoding/json then
// decodes into the existing slice, and a null element keeps whatever that
// slice (or its spare capacity) held at that index. To reproduce that, the
// slice is rebuilt the way encoding/json grew it and reused from then on.
func (d *decoder) groups(dst *[]string, reusing *bool, prefix, user string) {
	switch d.data[d.pos] {
	case '[':
		if *reusing || len(*dst) > 0 {
			d.groupsReusing(dst, reusing, prefix, user)
			return
		}
		if g, ok := d.cachedGroups(); ok {
			*dst = g
			return
		}
		d.groupsFresh(dst, prefix, user)
	case 'n':
		if d.literal("null") {
			*dst, *reusing = nil, false
		}
	default:
		d.mismatch(prefix, user, ".groups")
	}
}

// groupsCheck is groups for groups nobody reads: it validates and
// type-checks without decoding.
func (d *decoder) groupsCheck(prefix, user string) {
	switch d.data[d.pos] {
	case '[':
		if d.skipPlainStrings() {
			return
		}
		for more := d.arrBegin(); more; more = d.arrNext() {
			d.strCheck(prefix, user, ".groups")
		}
	case 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, user, ".groups")
	}
}

// groupsFresh decodes the array at d.pos into a new slice.
func (d *decoder) groupsFresh(dst *[]string, prefix, user string) {
	var buf [16]string
	g := buf[:0]
	for more := d.arrBegin(); more; more = d.arrNext() {
		var v string
		d.strVal(&v, prefix, user, ".groups")
		g = append(g, v)
	}
	s := []string{} // [] decodes to an empty, non-nil slice
	if len(g) > 0 {
		s = make([]string, len(g))
		copy(s, g)
	}
	*dst = s
}

func (d *decoder) groupsReusing(dst *[]string, reusing *bool, prefix, user string) {
	s := *dst
	if !*reusing {
		// encoding/json grew the slice one element at a time from nil (and
		// append grows exactly as reflect.Value.Grow does).
		var r []string
		//lint:ignore S1011 one append per element on purpose: the capacity must match encoding/json's
		for _, g := range s {
			r = append(r, g)
		}
		s, *reusing = r, true
	}
	i := 0
	for more := d.arrBegin(); more; more = d.arrNext() {
		if i >= cap(s) {
			s = append(s, "")
		} else if i >= len(s) {
			s = s[:i+1]
		}
		d.strVal(&s[i], prefix, user, ".groups")
		i++
	}
	if i < len(s) {
		s = s[:i]
	}
	if i == 0 {
		s, *reusing = []string{}, false
	}
	*dst = s
}

// sourceIPs keeps only the first address. Reusing the slice matters here
// too, but only at index 0: a null first element keeps the previous first
// address, while null and [] start afresh.
func (d *decoder) sourceIPs(dst *string, prefix string) {
	keep := d.leftOut&FieldSourceIP == 0
	switch d.data[d.pos] {
	case '[':
		// Usually one address: `["10.0.3.84"]`.
		if end := d.win.plainEndAt(d.data, d.pos+2); end >= 0 && d.data[d.pos+1] == '"' && end+1 < len(d.data) &&
			d.data[end+1] == ']' && d.depth < maxDepth {
			if keep {
				*dst = bytesString(d.data[d.pos+2 : end])
			}
			d.pos = end + 2
			return
		}
		i := 0
		for more := d.arrBegin(); more; more = d.arrNext() {
			if i == 0 && keep {
				d.strVal(dst, prefix, "sourceIPs", "")
			} else {
				d.strCheck(prefix, "sourceIPs", "")
			}
			i++
		}
		if i == 0 && keep {
			*dst = ""
		}
	case 'n':
		if d.literal("null") && keep {
			*dst = ""
		}
	default:
		d.mismatch(prefix, "sourceIPs", "")
	}
}

func (d *decoder) objectRef(o *ObjectRef, prefix string) {
	switch d.data[d.pos] {
	case '{':
		keep, keepSub := d.leftOut&FieldObject == 0, d.leftOut&FieldSubresource == 0
		if !keep {
			var sub *string // every value a string: none can be of the wrong type
			if keepSub {
				sub = &o.Subresource
			}
			if d.skipFlatStrings(sub) {
				return
			}
		}
		hint := 0
		var more bool
		if v, ok := d.leadStr(`{"resource":"`); ok {
			if keep {
				o.Resource = v
			}
			hint, more = 1, true
		} else {
			more = d.objBegin()
		}
		for ; more; more = d.objNext() {
			f, ok := d.key(objectRefKeys, &hint)
			if !ok {
				return
			}
			var dst *string
			switch f {
			case 0:
				dst = &o.APIGroup
			case 1:
				dst = &o.APIVersion
			case 2:
				dst = &o.Resource
			case 3:
				dst = &o.Subresource
			case 4:
				dst = &o.Namespace
			case 5:
				dst = &o.Name
			default:
				d.skipValue()
				continue
			}
			if f == 3 && !keepSub || f != 3 && !keep {
				d.strCheck(prefix, "objectRef.", objectRefFieldNames[f])
				continue
			}
			d.strVal(dst, prefix, "objectRef.", objectRefFieldNames[f])
		}
	case 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, "objectRef", "")
	}
}

func (d *decoder) responseStatus(e *Event, prefix string) {
	switch d.data[d.pos] {
	case '{':
		if d.statusLit(e) {
			return
		}
		hint := 0
		for more := d.objBegin(); more; more = d.objNext() {
			id, ok := d.key(statusKeys, &hint)
			if !ok {
				return
			}
			switch id {
			case 0:
				d.code(&e.Code, prefix)
			case 1:
				if d.leftOut&FieldMessage != 0 {
					d.strCheck(prefix, "responseStatus", ".message")
				} else {
					d.strVal(&e.Message, prefix, "responseStatus", ".message")
				}
			default:
				d.skipValue()
			}
		}
	case 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, "responseStatus", "")
	}
}

// code decodes an int32 as encoding/json does: the literal must parse as a
// base-10 integer in range ("1e2", "1.0" and 2147483648 are type errors,
// "-0" is 0).
func (d *decoder) code(dst *int32, prefix string) {
	c := d.data[d.pos]
	switch {
	case c == '-' || '0' <= c && c <= '9':
		start := d.pos
		if !d.number() {
			return
		}
		if n, ok := shortCode(d.data[start:d.pos]); ok {
			*dst = n
			return
		}
		lit := bytesString(d.data[start:d.pos])
		n, err := strconv.ParseInt(lit, 10, 32)
		if err != nil {
			if d.typErr == "" {
				d.typErr = "field " + prefix + "responseStatus.code holds a JSON number " + lit
			}
			return
		}
		*dst = int32(n)
	case c == 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, "responseStatus", ".code")
	}
}

// shortCode is code's value for a valid JSON number literal of at most
// nine digits and nothing else (every HTTP status): it fits an int32, so
// strconv.ParseInt would take it. ok is false for anything else.
func shortCode(lit []byte) (int32, bool) {
	if len(lit) > 9 {
		return 0, false
	}
	var n int32
	for _, c := range lit {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int32(c-'0')
	}
	return n, true
}

func (d *decoder) metadata(created *string, prefix string) {
	switch d.data[d.pos] {
	case '{':
		hint := 0
		for more := d.objBegin(); more; more = d.objNext() {
			id, ok := d.key(metadataKeys, &hint)
			if !ok {
				return
			}
			if id == 0 {
				d.strVal(created, prefix, "metadata", ".creationTimestamp")
			} else {
				d.skipValue()
			}
		}
	case 'n':
		d.literal("null")
	default:
		d.mismatch(prefix, "metadata", "")
	}
}

// annotations applies the entries in order. The reference collects them in a
// map first (the last value per key wins, null counts as "", null for the
// whole map discards it) and applies the survivors; setAnnotation makes
// in-order application end in the same state.
func (d *decoder) annotations(e *Event, prefix string) {
	switch d.data[d.pos] {
	case '{':
		hint := 0
		var more bool
		if v, ok := d.lead(decisionLits[:]); ok {
			if d.leftOut&FieldDecision == 0 {
				e.Decision = v
			}
			hint, more = 1, true
		} else {
			more = d.objBegin()
		}
		for ; more; more = d.objNext() {
			// The two the authorizer writes in every event are matched
			// without decoding their keys.
			if id, ok := d.predicted(annotationKeys, &hint); ok {
				dst, f := &e.Decision, FieldDecision
				if id == 1 {
					dst, f = &e.Reason, FieldReason
				}
				if d.leftOut&f != 0 {
					d.strCheck(prefix, "annotations", "")
					continue
				}
				var v string // null counts as ""
				d.strVal(&v, prefix, "annotations", "")
				*dst = v
				continue
			}
			key, ok := d.objKey()
			if !ok {
				return
			}
			if f := annotationField(key); f == 0 || d.leftOut&f != 0 {
				d.strCheck(prefix, "annotations", "")
				continue
			}
			var v string
			d.strVal(&v, prefix, "annotations", "")
			e.setAnnotation(key, v)
		}
	case 'n':
		if d.literal("null") {
			e.clearAnnotations()
		}
	default:
		d.mismatch(prefix, "annotations", "")
	}
}

// annotationField is the group of the annotation key: FieldDecision,
// FieldReason, FieldPhases, or 0 for one kaudit does not keep.
func annotationField(key string) Fields {
	switch {
	case key == AnnotationDecision:
		return FieldDecision
	case key == AnnotationReason:
		return FieldReason
	case strings.HasPrefix(key, AnnotationLatencyPrefix):
		return FieldPhases
	}
	return 0
}

// annotationKeys are the annotations every event has, for predicted (ids
// 0 and 1); the others are told apart by their decoded key.
var annotationKeys = newKeyTable([]string{AnnotationDecision, AnnotationReason}, 0,
	[]string{AnnotationDecision, AnnotationReason})

// setAnnotation is annotation for a key that may come again: a latency
// value that does not parse removes the phase an earlier value set.
func (e *Event) setAnnotation(key, value string) {
	name, ok := strings.CutPrefix(key, AnnotationLatencyPrefix)
	if !ok {
		e.annotation(key, value)
		return
	}
	dur, err := time.ParseDuration(value)
	for i := range e.Phases {
		if e.Phases[i].Name == name {
			if err != nil {
				e.Phases = append(e.Phases[:i], e.Phases[i+1:]...)
			} else {
				e.Phases[i].Duration = dur
			}
			return
		}
	}
	if err == nil {
		if e.Phases == nil {
			e.Phases = make([]Phase, 0, 8) // the API server writes up to about eight
		}
		e.Phases = append(e.Phases, Phase{Name: name, Duration: dur})
	}
}
