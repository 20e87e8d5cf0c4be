package audit

// The fast skip. skipValue checks each token with the error reporting
// encoding/json's messages need, a few calls per token. skipFast steps
// over a valid container in one loop with no error reporting: at anything
// it does not accept (a syntax error, nesting deeper than 64 levels in the
// value or near maxDepth overall, the end of the input) it gives up and
// has changed nothing, and skipValue's exact path runs from the start of
// the value. So it accepts only valid JSON, and for valid JSON both end
// at the same byte: its result can differ from skipValue's in speed only
// (TestSkipFast and the decoder fuzzers hold it to that).

// skipFast steps over the object or array at d.pos ('{' or '['); false
// means it did not and nothing has moved.
func (d *decoder) skipFast() bool {
	if d.depth+64 >= maxDepth {
		return false
	}
	data := d.data
	p := d.pos
	var objects uint64 // bit i: the container at nesting level i is an object
	depth := 0         // containers open within the value
	high := false
	for {
		// A value is due at p.
		if p = skipWS(data, p); p >= len(data) {
			return false
		}
		switch c := data[p]; c {
		case '{', '[':
			if depth == 64 {
				return false
			}
			objects = objects&^(1<<depth) | uint64(c>>5&1)<<depth // '{' is 0x7b, '[' 0x5b: bit 5 tells them apart
			depth++
			if p = skipWS(data, p+1); p >= len(data) {
				return false
			}
			if data[p] == c+2 { // '}' is '{'+2, ']' is '['+2: empty
				p++
				depth--
				break
			}
			if c == '[' {
				continue // its first value is due
			}
			if p = d.skipKeyFast(p, &high); p < 0 {
				return false
			}
			continue
		case '"':
			if end := d.win.quickEnd(data, p+1); end >= 0 {
				p = end + 1
				break
			}
			end, h, ok := d.stringEnd(p + 1)
			if !ok {
				return false
			}
			p, high = end+1, high || h
		default:
			if p = scalarEnd(data, p); p < 0 {
				return false
			}
		}
		// After a value: close containers until another value is due.
		for {
			if depth == 0 {
				d.pos = p
				d.high = d.high || high
				return true
			}
			if p = skipWS(data, p); p >= len(data) {
				return false
			}
			object := objects>>(depth-1)&1 != 0
			c := data[p]
			if c == ',' {
				p++
				if object {
					if p = d.skipKeyFast(skipWS(data, p), &high); p < 0 {
						return false
					}
				}
				break
			}
			if object && c != '}' || !object && c != ']' {
				return false
			}
			p++
			depth--
		}
	}
}

// skipKeyFast steps over `"key":` at p (after whitespace) and returns the
// index after the colon; -1 if that is not there. It sets *high when the
// key holds a byte >= 0x80.
func (d *decoder) skipKeyFast(p int, high *bool) int {
	data := d.data
	if p >= len(data) || data[p] != '"' {
		return -1
	}
	end := d.win.quickEnd(data, p+1)
	if end < 0 {
		var h, ok bool
		if end, h, ok = d.stringEnd(p + 1); !ok {
			return -1
		}
		*high = *high || h
	}
	if p = skipWS(data, end+1); p >= len(data) || data[p] != ':' {
		return -1
	}
	return p + 1
}

// skipWS returns the index of the first byte at or after p that is not
// JSON whitespace.
func skipWS(data []byte, p int) int {
	for p < len(data) && data[p] <= ' ' && (data[p] == ' ' || data[p] == '\n' || data[p] == '\t' || data[p] == '\r') {
		p++
	}
	return p
}

// scalarEnd returns the index after the literal or number at data[p], or
// -1 if none is there.
func scalarEnd(data []byte, p int) int {
	switch data[p] {
	case 't':
		return literalEnd(data, p, "true")
	case 'f':
		return literalEnd(data, p, "false")
	case 'n':
		return literalEnd(data, p, "null")
	}
	return numberEnd(data, p)
}

// literalEnd returns the index after word at data[p:], or -1 if it is
// not there.
func literalEnd(data []byte, p int, word string) int {
	if len(data)-p < len(word) || string(data[p:p+len(word)]) != word {
		return -1
	}
	return p + len(word)
}

// stringEnd finds the closing quote of the string whose body starts at
// data[i], checking it as scanString does, and reports whether the string
// held a byte >= 0x80; ok is false for an invalid or unterminated string.
// It has no effect on d but the mask window.
func (d *decoder) stringEnd(i int) (end int, high, ok bool) {
	data := d.data
	if e := d.win.plainEndAt(data, i); e >= 0 {
		return e, false, true
	}
	for {
		if i = d.win.nextSpecial(data, i, !high); i >= len(data) {
			return 0, false, false
		}
		switch c := data[i]; {
		case c == '"':
			return i, high, true
		case c == '\\':
			if i+1 >= len(data) {
				return 0, false, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) {
					return 0, false, false
				}
				for _, h := range data[i+2 : i+6] {
					if unhex(h) < 0 {
						return 0, false, false
					}
				}
				i += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		default:
			high = true
			i++
		}
	}
}

// numberEnd returns the index after the JSON number at data[p:] as
// number steps over it, or -1 where number would report an error.
func numberEnd(data []byte, p int) int {
	if end, context := scanNumber(data, p); context == "" {
		return end
	}
	return -1
}

// skipPlainStrings steps over a compact array of one or more plain
// strings at d.pos ('['), such as a user's groups, which no value of the
// wrong type can hide in; false, and nothing moved, for anything else.
func (d *decoder) skipPlainStrings() bool {
	data, p := d.data, d.pos+1
	if d.depth >= maxDepth {
		return false
	}
	for {
		end := d.plainAt(p)
		if end < 0 {
			return false
		}
		p = end + 1
		switch data[p] {
		case ']':
			d.pos = p + 1
			return true
		case ',':
			p++
		default:
			return false
		}
	}
}

// skipFlatStrings steps over a compact object of one or more keys whose
// values are all plain strings at d.pos ('{'), such as an objectRef:
// whatever its keys, no value in it can be of the wrong type for a field
// of strings. With sub, it decodes the objectRef's subresource into *sub
// as the general path would: the value of the last key "subresource"
// (another key that matches it ignoring case, as encoding/json matches,
// is left to the general path). False, and nothing moved, for anything
// else.
func (d *decoder) skipFlatStrings(sub *string) bool {
	data, p := d.data, d.pos+1
	if d.depth >= maxDepth {
		return false
	}
	const subKey = "subresource"
	var subVal []byte // the last subresource's value
	for {
		// `"key":"value"`, both plain.
		end := d.plainAt(p)
		if end < 0 || data[end+1] != ':' {
			return false
		}
		isSub := sub != nil && end-p-1 == len(subKey)
		if isSub && string(data[p+1:end]) != subKey {
			return false // "Subresource" and the like
		}
		p = end + 2
		if end = d.plainAt(p); end < 0 {
			return false
		}
		if isSub {
			subVal = data[p+1 : end]
		}
		p = end + 1
		switch data[p] {
		case '}':
			if subVal != nil {
				*sub = bytesString(subVal)
			}
			d.pos = p + 1
			return true
		case ',':
			p++
		default:
			return false
		}
	}
}

// plainAt returns the index of the closing quote of a plain string whose
// opening quote is at data[p] (one the masks show ending within 65 bytes,
// with nothing special before), when a byte follows it; else -1.
func (d *decoder) plainAt(p int) int {
	data := d.data
	if p >= len(data) || data[p] != '"' {
		return -1
	}
	end := d.win.quickEnd(data, p+1) // inlined: the usual string costs no call
	if end < 0 {
		end = d.win.plainEndAt(data, p+1)
	}
	if end+1 >= len(data) {
		return -1
	}
	return end
}
