package detect

import (
	"embed"
	"sync"
)

// The built-in pack: the same YAML format as --rules DIR.
//
//go:embed rules/*.yaml
var packFS embed.FS

var builtin = sync.OnceValues(func() (*Set, error) { return Load(nil, packFS, "rules") })

// Builtin returns the built-in rule pack. It is compiled once; the Set and
// its rules must not be modified.
func Builtin() (*Set, error) { return builtin() }
