// Command decodecost measures the CPU time (user+sys, from getrusage, so a
// busy machine inflates it far less than wall time) that audit.Decode takes
// per event over the events of the benchmark log (gen, seed 1), the same
// lines scripts/bench.sh generates. It prints ns/event and MB/s per core.
//
//	go run ./scripts/decodecost [-events N] [-rounds R]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
)

func cpu() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func main() {
	n := flag.Int("events", 20000, "events decoded per round")
	rounds := flag.Int("rounds", 20, "rounds")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the decode rounds to `FILE`")
	flag.Parse()
	g := gen.New(gen.Config{Seed: 1})
	docs := make([][]byte, *n)
	size := 0
	for i := range docs {
		docs[i] = bytes.TrimSuffix(g.Next(nil), []byte("\n"))
		size += len(docs[i])
	}
	evs := make([]audit.Event, 0, 4)
	for _, d := range docs { // warm up
		evs, _ = audit.Decode(d, evs[:0])
	}
	runtime.GC()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	start := cpu()
	for range *rounds {
		for _, d := range docs {
			var err error
			if evs, err = audit.Decode(d, evs[:0]); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	used := cpu() - start
	total := *n * *rounds
	fmt.Printf("%.0f ns/event  %.0f MB/s per core  (%d B/event, %d events)\n",
		float64(used.Nanoseconds())/float64(total), float64(size)*float64(*rounds)/used.Seconds()/1e6, size/(*n), total)
}
