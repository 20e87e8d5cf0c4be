package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
)

const benchSize = 64 << 20

// genLog writes about size bytes of the gen package's realistic audit log.
func genLog(tb testing.TB, path string, size int) {
	tb.Helper()
	g := gen.New(gen.Config{Seed: 42})
	writeLog(tb, path, size, func(dst []byte) []byte { return g.Next(dst) })
}

// fixtureLog writes about size bytes of the repository's real fixture
// events, repeated in random order, each with a fresh auditID.
func fixtureLog(tb testing.TB, path string, size int) {
	tb.Helper()
	var events [][]byte
	for _, name := range []string{"audit2rbac-demo-v1.jsonl", "falco-trace-files-k8s_audit.jsonl", "sysdig-aks-eventhubs-records.unwrapped.jsonl", "khi-oss-kind-requestresponse.jsonl", "k8sdocs-v1alpha1.jsonl"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			tb.Fatal(err)
		}
		for _, l := range bytes.Split(data, []byte{'\n'}) {
			if evs, err := audit.Decode(l, nil); err == nil && len(evs) == 1 && evs[0].AuditID != "" {
				events = append(events, bytes.Replace(l, []byte(evs[0].AuditID), []byte("%s"), 1))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	writeLog(tb, path, size, func(dst []byte) []byte {
		e := events[rng.IntN(len(events))]
		i := bytes.Index(e, []byte("%s"))
		dst = append(dst, e[:i]...)
		dst = fmt.Appendf(dst, "%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
		dst = append(dst, e[i+2:]...)
		return append(dst, '\n')
	})
}

func writeLog(tb testing.TB, path string, size int, next func([]byte) []byte) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	for n := 0; n < size; {
		line = next(line[:0])
		w.Write(line)
		n += len(line)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
}

// BenchmarkReplay measures the replay reader end to end (read, split,
// decode, reorder, emit into a no-op) over 64 MB logs in the page cache,
// with one and two decoding goroutines. Batch.Raw files are closed after
// each run so the benchmark does not pile up descriptors.
func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	logs := []struct {
		name string
		make func(testing.TB, string, int)
	}{{"gen", genLog}, {"fixtures", fixtureLog}}
	for _, lg := range logs {
		path := filepath.Join(dir, lg.name+".log")
		lg.make(b, path, benchSize)
		fi, _ := os.Stat(path)
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", lg.name, workers), func(b *testing.B) {
				benchReplay(b, path, fi.Size(), workers)
			})
		}
	}
}

func benchReplay(b *testing.B, path string, size int64, workers int) {
	b.SetBytes(size)
	b.ReportAllocs()
	var events int64
	for b.Loop() {
		var raw *os.File
		sum, err := (&Replay{Paths: []string{path}, Workers: workers}).Run(context.Background(), func(bt Batch) error {
			raw, _ = bt.Raw.(*os.File)
			return nil
		})
		if err != nil || sum.TotalProblems() != 0 {
			b.Fatalf("%v, %d problems", err, sum.TotalProblems())
		}
		events = sum.Events
		if raw != nil {
			raw.Close()
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReplayGzip: the same log gzipped: decompression and the spool
// share the cores with decoding.
func BenchmarkReplayGzip(b *testing.B) {
	dir := b.TempDir()
	plain := filepath.Join(dir, "gen.log")
	genLog(b, plain, benchSize)
	data, err := os.ReadFile(plain)
	if err != nil {
		b.Fatal(err)
	}
	gzPath := writeFile(b, dir, "gen.log.gz", gz(b, string(data)))
	b.Run("workers=2", func(b *testing.B) { benchReplay(b, gzPath, int64(len(data)), 2) })
}

// BenchmarkSpool measures the stdin/.gz spool on the realistic log:
// writing in 1 MiB chunks (compression on the spool's own goroutine),
// the compression ratio, and reading every line back by offset in order.
func BenchmarkSpool(b *testing.B) {
	for _, lg := range []struct {
		name string
		make func(testing.TB, string, int)
	}{{"gen", genLog}, {"fixtures", fixtureLog}} {
		path := filepath.Join(b.TempDir(), "log")
		lg.make(b, path, benchSize)
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(lg.name+"/write", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var st SpoolStats
			for b.Loop() {
				s := NewSpool()
				for p := data; len(p) > 0; p = p[min(len(p), 1<<20):] {
					s.Write(p[:min(len(p), 1<<20)])
				}
				s.Close()
				st = s.Stats()
			}
			b.ReportMetric(float64(st.Size)/float64(st.Compressed), "ratio")
			b.ReportMetric(float64(st.Size)/1e6/st.EncodeTime.Seconds(), "compressMB/s")
		})
		b.Run(lg.name+"/readat", func(b *testing.B) {
			s := NewSpool()
			s.Write(data)
			s.Close()
			var offs []int64
			for off := 0; off < len(data); {
				offs = append(offs, int64(off))
				off += bytes.IndexByte(data[off:], '\n') + 1
			}
			b.SetBytes(int64(len(data)))
			buf := make([]byte, 64<<10)
			for b.Loop() {
				for i, off := range offs {
					end := int64(len(data))
					if i+1 < len(offs) {
						end = offs[i+1]
					}
					if n := end - off; n <= int64(len(buf)) {
						if _, err := s.ReadAt(buf[:n], off); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}

// TestSpoolRatio logs the spool's ratio on a small realistic log, so that
// a plain `go test -v` shows it; the benchmark has the real numbers.
func TestSpoolRatio(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	genLog(t, path, 4<<20)
	data, _ := os.ReadFile(path)
	s := NewSpool()
	start := time.Now()
	s.Write(data)
	s.Close()
	st := s.Stats()
	t.Logf("spool: %d bytes -> %d (ratio %.1f) in %v", st.Size, st.Compressed, float64(st.Size)/float64(st.Compressed), time.Since(start))
	if st.Compressed*3 > st.Size {
		t.Errorf("ratio %.1f below 3", float64(st.Size)/float64(st.Compressed))
	}
}
