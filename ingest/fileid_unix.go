//go:build unix

package ingest

import (
	"os"
	"syscall"
)

// fileID is the file's identity (device, inode), which survives renames:
// what a rotation-aware reader compares.
func fileID(fi os.FileInfo) (dev, inode uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino) //nolint:unconvert // Dev is not uint64 everywhere
	}
	return 0, 0
}
