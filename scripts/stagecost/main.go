// Command stagecost measures, on one goroutine, the CPU each stage of
// loading a log takes per event: read (1 MiB reads copied into one
// buffer), split (finding newlines), decode (audit.Decode) and store
// (store.Append: interning, postings, dedup and pairing, columns). With
// -cpuprofile the store stage is profiled over -rounds fresh stores, which
// splits it further (dict.intern, roaring Add, the auditID maps).
//
//	go run ./scripts/stagecost [-cpuprofile F] [-rounds N] FILE
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
	"syscall"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/store"
)

func cpu() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func main() {
	prof := flag.String("cpuprofile", "", "write a CPU profile of the store stage to `FILE`")
	rounds := flag.Int("rounds", 1, "times the store stage runs (into fresh stores)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: stagecost [-cpuprofile F] [-rounds N] FILE")
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
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	data := make([]byte, 0, fi.Size())
	start := cpu()
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		data = append(data, buf[:k]...)
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	read := cpu() - start

	start = cpu()
	n := 0
	for s := 0; s < len(data); n++ {
		i := bytes.IndexByte(data[s:], '\n')
		if i < 0 {
			break
		}
		s += i + 1
	}
	split := cpu() - start

	evs := make([]audit.Event, 0, n+1)
	var offs []int64
	start = cpu()
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
	decode := cpu() - start

	runtime.GC()
	if prof != "" {
		pf, err := os.Create(prof)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var stored, storedWall time.Duration
	var st store.Stats
	for range max(rounds, 1) {
		s := store.New()
		start = cpu()
		t0 := time.Now()
		for i := 0; i < len(evs); i += 512 {
			j := min(i+512, len(evs))
			s.Append(evs[i:j], f, offs[i:j])
		}
		stored, storedWall = cpu()-start, time.Since(t0)
		st = s.Stats()
	}

	// decode+store: each batch stored right after it was decoded, as the
	// pipeline does, so the store reads strings that are still in cache
	// (the store pass above reads every event cold). store-warm is this
	// less the decode pass.
	var boths, bothWalls []time.Duration
	for range max(rounds, 1) {
		runtime.GC()
		c, w := decodeAndStore(data, f)
		boths, bothWalls = append(boths, c), append(bothWalls, w)
	}
	both, bothWall := median(boths), median(bothWalls)

	ne := float64(len(evs))
	line := func(name string, d time.Duration) {
		fmt.Printf("%-12s %6.0f ns/event  %7.3f s  %6.2f GB per CPU-second\n", name, float64(d.Nanoseconds())/ne, d.Seconds(), float64(len(data))/1e9/d.Seconds())
	}
	fmt.Printf("%d events, %d bytes (%.0f B/event)\n", len(evs), len(data), float64(len(data))/ne)
	line("read", read)
	line("split", split)
	line("decode", decode)
	line("store", stored)
	fmt.Printf("store   %6.0f ns/event wall (the store may use a second goroutine)\n", float64(storedWall.Nanoseconds())/ne)
	line("decode+store", both) // the median of -rounds
	line("store-warm", both-decode)
	fmt.Printf("decode+store %6.0f ns/event wall\n", float64(bothWall.Nanoseconds())/ne)
	fmt.Printf("store: %d events, %d requests, index estimate %.1f MiB\n", st.Events, st.Requests, float64(st.IndexBytes)/(1<<20))
	return nil
}

// decodeAndStore decodes data a batch of 512 events at a time and stores
// each batch at once, and returns the CPU and wall time it took.
func decodeAndStore(data []byte, raw io.ReaderAt) (time.Duration, time.Duration) {
	st := store.New()
	batch := make([]audit.Event, 0, 512)
	var offs []int64
	start, t0 := cpu(), time.Now()
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
			st.Append(batch, raw, offs)
			batch, offs = batch[:0], offs[:0]
		}
	}
	return cpu() - start, time.Since(t0)
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
