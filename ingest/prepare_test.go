package ingest

import (
	"context"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

// TestPrepareKeysFollowEvents: the keys Replay.Prepare works out on the
// workers reach emit beside their own events, however chunks are cut into
// batches and whether the merge hands batches on as they are or in runs.
func TestPrepareKeysFollowEvents(t *testing.T) {
	const maxLine = 1500
	data := mixedLog(150, 3, true)
	p := writeFile(t, t.TempDir(), "a.log", string(data))
	keyOf := func(e *audit.Event) audit.Keys {
		var k audit.Keys
		k[0], k[1], k[2] = 1, uint32(len(e.Raw)), crc32.ChecksumIEEE([]byte(e.AuditID))
		return k
	}
	for _, chunk := range []int{333, 4096, defaultChunk} {
		for _, window := range []int{-1, 0} {
			for _, recycle := range []bool{false, true} {
				t.Run(fmt.Sprintf("chunk%d/window%d/recycle%v", chunk, window, recycle), func(t *testing.T) {
					r := &Replay{Paths: []string{p}, MaxLine: maxLine, chunk: chunk, Workers: 2, Window: window, Recycle: recycle,
						Prepare: func(evs []audit.Event, keys []audit.Keys) {
							for i := range evs {
								keys[i] = keyOf(&evs[i])
							}
						}}
					keyed, events := 0, 0
					_, err := r.Run(context.Background(), func(b Batch) error {
						events += len(b.Events)
						if b.Keys == nil {
							return nil
						}
						if len(b.Keys) != len(b.Events) {
							t.Fatalf("%d keys for %d events", len(b.Keys), len(b.Events))
						}
						for i := range b.Events {
							if b.Keys[i] != keyOf(&b.Events[i]) {
								t.Fatalf("event %q has the keys of another", b.Events[i].AuditID)
							}
						}
						keyed += len(b.Events)
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if events == 0 || keyed != events {
						t.Fatalf("%d of %d events came with keys", keyed, events)
					}
				})
			}
		}
	}
}
