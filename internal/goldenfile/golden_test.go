package goldenfile

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }
func (r *recorder) Name() string          { return r.TB.Name() }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "out.golden")
	tests := []struct {
		name   string
		update bool
		got    string
		fail   bool
	}{
		{"missing file fails", false, "a\n", true},
		{"update writes it", true, "a\n", false},
		{"same passes", false, "a\n", false},
		{"different fails", false, "b\n", true},
	}
	for _, tt := range tests {
		*update = tt.update
		r := &recorder{TB: t}
		Check(r, path, []byte(tt.got))
		if r.failed != tt.fail {
			t.Errorf("%s: failed=%v, want %v", tt.name, r.failed, tt.fail)
		}
	}
	*update = false
	if b, err := os.ReadFile(path); err != nil || string(b) != "a\n" {
		t.Errorf("file holds %q, %v; want the updated content", b, err)
	}
}
