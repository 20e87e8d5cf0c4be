package webhook

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kaudit/kaudit/statefile"
)

// StatsFile is the file in the state directory where kaudit serve
// keeps its receiver's counters for kaudit status.
const StatsFile = "receiver.json"

// Stats are a Receiver's counters.
type Stats struct {
	Listen        string           `json:"listen,omitempty"` // set by the caller
	Started       time.Time        `json:"started,omitzero"`
	Updated       time.Time        `json:"updated,omitzero"` // when the snapshot was written
	Requests      int64            `json:"requests"`         // answered 200
	Events        int64            `json:"events"`           // events taken
	Bytes         int64            `json:"bytes"`            // of the bodies taken (decompressed)
	Rejected      map[string]int64 `json:"rejected"`         // requests refused, by reason
	RejectedItems int64            `json:"rejected_items"`   // EventList items refused as not audit events (the others were taken)
	LastSender    string           `json:"last_sender,omitempty"`
	LastRequest   time.Time        `json:"last_request,omitzero"`
}

// TotalRejected is the number of refused requests.
func (s Stats) TotalRejected() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// statsKeeper guards the counters. Goroutines: any (a mutex).
type statsKeeper struct {
	mu sync.Mutex
	s  Stats
}

func (k *statsKeeper) init() {
	k.s = Stats{Started: time.Now().UTC(), Rejected: map[string]int64{}}
}

func (k *statsKeeper) accepted(sender string, events, bytes int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.s.Requests++
	k.s.Events += int64(events)
	k.s.Bytes += int64(bytes)
	k.s.LastSender = sender
	k.s.LastRequest = time.Now().UTC()
}

func (k *statsKeeper) reject(reason string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.s.Rejected[reason]++
}

func (k *statsKeeper) rejectItems(n int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.s.RejectedItems += n
}

func (k *statsKeeper) snapshot() Stats {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.s
	s.Rejected = maps.Clone(k.s.Rejected)
	return s
}

// SaveStats writes s to dir/StatsFile atomically and durably
// (statefile.Write), stamping Updated.
func SaveStats(dir string, s Stats) error {
	s.Updated = time.Now().UTC()
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return statefile.Write(dir, StatsFile, append(data, '\n'))
}

// LoadStats reads dir/StatsFile; ok is false when there is none.
func LoadStats(dir string) (s Stats, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(dir, StatsFile))
	if os.IsNotExist(err) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, false, err
	}
	return s, true, nil
}
