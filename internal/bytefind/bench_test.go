package bytefind

import (
	"bytes"
	"testing"

	"github.com/kaudit/kaudit/gen"
)

// BenchmarkIndex searches 4 MB of generated audit JSON, one event at a
// time as find does, with a Finder and with bytes.Index.
func BenchmarkIndex(b *testing.B) {
	g := gen.New(gen.Config{Seed: 1})
	var buf []byte
	var starts []int
	for len(buf) < 4<<20 {
		starts = append(starts, len(buf))
		buf = g.Next(buf)
	}
	starts = append(starts, len(buf))
	for _, needle := range []string{"secrets", "Forbidden", `"code":`, "kube-system"} {
		nd := []byte(needle)
		f := New(nd)
		for _, c := range []struct {
			name string
			fn   func([]byte) bool
		}{{"bytefind", f.Contains}, {"bytes", func(s []byte) bool { return bytes.Contains(s, nd) }}} {
			b.Run(needle+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					for i := 1; i < len(starts); i++ {
						c.fn(buf[starts[i-1]:starts[i]])
					}
				}
			})
		}
	}
}
