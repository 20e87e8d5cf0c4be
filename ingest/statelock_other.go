//go:build !unix

package ingest

import "os"

// tryLock: no flock here; one process per state dir is up to the operator.
func tryLock(*os.File) error { return nil }
