// Command stagecost measures, on one goroutine, the CPU each stage of
// loading a log takes per event: read (1 MiB reads copied into one
// buffer), split (finding newlines), decode (audit.Decode) and store
// (store.Append: interning, postings, dedup and pairing, columns). With
// -keys the store stage is split as the pipeline runs it: prepare
// (store.Prepare, on the decode workers there) and store
// (store.AppendKeys, the writer). With
// -cpuprofile the store stage is profiled over -rounds fresh stores, which
// splits it further (dict.intern, roaring Add, the auditID maps).
//
//	go run ./scripts/stagecost [-cpuprofile F] [-rounds N] [-lazy] [-keys] FILE
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/internal/testcpu"
	"github.com/kaudit/kaudit/store"
)

// lazy: the stores are made with store.LazyPostings; keys: events are
// stored with keys from store.Prepare.
var lazy, keys bool

func newStore() *store.Store {
	if lazy {
		return store.New(store.LazyPostings())
	}
	return store.New()
}

func main() {
	prof := flag.String("cpuprofile", "", "write a CPU profile of the store stage to `FILE`")
	rounds := flag.Int("rounds", 1, "times the store stage runs (into fresh stores)")
	flag.BoolVar(&lazy, "lazy", false, "stores without postings until asked (store.LazyPostings), as headless replay uses")
	flag.BoolVar(&keys, "keys", false, "store with keys from store.Prepare (store.AppendKeys), as replay does")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: stagecost [-cpuprofile F] [-rounds N] [-lazy] [-keys] FILE")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *prof, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "stagecost:", err)
		os.Exit(1)
	}
}

func run(path, prof string, rounds int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var c costs
	data, err := readAll(f, &c)
	if err != nil {
		return err
	}
	n := countLines(data, &c)
	evs, offs := decodeAll(data, n, &c)

	runtime.GC()
	if prof != "" {
		stop, err := startProfile(prof)
		if err != nil {
			return err
		}
		defer stop()
	}
	storeRounds(evs, offs, f, rounds, &c)
	decodeStoreRounds(data, f, rounds, &c)
	c.print()
	return nil
}

// costs are what run measured.
type costs struct {
	events, bytes                int
	read, split, decode          time.Duration // CPU
	prepare                      time.Duration // with -keys, the last -rounds
	store, storeWall             time.Duration // the last -rounds
	decodeStore, decodeStoreWall time.Duration // the median of -rounds
	stats                        store.Stats
}

// readAll reads f 1 MiB at a time into one buffer.
func readAll(f *os.File, c *costs) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, 0, fi.Size())
	start := testcpu.Time()
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		data = append(data, buf[:k]...)
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
	}
	c.read = testcpu.Time() - start
	c.bytes = len(data)
	return data, nil
}

// countLines counts the newlines of data.
func countLines(data []byte, c *costs) int {
	start := testcpu.Time()
	n := 0
	for s := 0; s < len(data); n++ {
		i := bytes.IndexByte(data[s:], '\n')
		if i < 0 {
			break
		}
		s += i + 1
	}
	c.split = testcpu.Time() - start
	return n
}

// decodeAll decodes data's n lines, and returns the events and the offset
// of each one's line.
func decodeAll(data []byte, n int, c *costs) ([]audit.Event, []int64) {
	evs := make([]audit.Event, 0, n+1)
	var offs []int64
	start := testcpu.Time()
	for s := 0; s < len(data); {
		end := bytes.IndexByte(data[s:], '\n')
		if end < 0 {
			end = len(data) - s
		}
		evs, _ = audit.Decode(data[s:s+end], evs)
		for len(offs) < len(evs) {
			offs = append(offs, int64(s))
		}
		s += end + 1
	}
	c.decode = testcpu.Time() - start
	c.events = len(evs)
	return evs, offs
}

// startProfile starts the CPU profile into path; stop ends it.
func startProfile(path string) (stop func(), err error) {
	pf, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}

// storeRounds appends the decoded events, 512 at a time, to -rounds fresh
// stores. With -keys, batch i+2's keys are prepared before batch i is
// appended (the workers run ahead of the writer), and prepare's CPU is
// counted apart.
func storeRounds(evs []audit.Event, offs []int64, raw io.ReaderAt, rounds int, c *costs) {
	var ks []audit.Keys
	if keys {
		ks = make([]audit.Keys, len(evs))
	}
	const ahead = 2 * 512
	for range max(rounds, 1) {
		s := newStore()
		var prep time.Duration
		prepared := 0
		start := testcpu.Time()
		t0 := time.Now()
		for i := 0; i < len(evs); i += 512 {
			j := min(i+512, len(evs))
			if !keys {
				s.Append(evs[i:j], raw, offs[i:j])
				continue
			}
			p0 := testcpu.Time()
			for ; prepared < min(j+ahead, len(evs)); prepared += 512 {
				k := min(prepared+512, len(evs))
				s.Prepare(evs[prepared:k], ks[prepared:k])
			}
			prep += testcpu.Time() - p0
			s.AppendKeys(evs[i:j], ks[i:j], raw, offs[i:j])
		}
		c.store, c.storeWall = testcpu.Time()-start-prep, time.Since(t0)
		c.prepare = prep
		c.stats = s.Stats()
	}
}

// decodeStoreRounds times decode+store: each batch stored right after it
// was decoded, as the pipeline does, so the store reads strings that are
// still in cache (the store pass above reads every event cold).
// store-warm is this less the decode pass.
func decodeStoreRounds(data []byte, raw io.ReaderAt, rounds int, c *costs) {
	var boths, bothWalls []time.Duration
	for range max(rounds, 1) {
		runtime.GC()
		cpu, wall := decodeAndStore(data, raw)
		boths, bothWalls = append(boths, cpu), append(bothWalls, wall)
	}
	c.decodeStore, c.decodeStoreWall = median(boths), median(bothWalls)
}

func (c *costs) print() {
	ne := float64(c.events)
	line := func(name string, d time.Duration) {
		fmt.Printf("%-12s %6.0f ns/event  %7.3f s  %6.2f GB per CPU-second\n", name, float64(d.Nanoseconds())/ne, d.Seconds(), float64(c.bytes)/1e9/d.Seconds())
	}
	fmt.Printf("%d events, %d bytes (%.0f B/event)\n", c.events, c.bytes, float64(c.bytes)/ne)
	line("read", c.read)
	line("split", c.split)
	line("decode", c.decode)
	if keys {
		line("prepare", c.prepare)
	}
	line("store", c.store)
	fmt.Printf("store   %6.0f ns/event wall (the store may use a second goroutine)\n", float64(c.storeWall.Nanoseconds())/ne)
	line("decode+store", c.decodeStore) // the median of -rounds
	line("store-warm", c.decodeStore-c.decode)
	fmt.Printf("decode+store %6.0f ns/event wall\n", float64(c.decodeStoreWall.Nanoseconds())/ne)
	fmt.Printf("store: %d events, %d requests, index estimate %.1f MiB\n", c.stats.Events, c.stats.Requests, float64(c.stats.IndexBytes)/(1<<20))
}

// decodeAndStore decodes data a batch of 512 events at a time and stores
// each batch at once, and returns the CPU and wall time it took.
func decodeAndStore(data []byte, raw io.ReaderAt) (time.Duration, time.Duration) {
	st := newStore()
	batch := make([]audit.Event, 0, 512)
	ks := make([]audit.Keys, 512)
	var offs []int64
	start, t0 := testcpu.Time(), time.Now()
	for s := 0; s < len(data); {
		end := bytes.IndexByte(data[s:], '\n')
		if end < 0 {
			end = len(data) - s
		}
		batch, _ = audit.Decode(data[s:s+end], batch)
		for len(offs) < len(batch) {
			offs = append(offs, int64(s))
		}
		s += end + 1
		if len(batch) >= 512 || s >= len(data) {
			if keys {
				ks = slices.Grow(ks[:0], len(batch))[:len(batch)]
				st.Prepare(batch, ks)
				st.AppendKeys(batch, ks, raw, offs)
			} else {
				st.Append(batch, raw, offs)
			}
			batch, offs = batch[:0], offs[:0]
		}
	}
	return testcpu.Time() - start, time.Since(t0)
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
