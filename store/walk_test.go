package store

import (
	"testing"

	"github.com/kaudit/kaudit/internal/testwait"
)

// TestWalksLetWriterIn: a long Select, Each or Times does not hold the read
// lock for the whole walk. A writer that asks for the lock during the first
// window gets it before the second window is read, so neither it nor the
// readers queued behind it (the UI's View) wait for the whole walk.
func TestWalksLetWriterIn(t *testing.T) {
	walkers := map[string]func(s *Store, set *Set, hook func()){
		"Select": func(s *Store, set *Set, hook func()) {
			s.Select(set, func(Row) bool { hook(); return true })
		},
		"Each": func(s *Store, set *Set, hook func()) {
			s.Each(set, func(*Entry) bool { hook(); return true })
		},
		"Times": func(s *Store, set *Set, hook func()) {
			s.Times(set, func(int64, bool, bool) { hook() })
		},
	}
	n := 4 * walkWindow
	evs, offs, raw := generated(t, n+walkWindow)
	for name, walk := range walkers {
		t.Run(name, func(t *testing.T) {
			s := newTestStore()
			s.Append(evs[:n], raw, offs[:n])
			set := s.All()
			calls := 0
			done := make(chan struct{})
			finished := func() bool {
				select {
				case <-done:
					return true
				default:
					return false
				}
			}
			walk(s, set, func() {
				calls++
				switch calls {
				case 1:
					go func() {
						s.Append(evs[n:], raw, offs[n:])
						close(done)
					}()
					// Until the writer holds the lock, waits for it, or is done.
					testwait.Until(t, "the writer to ask for the lock", func() bool {
						if finished() {
							return true
						}
						if s.mu.TryRLock() {
							s.mu.RUnlock()
							return false
						}
						return true
					})
				case walkWindow + 1:
					testwait.Until(t, "the writer to finish before the second window", finished)
				}
			})
			if calls != n {
				t.Errorf("the walk saw %d events, want the %d of the set", calls, n)
			}
			<-done
			if s.Len() != n+len(evs[n:]) {
				t.Errorf("Len %d after the writer", s.Len())
			}
		})
	}
}

// TestEachMayCallTheStore: Each calls fn without the lock, so fn may use
// the store, also while a writer waits.
func TestEachMayCallTheStore(t *testing.T) {
	evs, offs, raw := generated(t, 3*walkWindow)
	s := newTestStore()
	s.Append(evs, raw, offs)
	seen := 0
	s.Each(s.All(), func(e *Entry) bool {
		if got := s.Entry(e.ID); got.ID != e.ID || got.Verb != e.Verb {
			t.Fatalf("Entry(%d) inside Each: %+v, want %+v", e.ID, got, *e)
		}
		seen++
		return true
	})
	if seen != len(evs) {
		t.Errorf("Each saw %d of %d", seen, len(evs))
	}
}
