package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2ETailRealSizeLines writes, in pieces while the tailer reads, a
// 20 MiB line (over the default 16 MiB cap: skipped and reported) and a
// 15 MiB event (kept), between small events. KAUDIT_E2E=1 only: it moves
// ~70 MiB through memory.
func TestE2ETailRealSizeLines(t *testing.T) {
	if os.Getenv("KAUDIT_E2E") != "1" {
		t.Skip("set KAUDIT_E2E=1 to run end-to-end tests")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendLines(t, path, "s-1")
	r := startTail(t, &Tail{Path: path})
	r.waitN(1)
	huge := `{"kind":"Event","auditID":"x","requestObject":"` + strings.Repeat("y", 20<<20) + `"}` + "\n"
	big := strings.Replace(ev("s-big"), `"verb":"list"`, `"verb":"list","requestObject":{"data":"`+strings.Repeat("z", 15<<20)+`"}`, 1) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{huge, big} {
		for i := 0; i < len(s); i += 3 << 20 {
			f.WriteString(s[i:min(i+3<<20, len(s))])
			time.Sleep(20 * time.Millisecond)
		}
	}
	f.Close()
	appendLines(t, path, "s-2")
	checkExactlyOnce(t, r.waitN(3), []string{"s-1", "s-big", "s-2"})
	p := r.problemList()
	if len(p) != 1 || p[0].Kind != TooLong || p[0].Line != 2 {
		t.Fatalf("problems: %v", p)
	}
	if r.rawBad != 0 {
		t.Fatal("raw bytes of the big event could not be read back")
	}
}
