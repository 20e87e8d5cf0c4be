package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/kaudit/kaudit/statefile"
)

// PositionsVersion is the version of the positions file this code writes
// and reads.
const PositionsVersion = 1

// PositionsFile is the name of the positions file in the state directory.
const PositionsFile = "positions.json"

// fingerprintSize is how much of a file's start identifies it: enough to
// hold the first audit event (its auditID and timestamps make it unique).
const fingerprintSize = 1024

// Checkpoint is one followed source's entry in the positions file: which
// file it stood in and where, as far as the consumer acknowledged.
type Checkpoint struct {
	Source         string    `json:"source"`         // the path followed (as Tail.Path, absolute)
	Sink           string    `json:"sink,omitempty"` // "": what was read; else how far this forward sink acknowledged Source
	Path           string    `json:"path"`           // the file the offset is in (the current file, or a backup being read)
	Dev            uint64    `json:"device"`
	Inode          uint64    `json:"inode"`
	Fingerprint    string    `json:"fingerprint,omitempty"` // hex sha256 of the file's first FingerprintLen bytes (decompressed)
	FingerprintLen int       `json:"fingerprint_len"`
	Offset         int64     `json:"offset"` // end of the last complete line handed on and acknowledged
	Line           int64     `json:"line"`   // lines through Offset
	LastEvent      time.Time `json:"last_event,omitzero"`
	// FileSince: the file at Path was not rotated before (when it was
	// opened, or the time in its backup's name). If it is gone at a
	// restart, the backups rotated since are the ones after it.
	FileSince time.Time `json:"file_since,omitzero"`
	Updated   time.Time `json:"updated,omitzero"`
}

// Key is what identifies c in the positions file: its Source, and its Sink
// if it has one (LoadPositions' map and Positions.Get use it).
func (c Checkpoint) Key() string {
	if c.Sink == "" {
		return c.Source
	}
	return c.Source + " -> " + c.Sink
}

// positionsDoc is the file's JSON.
type positionsDoc struct {
	Version   int          `json:"version"`
	Positions []Checkpoint `json:"positions"`
	// Finished is, by source, the main reader's FileLog (optional: files
	// written before it existed still read as version 1).
	Finished map[string][]FinishedFile `json:"finished,omitempty"`
}

// DefaultStateDir is where positions live by default: $XDG_STATE_HOME/kaudit,
// else /var/lib/kaudit for root, else ~/.local/state/kaudit.
func DefaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "kaudit")
	}
	if os.Geteuid() == 0 {
		return "/var/lib/kaudit"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "kaudit")
	}
	return filepath.Join(os.TempDir(), "kaudit-state")
}

// LoadPositions reads the positions file in dir, by source. A missing file
// (or directory) is no positions yet, not an error.
func LoadPositions(dir string) (map[string]Checkpoint, error) {
	m, _, err := loadPositions(dir)
	return m, err
}

// loadPositions reads the checkpoints and the finished-file records.
func loadPositions(dir string) (map[string]Checkpoint, map[string][]FinishedFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, PositionsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Checkpoint{}, map[string][]FinishedFile{}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var doc positionsDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", filepath.Join(dir, PositionsFile), err)
	}
	if doc.Version != PositionsVersion {
		return nil, nil, fmt.Errorf("%s: version %d, this kaudit reads version %d", filepath.Join(dir, PositionsFile), doc.Version, PositionsVersion)
	}
	m := make(map[string]Checkpoint, len(doc.Positions))
	for _, c := range doc.Positions {
		m[c.Key()] = c
	}
	if doc.Finished == nil {
		doc.Finished = map[string][]FinishedFile{}
	}
	return m, doc.Finished, nil
}

// SavePositions writes the positions atomically and durably: a temporary
// file in dir, fsync, rename over the old file, fsync of dir. A crash leaves
// either the old file or the new one, never a mix.
func SavePositions(dir string, positions map[string]Checkpoint) error {
	return savePositions(dir, positions, nil)
}

func savePositions(dir string, positions map[string]Checkpoint, finished map[string][]FinishedFile) error {
	doc := positionsDoc{Version: PositionsVersion, Positions: make([]Checkpoint, 0, len(positions))}
	for src, es := range finished {
		if len(es) > 0 {
			if doc.Finished == nil {
				doc.Finished = map[string][]FinishedFile{}
			}
			doc.Finished[src] = es
		}
	}
	for _, c := range positions {
		doc.Positions = append(doc.Positions, c)
	}
	sort.Slice(doc.Positions, func(i, j int) bool { return doc.Positions[i].Key() < doc.Positions[j].Key() })
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return statefile.Write(dir, PositionsFile, append(data, '\n'))
}

// Positions keeps the checkpoints of the sources of one process and writes
// them when they changed (on a ticker, and at stop), never per line.
//
// It holds the state directory's lock (LockFile) from OpenPositions to
// Close: a second process gets a *StateDirBusyError. Flush also merges: it
// reads the file again and replaces only the entries this process set, so
// entries written by anyone else are never dropped.
//
// A Flush that fails (a full or unwritable state dir) keeps the changes for
// the next one and is recorded: Health says so, for the header, status and
// the exit code.
//
// Goroutines: any; a mutex guards it. Typically Tail.Acked is read by the
// flushing goroutine and handed to Set just before Flush.
type Positions struct {
	dir         string
	entries     map[string]Checkpoint
	finished    map[string][]FinishedFile // by source: the main reader's FileLog
	own         map[string]bool           // entries keys this process set
	ownFinished map[string]bool           // finished sources this process set
	dirty       bool
	now         func() time.Time
	lock        *os.File
	health      Health
	mu          sync.Mutex
}

// Health is how saving positions went.
type Health struct {
	Failures  int       // flushes that failed since OpenPositions
	Failing   bool      // the last flush failed: the file on disk is behind
	LastError string    // why the last failure failed
	LastFail  time.Time // when
	// FailingSince is when the current run of failures began (while Failing).
	FailingSince time.Time
	LastSaved    time.Time // the last successful write (zero: none yet)
}

// OpenPositions takes dir's lock (creating dir) and loads its positions
// file (see LoadPositions). Close releases the lock.
func OpenPositions(dir string) (*Positions, error) {
	lock, err := lockStateDir(dir)
	if err != nil {
		return nil, err
	}
	m, fin, err := loadPositions(dir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &Positions{dir: dir, entries: m, finished: fin, own: map[string]bool{}, ownFinished: map[string]bool{},
		now: time.Now, lock: lock}, nil
}

// Close releases the state directory (without flushing).
func (p *Positions) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lock == nil {
		return nil
	}
	err := p.lock.Close()
	p.lock = nil
	return err
}

// Health reports how saving went so far.
func (p *Positions) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// Finished returns the files source's main reader finished, as last saved
// (oldest first): what NewFileLog starts from.
func (p *Positions) Finished(source string) []FinishedFile {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.finished[source])
}

// SetFinished records source's FileLog entries if they changed.
func (p *Positions) SetFinished(source string, es []FinishedFile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if slices.Equal(p.finished[source], es) {
		return
	}
	p.finished[source] = slices.Clone(es)
	p.ownFinished[source] = true
	p.dirty = true
}

// Get returns the checkpoint with key (a source path, or a Checkpoint.Key),
// if there is one.
func (p *Positions) Get(key string) (Checkpoint, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.entries[key]
	return c, ok
}

// Set records c (by c.Key()) if it moved.
func (p *Positions) Set(c Checkpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.entries[c.Key()]
	c.Updated = old.Updated
	if ok && old == c {
		return
	}
	c.Updated = p.now().UTC()
	p.entries[c.Key()] = c
	p.own[c.Key()] = true
	p.dirty = true
}

// Flush writes the file if something changed since the last Flush.
func (p *Positions) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dirty {
		return nil
	}
	// Merge: what is on disk now, with this process's entries replaced.
	m, fin, err := loadPositions(p.dir)
	if err != nil {
		m, fin = map[string]Checkpoint{}, map[string][]FinishedFile{} // unreadable: rewrite it
	}
	for k := range p.own {
		m[k] = p.entries[k]
	}
	for src := range p.ownFinished {
		fin[src] = p.finished[src]
	}
	if err := savePositions(p.dir, m, fin); err != nil {
		p.health.Failures++
		if !p.health.Failing {
			p.health.FailingSince = p.now()
		}
		p.health.Failing, p.health.LastError, p.health.LastFail = true, err.Error(), p.now()
		if p.lock != nil {
			writeLockRecord(p.lock, p.health)
		}
		return err
	}
	if p.health.Failing && p.lock != nil {
		writeLockRecord(p.lock, Health{})
	}
	p.entries, p.finished = m, fin
	p.dirty = false
	p.health.Failing, p.health.LastSaved = false, p.now()
	return nil
}

// fingerprint identifies a file by its first n bytes (n < fingerprintSize
// only while the file is shorter).
type fingerprint struct {
	n   int
	sum string
}

func fingerprintOf(r io.ReaderAt, n int64) (fingerprint, error) {
	buf := make([]byte, n)
	m, err := r.ReadAt(buf, 0)
	if m < int(n) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return fingerprint{}, err
	}
	s := sha256.Sum256(buf)
	return fingerprint{n: int(n), sum: hex.EncodeToString(s[:])}, nil
}

func fingerprintOfBytes(b []byte) fingerprint {
	s := sha256.Sum256(b)
	return fingerprint{n: len(b), sum: hex.EncodeToString(s[:])}
}

func fingerprintOfStream(r io.Reader, n int) (fingerprint, error) {
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return fingerprint{}, err
	}
	s := sha256.Sum256(buf)
	return fingerprint{n: n, sum: hex.EncodeToString(s[:])}, nil
}

// FileID is a file's (device, inode), what positions compare.
func FileID(fi os.FileInfo) (dev, inode uint64) { return fileID(fi) }
