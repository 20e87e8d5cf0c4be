package audit

// One pass for the strings str's fast path leaves: the plain ones longer
// than the 64 bytes quickEnd sees, and the ASCII ones with simple escapes (the RBAC
// reason of most events: `allowed by ClusterRoleBinding \"...\"`) or \u
// escapes of ASCII characters (a watch's requestURI: `?watch=true\u0026...`). The
// general path scans such a string to validate it and then again to
// unescape it; strQuick validates and unescapes at once, straight into
// the arena, and leaves everything else (other \u escapes, bytes >= 0x80,
// control characters, no arena or no room in it, the end of the input)
// to the general path, having changed nothing but the window.

// simpleEscapes maps the byte after a backslash to what it stands for;
// 0 for \u and for invalid escapes.
var simpleEscapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// asciiEscape decodes the \u escape of an ASCII character at data[j]
// (`\u0026`: the API server's JSON encoder writes &, < and > so): the
// byte and the escape's length 6; n is 0 for anything else.
func asciiEscape(data []byte, j int) (v byte, n int) {
	if len(data)-j < 6 || data[j+1] != 'u' || data[j+2] != '0' || data[j+3] != '0' {
		return 0, 0
	}
	hi, lo := unhex(data[j+4]), unhex(data[j+5])
	if hi < 0 || hi > 7 || lo < 0 {
		return 0, 0
	}
	return byte(hi<<4 | lo), 6
}

// strQuick decodes the string whose opening quote is at d.pos, as str
// does, when it is plain ASCII (its value then aliases the input) or
// ASCII with simple escapes or \u escapes of ASCII characters and there
// is room in the arena.
func (d *decoder) strQuick() (string, bool) {
	data := d.data
	start := d.pos + 1
	j := d.win.nextSpecial(data, start, true)
	if j >= len(data) {
		return "", false
	}
	switch data[j] {
	case '"':
		d.pos = j + 1
		return bytesString(data[start:j]), true
	case '\\':
	default:
		return "", false
	}
	if d.arena == nil {
		return "", false
	}
	a := *d.arena
	out := a[len(a):] // the arena's spare room; appends never go past it
	room := cap(out)
	for r := start; ; {
		if len(out)+(j-r)+1 > room || j+1 >= len(data) {
			return "", false
		}
		out = append(out, data[r:j]...)
		v, n := simpleEscapes[data[j+1]], 2
		if v == 0 {
			if v, n = asciiEscape(data, j); n == 0 {
				return "", false
			}
		}
		out = append(out, v)
		r = j + n
		if j = d.win.nextSpecial(data, r, true); j >= len(data) {
			return "", false
		}
		switch data[j] {
		case '"':
			if len(out)+(j-r) > room {
				return "", false
			}
			out = append(out, data[r:j]...)
			*d.arena = a[:len(a)+len(out)]
			d.pos = j + 1
			return bytesString(out), true
		case '\\':
		default:
			return "", false
		}
	}
}
