//go:build unix

package ingest

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes f's exclusive flock without waiting (errLocked if held).
// The kernel drops it when the process ends, however it ends.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
