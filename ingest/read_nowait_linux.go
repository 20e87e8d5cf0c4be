package ingest

import (
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cachedReader reads a regular file with preadv2(RWF_NOWAIT) made as a
// raw system call, and falls back to f.Read (the runtime's blocking
// system call) for what is not in the page cache yet.
//
// Why: a 1 MiB read from the page cache takes 100-200 µs, longer than the
// runtime's monitor (sysmon) lets a P sit in a system call while other
// goroutines wait. It hands the P to another thread, and the reader's
// thread, back from the read, finds none and parks: thread wake-ups and
// context switches on every chunk, and the monitor kept polling every
// 20 µs (6,000 nanosleeps a run of the 1 GiB log). A raw call keeps the P
// through the copy; RWF_NOWAIT sees to it that it never waits for the
// disk while it does.
//
// Goroutines: one at a time.
type cachedReader struct {
	f   *os.File
	fd  int
	off bool // the kernel or file system lacks RWF_NOWAIT: f.Read only
}

// maxRawRead bounds one raw read (a buffer grown for a long line can be
// 16 MiB): the P is held, and a stop-the-world phase of the collector
// waits, for as long as the kernel copies; 1 MiB is about 200 µs.
const maxRawRead = 1 << 20

// newCachedReader reads f, a regular file that stays open while it is
// read.
func newCachedReader(f *os.File) io.Reader {
	sc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	c := &cachedReader{f: f, fd: -1}
	if sc.Control(func(fd uintptr) { c.fd = int(fd) }) != nil || c.fd < 0 {
		return f
	}
	return c
}

func (c *cachedReader) Read(p []byte) (int, error) {
	if len(p) == 0 || c.off {
		return c.f.Read(p)
	}
	if len(p) > maxRawRead {
		p = p[:maxRawRead]
	}
	iov := unix.Iovec{Base: &p[0]}
	iov.SetLen(len(p))
	const current = ^uintptr(0) // offset -1: at the file offset, which it moves, as read(2) does
	n, _, errno := unix.RawSyscall6(unix.SYS_PREADV2, uintptr(c.fd), uintptr(unsafe.Pointer(&iov)), 1, current, current, unix.RWF_NOWAIT)
	switch {
	case errno == 0 && n == 0:
		return 0, io.EOF
	case errno == 0:
		return int(n), nil
	case errno == unix.EOPNOTSUPP || errno == unix.EINVAL || errno == unix.ENOSYS:
		c.off = true // before Linux 4.14, or a file system without it
	}
	// EAGAIN (not in memory yet), EINTR or a real error: the ordinary read
	// waits, or reports it.
	return c.f.Read(p)
}
