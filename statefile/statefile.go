// Package statefile writes the files of kaudit's state directory
// (positions, forward and webhook counters) so that a crash or a
// concurrent reader sees either the old file or the new one, never a mix,
// and a file that was written survives a power loss.
package statefile

import (
	"os"
	"path/filepath"
)

// Write replaces dir/name with data: it writes a temporary file in dir
// (mode 0600), fsyncs it, renames it over name and fsyncs dir, so the
// rename itself is on disk. dir is created (mode 0700) if missing. On
// error the temporary file is removed and the old file is left as it was.
func Write(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, name+".tmp*") // CreateTemp's mode is 0600
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
