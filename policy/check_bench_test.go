package policy

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCheck: a policy the size of the big cloud providers' (about 30
// rules) and a pathological one with 500.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{30, 500} {
		var sb strings.Builder
		sb.WriteString(head)
		for i := range n {
			fmt.Fprintf(&sb, "- level: Request\n  users: [u%d]\n  verbs: [get, list]\n  resources: [{group: g%d, resources: [r%d]}]\n", i, i, i)
		}
		sb.WriteString("- level: Metadata\n")
		data := []byte(sb.String())
		b.Run(fmt.Sprint(n, "rules"), func(b *testing.B) {
			for b.Loop() {
				if fs := CheckBytes(data); len(fs) != 0 {
					b.Fatal(fs)
				}
			}
		})
	}
}
