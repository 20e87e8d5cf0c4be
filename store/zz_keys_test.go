package store

import (
	"fmt"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

func TestZZKeysMisses(t *testing.T) {
	evs, offs, raw := genEvents(t, 1<<17)
	s := New(LazyPostings())
	keys := make([]audit.Keys, len(evs))
	var miss [numStrCols]int
	for i := 0; i < len(evs); i += 512 {
		j := min(i+512, len(evs))
		s.Prepare(evs[i:j], keys[i:j])
		for _, k := range keys[i:j] {
			for col := range numStrCols {
				if k[col] == keyUnknown {
					miss[col]++
				}
			}
		}
		s.AppendKeys(evs[i:j], keys[i:j], raw, offs[i:j])
	}
	fmt.Println(miss)
}
