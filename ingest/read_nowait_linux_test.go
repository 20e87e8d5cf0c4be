package ingest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCachedReader reads a file through cachedReader with buffers of
// several sizes, from the page cache, from a file dropped from it (the
// EAGAIN fallback, where the file system lets fadvise drop pages), and
// with the fast path off, and checks every byte, EOF, and that the file
// offset it leaves is where f.Read goes on.
func TestCachedReader(t *testing.T) {
	data := make([]byte, 3<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil { // written back: fadvise can drop clean pages only
		t.Fatal(err)
	}
	w.Close()
	for _, tc := range []struct {
		name    string
		buf     int
		uncache bool // drop the file's pages first
		off     bool // fast path off
	}{
		{"1 byte", 1, false, false},
		{"4 KiB", 4 << 10, false, false},
		{"1 MiB", 1 << 20, false, false},
		{"larger than the file and maxRawRead", 8 << 20, false, false},
		{"uncached", 1 << 20, true, false},
		{"off", 64 << 10, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if tc.uncache {
				_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
			}
			rd := newCachedReader(f)
			c, ok := rd.(*cachedReader)
			if !ok {
				t.Fatalf("newCachedReader(regular file) = %T, want *cachedReader", rd)
			}
			c.off = tc.off
			limit := len(data)
			if tc.buf == 1 {
				limit = 10 << 10 // byte by byte: a start is enough
			}
			var got []byte
			buf := make([]byte, tc.buf)
			for len(got) < limit {
				n, err := rd.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, data[:len(got)]) || len(got) < limit {
				t.Fatalf("read %d bytes, want the file's first %d unchanged", len(got), limit)
			}
			if len(got) == len(data) {
				if n, err := rd.Read(buf); n != 0 || err != io.EOF {
					t.Fatalf("Read at the end = %d, %v; want 0, EOF", n, err)
				}
				return
			}
			// The offset it moved is the one the ordinary read goes on from.
			rest, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rest, data[len(got):]) {
				t.Fatalf("f.Read after %d bytes read %d bytes, not the rest of the file", len(got), len(rest))
			}
		})
	}
}

// TestCachedReaderResized: a file cut short and grown again while it is
// read reads through cachedReader as through f.Read (read(2)): the same
// bytes, and EOF where read(2) finds it.
func TestCachedReaderResized(t *testing.T) {
	dir := t.TempDir()
	var got [2][]string
	for k := range got {
		path := filepath.Join(dir, "audit.log")
		if err := os.WriteFile(path, bytes.Repeat([]byte("a"), 3<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var rd io.Reader = f
		if k == 1 {
			rd = newCachedReader(f)
		}
		read := func() {
			buf := make([]byte, 1<<20)
			n, err := rd.Read(buf)
			got[k] = append(got[k], fmt.Sprintf("%d %q %v", n, buf[:min(n, 8)], err))
		}
		read()                                           // 1 MiB of a
		if err := os.Truncate(path, 1<<19); err != nil { // cut below the offset
			t.Fatal(err)
		}
		read() // EOF
		w, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("b"), 1<<20)); err != nil { // grows past the offset
			t.Fatal(err)
		}
		w.Close()
		read() // the b past 1 MiB
		read() // EOF
		f.Close()
	}
	if !slices.Equal(got[0], got[1]) || len(got[0]) != 4 {
		t.Errorf("cachedReader read %q, f.Read %q", got[1], got[0])
	}
}
