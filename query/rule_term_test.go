package query

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kaudit/kaudit/store"
)

// flaggedMap is a Flagged of fixed hits by rule.
type flaggedMap map[string]*store.Set

func (f flaggedMap) Flagged(match func(string) bool) *store.Set {
	out := roaring.New()
	for r, s := range f {
		if match(r) {
			out.Or(s)
		}
	}
	return out
}

// rule:NAME keeps every event of the requests a matching rule flagged,
// whichever of hits and candidates is walked; -rule: is the rest; without
// rules in the context it is an error that names --detect.
func TestRuleTerm(t *testing.T) {
	st := loadStore(t, filterFixtures...)
	all := st.All()
	// Flag every 7th event for a, every 11th for b: requests with several
	// stages get flagged on one of them.
	a, b := roaring.New(), roaring.New()
	for id := range uint32(st.Len()) {
		if id%7 == 0 {
			a.Add(id)
		}
		if id%11 == 0 {
			b.Add(id)
		}
	}
	fl := flaggedMap{"exec-into-pod": a, "secret-read": b}
	want := func(hits, cand *store.Set) []uint32 {
		var out []uint32
		for _, id := range cand.ToArray() {
			for _, s := range st.Stages(id) {
				if hits.Contains(s) {
					out = append(out, id)
					break
				}
			}
		}
		return out
	}
	ctx := WithFlagged(context.Background(), fl)
	cases := []struct {
		filter string
		hits   *store.Set
	}{
		{"rule:exec-into-pod", a},
		{"rule:secret-read", b},
		{"rule:exec-*,secret-read", roaring.Or(a, b)},
		{"rule:*", roaring.Or(a, b)},
		{"rule:nothing", roaring.New()},
	}
	multi := 0
	for _, id := range st.Requests().ToArray() {
		if len(st.Stages(id)) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("the fixtures have no request with several stages: the test would show nothing")
	}
	for _, c := range cases {
		f, err := Compile(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		// Walking the candidates (few) and walking the hits (few) agree.
		for _, cand := range []*store.Set{all, st.Requests(), roaring.BitmapOf(1, 2, 3, 50, 51)} {
			got, err := f.Eval(ctx, st, cand)
			if err != nil {
				t.Fatal(err)
			}
			if w := want(c.hits, cand); fmt.Sprint(got.ToArray()) != fmt.Sprint(w) && !(len(w) == 0 && got.IsEmpty()) {
				t.Errorf("%s over %d candidates: %d kept, want %d", c.filter, cand.GetCardinality(), got.GetCardinality(), len(w))
			}
		}
		neg, _ := Compile("-" + c.filter)
		got, err := neg.Eval(ctx, st, all)
		if err != nil || int(got.GetCardinality()) != st.Len()-len(want(c.hits, all)) {
			t.Errorf("-%s: %d kept (err %v)", c.filter, got.GetCardinality(), err)
		}
	}
	f, _ := Compile("rule:exec-into-pod")
	if _, err := f.Eval(context.Background(), st, all); err == nil || !strings.Contains(err.Error(), "--detect") {
		t.Errorf("rule: without detections: %v", err)
	}
}
