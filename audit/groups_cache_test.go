package audit

import (
	"slices"
	"strings"
	"testing"
)

// TestCachedGroups holds the shared group lists to the decoding they
// replace: the same strings, in a slice with no spare capacity whose
// strings do not alias the input, the same end; arrays that are not
// compact lists of plain strings are left to the general path.
func TestCachedGroups(t *testing.T) {
	cases := []struct {
		doc  string
		want []string // nil: not taken
	}{
		{`["system:authenticated"]`, []string{"system:authenticated"}},
		{`["system:nodes","system:authenticated"],`, []string{"system:nodes", "system:authenticated"}},
		{`["",""]}`, []string{"", ""}},
		{`["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p"]`, strings.Split("abcdefghijklmnop", "")},
		{`["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]`, nil},
		{`[]`, nil}, {`[ "a"]`, nil}, {`["a" ]`, nil}, {`["a",null]`, nil}, {`["a\"b"]`, nil}, {"[\"caf\xc3\xa9\"]", nil},
		{`["a",1]`, nil}, {`["a"`, nil}, {`["a",]`, nil}, {`["a"}`, nil}, {`["` + strings.Repeat("x", 600) + `"]`, nil},
	}
	for _, tc := range cases {
		for round := range 2 { // a miss, then a hit
			data := []byte(tc.doc)
			d := decoder{data: data}
			got, ok := d.cachedGroups()
			if ok != (tc.want != nil) {
				t.Fatalf("%q (round %d): taken %v", tc.doc, round, ok)
			}
			if !ok {
				if d.pos != 0 {
					t.Fatalf("%q: not taken but moved to %d", tc.doc, d.pos)
				}
				continue
			}
			ref := decoder{data: data}
			var want []string
			ref.groupsFresh(&want, "", "user")
			if !slices.Equal(got, want) || d.pos != ref.pos || cap(got) != len(got) {
				t.Fatalf("%q (round %d): %q (cap %d) ending at %d; decoded %q ending at %d", tc.doc, round, got, cap(got), d.pos, want, ref.pos)
			}
			for _, g := range got {
				if g != "" && within([]byte(g), data) {
					t.Fatalf("%q: %q aliases the input", tc.doc, g)
				}
			}
			for i := range data {
				data[i] = 'X' // the cached list must not change with the input
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%q: the list changed with the input: %q", tc.doc, got)
			}
		}
	}
}
