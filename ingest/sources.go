package ingest

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Named is one source of events: a host, a file or a cluster, and the
// paths read one after the other for it.
type Named struct {
	Name     string
	Paths    []string
	Explicit bool // given by the user: the name wins over one a decoder found
}

// ParseSource reads a --source value, NAME=PATH.
func ParseSource(v string) (Named, bool) {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return Named{}, false
	}
	return Named{Name: name, Paths: []string{path}, Explicit: true}, true
}

// groups is what Run reads: Sources, then each of Paths not named there.
func (r *Replay) groups() []Named {
	named := map[string]bool{}
	out := append([]Named(nil), r.Sources...)
	for _, s := range r.Sources {
		for _, p := range s.Paths {
			named[p] = true
		}
	}
	var rest []string
	for _, p := range r.Paths {
		if !named[p] {
			rest = append(rest, p)
		}
	}
	return append(out, InferSources(rest)...)
}

// InferSources names each path as a source: a directory by its own name
// (one directory per host: cp1/, cp2/ -> cp1, cp2), a file by its base
// name, or, when base names repeat (cp1/audit.log, cp2/audit.log), by its
// directory's name; "-" is "stdin". Names still repeated get the whole
// path.
func InferSources(paths []string) []Named {
	out := make([]Named, len(paths))
	count := map[string]int{}
	for i, p := range paths {
		out[i] = Named{Name: baseName(p), Paths: []string{p}}
		count[out[i].Name]++
	}
	for i, p := range paths {
		if count[out[i].Name] > 1 && !isDir(p) {
			out[i].Name = filepath.Base(filepath.Dir(filepath.Clean(p)))
		}
	}
	count = map[string]int{}
	for _, n := range out {
		count[n.Name]++
	}
	for i, p := range paths {
		if count[out[i].Name] > 1 {
			out[i].Name = filepath.Clean(p)
		}
	}
	return out
}

func baseName(p string) string {
	if p == "-" {
		return "stdin"
	}
	return filepath.Base(filepath.Clean(p))
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// multiRaw reads the bytes of several sources' events through one
// io.ReaderAt, so that a merged batch mixing them needs no cut: an offset
// is the part's index above partShift, the offset within it below.
//
// Goroutines: offset is called by the merging goroutine only (index and
// last are its own); ReadAt and Release by any (the store's readers): a
// RWMutex guards parts.
type multiRaw struct {
	mu    sync.RWMutex
	parts []io.ReaderAt

	index    map[io.ReaderAt]int64
	last     io.ReaderAt // the part offset last looked up, and its index:
	lastPart int64       // consecutive events mostly share one
}

// partShift leaves 1 TiB to each part's offsets.
const partShift = 40

func newMultiRaw() *multiRaw { return &multiRaw{index: map[io.ReaderAt]int64{}} }

// offset is where off of part r is in m.
func (m *multiRaw) offset(r io.ReaderAt, off int64) int64 {
	if r != m.last {
		i, ok := m.index[r]
		if !ok {
			m.mu.Lock()
			i = int64(len(m.parts))
			m.parts = append(m.parts, r)
			m.mu.Unlock()
			m.index[r] = i
		}
		m.last, m.lastPart = r, i
	}
	return m.lastPart<<partShift | off
}

func (m *multiRaw) ReadAt(p []byte, off int64) (int, error) {
	i := off >> partShift
	m.mu.RLock()
	if i < 0 || i >= int64(len(m.parts)) {
		m.mu.RUnlock()
		return 0, io.EOF
	}
	part := m.parts[i]
	m.mu.RUnlock()
	return part.ReadAt(p, off&(1<<partShift-1))
}

// Release gives back every part's resources (the store holds no event of
// any of them any more).
func (m *multiRaw) Release() {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, p := range m.parts {
		if r, ok := p.(interface{ Release() }); ok {
			r.Release()
		}
	}
}
