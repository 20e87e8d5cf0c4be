package audit

import (
	"strings"
	"testing"
)

// TestStrQuick holds the one-pass string path to the definition (unquote
// of a valid string's body, what the general path returns): where it
// takes a string, the same value, the same end, and the arena grown by the
// value alone; where it does not, nothing moved.
func TestStrQuick(t *testing.T) {
	long := strings.Repeat("abcdefgh", 40)
	cases := []struct {
		doc   string // a string and what follows it
		taken bool   // with room in the arena
	}{
		{`"` + long + `",`, true},
		{`"RBAC: allowed by ClusterRoleBinding \"system:kube-controller-manager\" of ClusterRole \"x\""}`, true},
		{`"\"\\\/\b\f\n\r\t"`, true}, {`"a\\"`, true}, {`"\\\\"`, true}, {`"` + long + `\n` + long + `"`, true},
		{`"\u0041"`, true}, {`"/x?watch=true\u0026a=b\u0026c=d"`, true}, {`"\u003c\u003e\u007f\u0000\u005c\u0022"`, true},
		{`"\u0080"`, false}, {`"\u00g1"`, false}, {`"\u00"`, false}, {`"a\u002"`, false}, {`"\u0100"`, false}, {`"\ud800"`, false},
		{`"a\"b\u00e9"`, false}, {"\"caf\xc3\xa9\"", false}, {"\"a\\\"\xff\"", false},
		{"\"a\\\"\x01\"", false}, {`"a\x"`, false}, {`"a\"`, false}, {`"a\`, false}, {`"abc`, false}, {"\"a\\\"b\x00\"", false},
	}
	for _, tc := range cases {
		for _, room := range []int{0, 8, 1 << 12} {
			for _, withArena := range []bool{false, true} {
				data := []byte(tc.doc)
				arena := make([]byte, 2, 2+room)
				d := decoder{data: data}
				if withArena {
					d.arena = &arena
				}
				got, ok := d.strQuick()
				if !ok {
					if d.pos != 0 || len(arena) != 2 {
						t.Fatalf("%q: not taken but moved to %d, arena %d", tc.doc, d.pos, len(arena))
					}
					plain := !strings.Contains(tc.doc[:strings.LastIndexByte(tc.doc, '"')], `\`)
					if tc.taken && (plain || withArena && room >= len(tc.doc)) {
						t.Fatalf("%q (room %d, arena %v): not taken", tc.doc, room, withArena)
					}
					continue
				}
				if !tc.taken {
					t.Fatalf("%q: taken as %q", tc.doc, got)
				}
				ref := decoder{data: data}
				if !ref.skipString() {
					t.Fatalf("%q: not a string", tc.doc)
				}
				want := unquote(data[1 : ref.pos-1])
				if got != want || d.pos != ref.pos {
					t.Fatalf("%q: %q ending at %d; want %q ending at %d", tc.doc, got, d.pos, want, ref.pos)
				}
				if grown := len(arena) - 2; grown != 0 && (grown != len(got) || !within([]byte(got), arena)) {
					t.Fatalf("%q: arena grew by %d for %q", tc.doc, grown, got)
				}
			}
		}
	}
}
