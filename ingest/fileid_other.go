//go:build !unix

package ingest

import "os"

// fileID is unknown on systems without inodes.
func fileID(os.FileInfo) (dev, inode uint64) { return 0, 0 }
