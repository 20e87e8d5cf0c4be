//go:build !linux

package ingest

import (
	"errors"
	"os"
)

const pageSize = 4096

func mapFile(*os.File, int64, int) ([]byte, error) { return nil, errors.New("not mapped here") }

func unmap([]byte) {}

// canMap: files are read, not mapped, on this system.
const canMap = false
