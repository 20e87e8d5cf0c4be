//go:build !linux

package ingest

import (
	"io"
	"os"
)

// newCachedReader is f: the raw no-wait read is Linux's (see
// read_nowait_linux.go).
func newCachedReader(f *os.File) io.Reader { return f }
