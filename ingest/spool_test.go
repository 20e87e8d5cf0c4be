package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestSpool writes a stream in uneven pieces with skipped stretches and
// reads it back at random places, during and after writing.
func TestSpool(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := NewSpool()
	var ref []byte  // the stream, zeros where skipped
	var hole []bool // per byte: skipped
	var mu sync.Mutex
	check := func(off int64, n int) {
		mu.Lock()
		size := int64(len(ref))
		want := append([]byte(nil), ref[min(off, size):min(off+int64(n), size)]...)
		inHole := false
		for i := off; i < min(off+int64(n), size); i++ {
			inHole = inHole || hole[i]
		}
		mu.Unlock()
		got := make([]byte, n)
		m, err := s.ReadAt(got, off)
		switch {
		case inHole:
			if !errors.Is(err, ErrSpoolHole) {
				t.Errorf("ReadAt(%d, %d) over a hole: err %v", off, n, err)
			}
		case off+int64(n) > size:
			if err != io.EOF || m != len(want) || !bytes.Equal(got[:m], want) {
				t.Errorf("ReadAt(%d, %d) past the end: %d, %v", off, n, m, err)
			}
		case err != nil || !bytes.Equal(got, want):
			t.Errorf("ReadAt(%d, %d): %v, equal %v", off, n, err, bytes.Equal(got, want))
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // a reader racing the writer
		defer wg.Done()
		r := rand.New(rand.NewPCG(8, 8))
		for range 300 {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			size := int64(len(ref)) // ref is appended to after the spool
			mu.Unlock()
			if size > 0 {
				off := r.Int64N(size)
				check(off, int(min(1+r.Int64N(1000), size-off)))
			}
		}
	}()
	for range 200 {
		if rng.IntN(20) == 0 {
			n := 1 + rng.IntN(100000)
			s.Skip(int64(n))
			mu.Lock()
			ref = append(ref, make([]byte, n)...)
			for range n {
				hole = append(hole, true)
			}
			mu.Unlock()
			continue
		}
		p := []byte(strings.Repeat(fmt.Sprintf("line %d of the stream,", rng.IntN(1000)), 1+rng.IntN(600)))
		s.Write(p)
		mu.Lock()
		ref = append(ref, p...)
		for range p {
			hole = append(hole, false)
		}
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	s.Close()
	for i := range 100 {
		off := rng.Int64N(int64(len(ref)))
		n := 1 + rng.IntN(1000)
		if i%10 == 0 {
			n = 1 + rng.IntN(3*SpoolFrameSize) // across frames
		}
		check(off, n)
	}
	st := s.Stats()
	if st.Size != int64(len(ref)) || st.Pending != 0 || st.Compressed == 0 || st.Compressed > st.Size/4 {
		t.Errorf("stats %+v for %d bytes", st, len(ref))
	}
	if _, err := s.Write([]byte("x")); err == nil {
		t.Error("write after close succeeded")
	}
}

// TestRawReadAt: Offsets lead back to each event's bytes, for plain files
// (the file itself), gzip files and stdin (spools), after Run returned,
// including events after a skipped line and EventList items.
func TestRawReadAt(t *testing.T) {
	data := lines(ev("1"), evList("2", "3"), `{"x":"`+strings.Repeat("s", 5000)+`"}`, ev("4")) + "  " + ev("5") + "\r"
	dir := t.TempDir()
	plain := writeFile(t, dir, "a.log", data)
	gzipped := writeFile(t, dir, "b.log.gz", gz(t, data))
	for _, tt := range []struct {
		name  string
		paths []string
		stdin io.Reader
		raw   string
	}{
		{"plain", []string{plain}, nil, "*ingest.lazyFile"},
		{"gzip", []string{gzipped}, nil, "*ingest.Spool"},
		{"stdin", []string{"-"}, strings.NewReader(data), "*ingest.Spool"},
		{"stdin gzip", []string{"-"}, strings.NewReader(gz(t, data)), "*ingest.Spool"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, &Replay{Paths: tt.paths, Stdin: tt.stdin, MaxLine: 4096, chunk: 100})
			if got := res.ids(); !eq(got, []string{"1", "2", "3", "4", "5"}) {
				t.Fatalf("events %q", got)
			}
			for _, b := range res.batches {
				if got := fmt.Sprintf("%T", b.Raw); got != tt.raw {
					t.Errorf("Raw is %s, want %s", got, tt.raw)
				}
				for i, e := range b.Events {
					if want := int64(strings.Index(data, string(e.Raw))); b.Offsets[i] != want {
						t.Errorf("event %s at %d, want %d", e.AuditID, b.Offsets[i], want)
					}
				}
			}
		})
	}
}

// TestUnusedFilesClosed: every file is closed after reading (events' bytes
// are read again by path, through the cache); reading them back opens one
// descriptor, and Release closes it.
func TestUnusedFilesClosed(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.log", lines("nope", "nope"))
	good := writeFile(t, dir, "good.log", lines(ev("1")))
	res := run(t, &Replay{Paths: []string{bad, good}})
	b := res.batches[0]
	b.Raw.(interface{ Release() }).Release() // run read the bytes back: drop that
	if n := openCount(t, bad); n != 0 {
		t.Errorf("bad.log open %d times after Run", n)
	}
	if n := openCount(t, good); n != 0 {
		t.Errorf("good.log open %d times after Run, want 0", n)
	}
	got := make([]byte, len(b.Events[0].Raw))
	if _, err := b.Raw.ReadAt(got, b.Offsets[0]); err != nil || string(got) != string(b.Events[0].Raw) {
		t.Fatalf("read back %q, %v", got, err)
	}
	if n := openCount(t, good); n != 1 {
		t.Errorf("good.log open %d times after a read back, want 1 (cached)", n)
	}
	b.Raw.(interface{ Release() }).Release()
	if n := openCount(t, good); n != 0 {
		t.Errorf("good.log open %d times after Release, want 0", n)
	}
}

// TestLazyFileIdentity: a file replaced at its path after it was read is
// not read as if it were the same file (while a descriptor of the old one
// is cached, the old one's bytes are read, which is right too).
func TestLazyFileIdentity(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "a.log", lines(ev("1")))
	res := run(t, &Replay{Paths: []string{path}})
	b := res.batches[0]
	b.Raw.(interface{ Release() }).Release() // not held open: opened again by path
	os.Remove(path)
	writeFile(t, dir, "a.log", lines(ev("2")))
	got := make([]byte, len(b.Events[0].Raw))
	if _, err := b.Raw.ReadAt(got, b.Offsets[0]); err == nil {
		t.Errorf("read the replaced file's bytes as the old one's: %q", got)
	}
}

// openCount is how many of the process's descriptors refer to path.
func openCount(t *testing.T, path string) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			n++
		}
	}
	return n
}

func TestSpoolRelease(t *testing.T) {
	s := NewSpool()
	s.Write(bytes.Repeat([]byte("x"), 3*SpoolFrameSize/2))
	s.Release()
	s.Release() // twice is harmless
	if _, err := s.ReadAt(make([]byte, 10), 5); err == nil {
		t.Fatal("ReadAt after Release: no error")
	}
	if st := s.Stats(); st.Size == 0 || st.Frames != 0 {
		t.Errorf("stats after release: %+v (want the size kept, no frames)", st)
	}
}
