package audit

// The validating skip: whatever kaudit does not keep (request and response
// bodies, unknown keys, unneeded metadata) is checked exactly as
// encoding/json's scanner checks it, so that validity decisions agree, and
// stepped over without building anything.

// kinds records, one bit per nesting level, whether skipValue is inside an
// object (1) or an array (0). Levels past 64 are rare enough to allocate.
type kinds struct {
	lo uint64
	hi []uint64
}

func (k *kinds) set(level int, object bool) {
	var bit uint64
	if object {
		bit = 1
	}
	if level < 64 {
		k.lo = k.lo&^(1<<level) | bit<<level
		return
	}
	level -= 64
	for len(k.hi) <= level/64 {
		k.hi = append(k.hi, 0)
	}
	w := &k.hi[level/64]
	*w = *w&^(1<<(level%64)) | bit<<(level%64)
}

func (k *kinds) object(level int) bool {
	if level < 64 {
		return k.lo>>level&1 != 0
	}
	level -= 64
	return k.hi[level/64]>>(level%64)&1 != 0
}

// skipValue validates and steps over the value at d.pos, which must exist.
// It is iterative so that nesting up to maxDepth costs no stack: k holds
// whether each open container is an object or an array.
func (d *decoder) skipValue() {
	switch d.data[d.pos] {
	case '"': // most skipped values are (uids, versions)
		d.skipString()
		return
	case '{', '[':
		if d.skipCredential() || d.skipFast() {
			return
		}
	}
	d.skipSlow()
}

// skipSlow is skipValue's exact path, token by token, with encoding/json's
// error messages.
func (d *decoder) skipSlow() {
	var k kinds
	base := d.depth
	for {
		opened, ok := d.skipStart(&k, base)
		if !ok {
			return
		}
		if opened {
			continue
		}
		if done, ok := d.skipClose(&k, base); done || !ok {
			return
		}
	}
}

// skipStart steps over the start of the value at d.pos: all of a scalar or
// an empty container, or the opening of a container and (in an object) its
// first key, leaving its first value due (opened). ok is false on error.
func (d *decoder) skipStart(k *kinds, base int) (opened, ok bool) {
	data := d.data
	switch c := data[d.pos]; c {
	case '"':
		return false, d.skipString()
	case '{', '[':
		if !d.open() {
			return false, false
		}
		k.set(d.depth-base-1, c == '{')
		d.ws()
		if d.pos >= len(data) {
			d.failEOF("")
			return false, false
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		if data[d.pos] != closer { // not empty: its first value is due
			if c == '{' {
				return true, d.skipKey()
			}
			return true, true
		}
		d.pos++
		d.depth--
		return false, true
	case 't':
		return false, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return false, d.literal("null")
	default:
		if c != '-' && (c < '0' || c > '9') {
			d.fail(c, "looking for beginning of value")
			return false, false
		}
		return false, d.number()
	}
}

// skipClose is what follows a value: it closes containers until another
// value is due (in an object, after its key) or the value skipValue began
// is complete (done). ok is false on error.
func (d *decoder) skipClose(k *kinds, base int) (done, ok bool) {
	data := d.data
	for d.depth != base {
		d.ws()
		if d.pos >= len(data) {
			d.failEOF("")
			return false, false
		}
		c := data[d.pos]
		if k.object(d.depth - base - 1) {
			if c == ',' {
				d.pos++
				d.ws()
				return false, d.skipKey()
			}
			if c != '}' {
				d.fail(c, "after object key:value pair")
				return false, false
			}
		} else {
			if c == ',' {
				d.pos++
				d.ws()
				if d.pos >= len(data) {
					d.failEOF("")
					return false, false
				}
				return false, true
			}
			if c != ']' {
				d.fail(c, "after array element")
				return false, false
			}
		}
		d.pos++
		d.depth--
	}
	return true, true
}

// skipKey steps over `"key":` and the space after it, leaving a value byte
// at d.pos; false on error.
func (d *decoder) skipKey() bool {
	if d.pos >= len(d.data) {
		d.failEOF("")
		return false
	}
	if c := d.data[d.pos]; c != '"' {
		d.fail(c, "looking for beginning of object key string")
		return false
	}
	if !d.skipString() {
		return false
	}
	if !d.more() {
		return false
	}
	if c := d.data[d.pos]; c != ':' {
		d.fail(c, "after object key")
		return false
	}
	d.pos++
	return d.more()
}

// literal checks true, false or null at d.pos.
func (d *decoder) literal(word string) bool {
	for i := 1; i < len(word); i++ {
		p := d.pos + i
		if p >= len(d.data) {
			d.pos = p
			d.failEOF("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
			return false
		}
		if c := d.data[p]; c != word[i] {
			d.pos = p
			d.fail(c, "in literal "+word+" (expecting "+quoteChar(word[i])+")")
			return false
		}
	}
	d.pos += len(word)
	return true
}

// number steps over a number at d.pos; what follows it is the container's
// business, as in encoding/json's scanner ("01" is "0" then a stray "1").
func (d *decoder) number() bool {
	end, context := scanNumber(d.data, d.pos)
	d.pos = end
	switch {
	case context == "":
		return true
	case end >= len(d.data):
		d.failEOF(context)
	default:
		d.fail(d.data[end], context)
	}
	return false
}

// scanNumber checks the JSON number at data[i:] (after an optional '-', a
// digit must be there). It returns the index after it and "", or the index
// of the byte where it goes wrong (len(data) at the end of the input) and
// encoding/json's context for that error.
func scanNumber(data []byte, i int) (int, string) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	if !isDigit(data, i) {
		return i, "in numeric literal"
	}
	if data[i] == '0' {
		i++
	} else {
		i = digitsEnd(data, i)
	}
	if i < len(data) && data[i] == '.' {
		if i++; !isDigit(data, i) {
			return i, "after decimal point in numeric literal"
		}
		i = digitsEnd(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !isDigit(data, i) {
			return i, "in exponent of numeric literal"
		}
		i = digitsEnd(data, i)
	}
	return i, ""
}

func isDigit(data []byte, i int) bool {
	return i < len(data) && data[i] >= '0' && data[i] <= '9'
}

// digitsEnd returns the index of the first byte at or after i that is not
// a digit.
func digitsEnd(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}
