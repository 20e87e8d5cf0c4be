package ingest

import (
	"os"
	"syscall"
)

const pageSize = 4096

// mapFile maps n bytes of f from off (a multiple of pageSize) read-only,
// its pages mapped at once (MAP_POPULATE: one call, not a fault a page).
func mapFile(f *os.File, off int64, n int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), off, n, syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
}

func unmap(mem []byte) { _ = syscall.Munmap(mem) }

// canMap: files are mapped on this system.
const canMap = true
