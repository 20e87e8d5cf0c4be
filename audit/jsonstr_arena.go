package audit

// One pass for the strings str's fast path leaves: the plain ones longer
// than the 64 bytes quickEnd sees, and the ASCII ones with simple escapes (the RBAC
// reason of most events: `allowed by ClusterRoleBinding \"...\"`). The
// general path scans such a string to validate it and then again to
// unescape it; strQuick validates and unescapes at once, straight into
// the arena, and leaves everything else (\u escapes, bytes >= 0x80,
// control characters, no arena or no room in it, the end of the input)
// to the general path, having changed nothing but the window.

// simpleEscapes maps the byte after a backslash to what it stands for;
// 0 for \u and for invalid escapes.
var simpleEscapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// strQuick decodes the string whose opening quote is at d.pos, as str
// does, when it is plain ASCII (its value then aliases the input) or
// ASCII with escapes other than \u and there is room in the arena.
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
		v := simpleEscapes[data[j+1]]
		if v == 0 {
			return "", false
		}
		out = append(out, v)
		r = j + 2
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
