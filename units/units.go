// Package units parses the sizes kaudit's flags take (--max-memory,
// --forward-max-inflight, auditgen's -size and -rotate).
//
// One rule, as in Kubernetes quantities and IEC units: a suffix with an
// "i" is binary, one without is decimal, case-insensitive, an optional B:
//
//	512, 512B        512 bytes
//	64K, 64KB        64,000          64Ki, 64KiB   65,536
//	1.5G, 1.5GB      1,500,000,000   2Gi, 2GiB     2,147,483,648
//
// Likewise M/MB, Mi/MiB, T/TB, Ti/TiB, P/PB and Pi/PiB.
package units

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
)

// ParseBytes reads a size (see the package comment) as a number of bytes.
// Negative sizes, unknown units and sizes over 2^62 are errors.
func ParseBytes(s string) (int64, error) {
	n, err := humanize.ParseBytes(strings.TrimSpace(s))
	if err != nil || n > 1<<62 {
		return 0, fmt.Errorf("%q is not a size (e.g. 512MiB, 2GiB, 1.5GB)", s)
	}
	return int64(n), nil
}
