package audit

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestSharedCachesConcurrent decodes from several goroutines at once
// documents whose group lists and dates collide in the shared caches
// (groupSlots, lastDays), so that slots are replaced while others read
// them: each event must still be what encoding/json makes of it, and
// `go test -race` checks the caches' sharing.
func TestSharedCachesConcurrent(t *testing.T) {
	docs := make([][]byte, 600) // more lists than groupSlots has slots
	want := make([][]Event, len(docs))
	stamps := make([]time.Time, len(docs)) // by time.Parse, not through the cache
	for i := range docs {
		stamp := fmt.Sprintf("2026-%02d-%02dT01:02:03.000004Z", 1+i%12, 1+i%28)
		docs[i] = fmt.Appendf(nil, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",`+
			`"user":{"username":"u%d","groups":["system:authenticated","team-%d"]},"stageTimestamp":%q}`, i, i, stamp)
		var err error
		if want[i], err = decodeStd(docs[i], nil); err != nil {
			t.Fatal(err)
		}
		if stamps[i], err = time.Parse(time.RFC3339Nano, stamp); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 5; round++ {
				for k := range docs {
					i := (k*7 + g*131) % len(docs) // each goroutine in its own order
					got, err := Decode(docs[i], nil)
					if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].User, want[i][0].User) ||
						!got[0].StageTime.Equal(stamps[i]) {
						errs <- fmt.Sprintf("doc %s: got %+v, %v; want %+v", docs[i], got, err, want[i])
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
