package forward

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kaudit/kaudit/statefile"
)

// StatsFile is the name, in a state directory, of the file a forwarding
// process writes its sinks' counters to (with its positions), for
// kaudit status.
const StatsFile = "forward.json"

// statsDoc is StatsFile's JSON.
type statsDoc struct {
	Version int       `json:"version"`
	PID     int       `json:"pid"`
	Updated time.Time `json:"updated"`
	Sinks   []Stats   `json:"sinks"`
}

// SaveStats writes the counters of sinks to dir atomically and durably
// (statefile.Write): status readers see the old file or the new one.
func SaveStats(dir string, sinks []Stats) error {
	doc := statsDoc{Version: 1, PID: os.Getpid(), Updated: time.Now().UTC(), Sinks: sinks}
	sort.Slice(doc.Sinks, func(i, j int) bool { return doc.Sinks[i].Sink < doc.Sinks[j].Sink })
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return statefile.Write(dir, StatsFile, append(data, '\n'))
}

// LoadStats reads the counters SaveStats wrote to dir, and when; none
// (and no error) if there is no such file.
func LoadStats(dir string) ([]Stats, time.Time, error) {
	data, err := os.ReadFile(filepath.Join(dir, StatsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	var doc statsDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, time.Time{}, err
	}
	return doc.Sinks, doc.Updated, nil
}
