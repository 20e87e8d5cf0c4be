package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRotation: backups, oldest first, then audit.log hold exactly the bytes
// of the unrotated stream, split at line boundaries, with lumberjack names.
func TestRotation(t *testing.T) {
	var stream, stderr bytes.Buffer
	if code := run([]string{"-out", "-", "-events", "3000", "-seed", "5", "-q"}, &stream, &stderr); code != 0 {
		t.Fatalf("stdout run: %d %s", code, stderr.String())
	}
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		args := []string{"-out", dir, "-events", "3000", "-seed", "5", "-rotate", "1MiB", "-q"}
		if gz {
			args = append(args, "-gzip")
		}
		if code := run(args, io.Discard, &stderr); code != 0 {
			t.Fatalf("dir run: %d %s", code, stderr.String())
		}
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		slices.Sort(names) // backup names sort by time; audit.log sorts last
		pat := regexp.MustCompile(`^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log$`)
		if gz {
			pat = regexp.MustCompile(`^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log\.gz$`)
		}
		var all []byte
		for i, name := range names {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if i == len(names)-1 {
				if name != "audit.log" {
					t.Fatalf("files %v: last is not audit.log", names)
				}
			} else {
				if !pat.MatchString(name) {
					t.Fatalf("bad backup name %q", name)
				}
				if gz {
					zr, err := gzip.NewReader(bytes.NewReader(b))
					if err != nil {
						t.Fatal(err)
					}
					if b, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				if len(b) > 1<<20 || !bytes.HasSuffix(b, []byte("\n")) {
					t.Fatalf("%s: %d bytes, ends with newline: %v", name, len(b), bytes.HasSuffix(b, []byte("\n")))
				}
			}
			all = append(all, b...)
		}
		if len(names) < 3 {
			t.Fatalf("expected rotation, got %v", names)
		}
		if !bytes.Equal(all, stream.Bytes()) {
			t.Fatalf("gzip=%v: rotated files differ from the stream (%d vs %d bytes)", gz, len(all), stream.Len())
		}
	}
}

func TestSizeLimitAndUsage(t *testing.T) {
	var out, stderr bytes.Buffer
	if code := run([]string{"-out", "-", "-size", "100KiB", "-q"}, &out, &stderr); code != 0 {
		t.Fatalf("run: %d %s", code, stderr.String())
	}
	if out.Len() > 100<<10 || out.Len() < 90<<10 || !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		t.Fatalf("-size 100KiB wrote %d bytes", out.Len())
	}
	for _, args := range [][]string{{}, {"-out", "-"}, {"-out", "-", "-size", "1k", "-events", "3"}, {"-out", "-", "-events", "1", "x"}} {
		stderr.Reset()
		if code := run(args, io.Discard, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "usage") {
			t.Errorf("run(%q) = %d, want usage error; stderr %q", args, code, stderr.String())
		}
	}
}
