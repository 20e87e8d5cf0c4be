package ingest

import (
	"container/list"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// maxCachedFiles is how many descriptors the re-read cache keeps open. Any
// number of files can be read again; only this many are open at a time.
const maxCachedFiles = 64

// lazyFile is a file read earlier, as Batch.Raw: its bytes are read again
// by opening it by path (through a small cache of open descriptors) and
// checking it is still the same file (device, inode and first bytes). So replaying ten
// thousand files holds a few descriptors, not ten thousand.
//
// Goroutines: any (the cache serialises reads).
type lazyFile struct {
	path       string
	dev, inode uint64
	fp         fingerprint // of its first bytes when it was read (inodes are reused)
	recent     atomic.Pointer[memChunk]
}

// keep makes b, read at off, the chunk reads are answered from (the batch
// being emitted: a headless printer reads it without opening the file).
func (l *lazyFile) keep(b []byte, off int64) { l.recent.Store(&memChunk{off: off, b: b}) }

// newLazyFile is f (open at path, being read) as a lazyFile.
func newLazyFile(f *os.File, path string, dev, inode uint64) *lazyFile {
	l := &lazyFile{path: path, dev: dev, inode: inode}
	if fi, err := f.Stat(); err == nil {
		if fp, err := fingerprintOf(f, min(fi.Size(), fingerprintSize)); err == nil {
			l.fp = fp
		}
	}
	return l
}

func (l *lazyFile) ReadAt(p []byte, off int64) (int, error) {
	if n, ok, err := l.recent.Load().readAt(p, off); ok {
		return n, err
	}
	return files.readAt(l, p, off)
}

// Release closes its descriptor if it is open (the consumer holds no event
// of it any more).
func (l *lazyFile) Release() { files.drop(l) }

// files is the process's cache of descriptors for re-reading lazyFiles.
var files = &fileCache{max: maxCachedFiles, open: map[*lazyFile]*list.Element{}, lru: list.New()}

// fileCache keeps the most recently read lazyFiles open.
//
// Goroutines: any; a mutex guards it, held during reads so that a
// descriptor is never closed under a reader.
type fileCache struct {
	mu   sync.Mutex
	max  int
	open map[*lazyFile]*list.Element // value: *cachedFile
	lru  *list.List                  // front: most recently used
}

type cachedFile struct {
	l *lazyFile
	f *os.File
}

func (c *fileCache) readAt(l *lazyFile, p []byte, off int64) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.get(l)
	if err != nil {
		return 0, err
	}
	return f.ReadAt(p, off)
}

// get returns l's descriptor, opening it (and closing the least recently
// used one) if needed.
func (c *fileCache) get(l *lazyFile) (*os.File, error) {
	if e, ok := c.open[l]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cachedFile).f, nil
	}
	f, err := os.Open(l.path)
	if isFDExhausted(err) && c.lru.Len() > 0 {
		c.closeAll() // the process ran out: give back what the cache holds, once
		f, err = os.Open(l.path)
	}
	if err != nil {
		return nil, err
	}
	if l.dev != 0 || l.inode != 0 {
		fi, err := f.Stat()
		if err == nil {
			if dev, ino := fileID(fi); dev != l.dev || ino != l.inode || !matchPlain(f, l.fp) {
				err = fmt.Errorf("%s: it changed since it was read (truncated, rewritten, or another file is at this path now)", l.path)
			}
		}
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	c.open[l] = c.lru.PushFront(&cachedFile{l: l, f: f})
	for c.lru.Len() > c.max {
		c.evict(c.lru.Back())
	}
	return f, nil
}

func (c *fileCache) evict(e *list.Element) {
	cf := c.lru.Remove(e).(*cachedFile)
	delete(c.open, cf.l)
	cf.f.Close()
}

func (c *fileCache) closeAll() {
	for c.lru.Len() > 0 {
		c.evict(c.lru.Back())
	}
}

func (c *fileCache) drop(l *lazyFile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.open[l]; ok {
		c.evict(e)
	}
}

// isFDExhausted: the process (EMFILE) or the system (ENFILE) has no
// descriptor left.
func isFDExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// openInput opens a file to read it, giving back the re-read cache's
// descriptors first if the process ran out.
func openInput(path string) (*os.File, error) {
	f, err := os.Open(path)
	if isFDExhausted(err) {
		files.mu.Lock()
		files.closeAll()
		files.mu.Unlock()
		f, err = os.Open(path)
	}
	return f, err
}
