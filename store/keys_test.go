package store

import (
	"io"
	"reflect"
	"testing"

	"github.com/kaudit/kaudit/audit"
)

// keyedPart is a batch to append, and how to hand its keys.
type keyedPart struct {
	evs  []audit.Event
	offs []int64
	raw  io.ReaderAt
}

// keysParts interleaves the realistic generator's events (stages of one
// request, groups, impersonation), with duplicates, and churned ones
// (new names, user agents and groups all the time, so that retention
// compacts the dictionaries).
func keysParts(t *testing.T) []keyedPart {
	gevs, goffs, graw := generated(t, 6*testChunk)
	gevs, goffs = withDuplicates(gevs, goffs)
	cevs, coffs := churnEvents(0, 6*testChunk)
	var parts []keyedPart
	for i, j := 0, 0; i < len(gevs) || j < len(cevs); i, j = i+300, j+200 {
		if i < len(gevs) {
			parts = append(parts, keyedPart{gevs[i:min(i+300, len(gevs))], goffs[i:min(i+300, len(goffs))], graw})
		}
		if j < len(cevs) {
			parts = append(parts, keyedPart{cevs[j:min(j+200, len(cevs))], coffs[j:min(j+200, len(coffs))], churnRaw})
		}
	}
	return parts
}

// TestAppendKeysSame stores the same events with Append and with keys
// from Prepare, worked out on another goroutine a few batches ahead of
// the writer (so against older snapshots, and across compactions when
// retention runs), some batches without keys or with zero keys, and
// checks that both stores answer alike: entries, stages, requests,
// postings, text matches.
func TestAppendKeysSame(t *testing.T) {
	parts := keysParts(t)
	for _, retain := range []bool{false, true} {
		plain, keyed := newTestStore(), newTestStore()
		type prepared struct {
			keyedPart
			keys []audit.Keys
		}
		ch := make(chan prepared, 3) // the workers run ahead of the writer
		go func() {
			defer close(ch)
			for i, p := range parts {
				keys := make([]audit.Keys, len(p.evs))
				switch {
				case i%7 == 3:
					keys = nil // a batch the merge copied
				case i%11 == 5: // zero keys: nothing worked out
				default:
					keyed.Prepare(p.evs, keys)
				}
				ch <- prepared{p, keys}
			}
		}()
		var known, stale int
		for p := range ch {
			plain.Append(p.evs, p.raw, p.offs)
			keyed.mu.RLock()
			gen := uint32(keyed.compact.gen)
			keyed.mu.RUnlock()
			for _, k := range p.keys {
				if k[kMeta]&keyValid != 0 && k[colUser] != keyUnknown {
					known++
					if k[kGen] != gen {
						stale++
					}
				}
			}
			keyed.AppendKeys(p.evs, p.keys, p.raw, p.offs)
			if retain {
				plain.Retain(3*testChunk, 0)
				keyed.Retain(3*testChunk, 0)
			}
		}
		if total := len(parts) * 250; known < total/4 { // churned events mostly bring new users
			t.Errorf("retain %v: %d events had keys with known strings, of about %d: the test does not cover them", retain, known, total)
		}
		if retain && (keyed.KeyGen() == 0 || stale == 0) {
			t.Errorf("retention: %d compactions, %d events with keys of an older generation: not covered", keyed.KeyGen(), stale)
		}
		a, b := answersOf(plain), answersOf(keyed)
		if len(a.entries) == 0 || !reflect.DeepEqual(a, b) {
			t.Fatalf("retain %v: the stores answer differently (%d and %d entries)", retain, len(a.entries), len(b.entries))
		}
	}
}

// TestPrepareKeys: what Prepare works out of odd events (no auditID, one
// that is not a UUID, phases, an empty user) is what Append would.
func TestPrepareKeys(t *testing.T) {
	evs, offs, raw := decodeLines(t,
		event("not-a-uuid", "ResponseComplete", "alice", "get", "pods", "default", 200, "2026-01-15T09:00:00Z", "2026-01-15T09:00:01Z"),
		event("", "ResponseComplete", "", "list", "pods", "", 403, "2026-01-15T09:00:00Z", "2026-01-15T09:00:02Z"),
		event("4a4f1c8e-27f4-4f3f-9d3b-4b8e2c1a0f00", "ResponseStarted", "bob", "watch", "pods", "kube-system", 200, "2026-01-15T09:00:00Z", "2026-01-15T09:00:03Z"),
		event("4a4f1c8e-27f4-4f3f-9d3b-4b8e2c1a0f00", "ResponseComplete", "bob", "watch", "pods", "kube-system", 200, "2026-01-15T09:00:00Z", "2026-01-15T09:00:09Z"),
	)
	evs[0].Phases = []audit.Phase{{Name: "validating", Duration: 5}}
	plain, keyed := New(), New()
	keys := make([]audit.Keys, len(evs))
	keyed.Prepare(evs, keys) // no snapshot yet: strings unknown
	for _, k := range keys {
		if k[colUser] != keyUnknown || k[kMeta]&keyValid == 0 {
			t.Fatalf("keys before any snapshot: user %#x, meta %#x", k[colUser], k[kMeta])
		}
	}
	plain.Append(evs, raw, offs)
	keyed.AppendKeys(evs, keys, raw, offs)
	keyed.Prepare(evs, keys) // a snapshot now: all known
	for i, k := range keys {
		for col := range numStrCols {
			if col != colSource && k[col] == keyUnknown {
				t.Errorf("event %d column %d unknown after a snapshot", i, col)
			}
		}
	}
	plain.Append(evs, raw, offs)
	keyed.AppendKeys(evs, keys, raw, offs) // all duplicates
	a, b := answersOf(plain), answersOf(keyed)
	if len(a.entries) != 5 || !reflect.DeepEqual(a, b) { // the event with no auditID twice
		t.Fatalf("answers differ:\n%+v\n%+v", a.entries, b.entries)
	}
}
