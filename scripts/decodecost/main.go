// Command decodecost measures the CPU time (the thread's own, so a busy
// machine inflates it far less than wall time) that an audit.Decoder takes per
// event over the events of the benchmark log (gen, seed 1), the same
// lines scripts/bench.sh generates, or over the first lines of -file read
// into one buffer, decoded with an arena as replay's workers do. It prints
// ns/event and MB/s per core.
//
//	go run ./scripts/decodecost [-events N] [-rounds R] [-file LOG]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/gen"
)

func main() {
	n := flag.Int("events", 20000, "events decoded per round")
	rounds := flag.Int("rounds", 20, "rounds")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the decode rounds to `FILE`")
	file := flag.String("file", "", "decode the first -events lines of `LOG` (one buffer, with an arena)")
	names := flag.String("fields", "", "keep only these comma-separated field `groups` ("+groupNames()+"); all by default")
	flag.Parse()
	keep, err := parseFields(*names)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	docs, size := generatedDocs(*n)
	var arena []byte
	if *file != "" {
		var err error
		if docs, size, err = fileDocs(*file, *n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		arena = make([]byte, 0, size/4) // as ingest's worker sizes it
	}
	// One Decoder, as each of replay's workers holds.
	dec := audit.Decoder{Fields: keep}
	decode := func(d []byte, evs []audit.Event) ([]audit.Event, error) {
		if arena == nil {
			return dec.Decode(d, evs, nil)
		}
		return dec.Decode(d, evs, &arena)
	}
	evs := make([]audit.Event, 0, 4)
	for _, d := range docs { // warm up
		evs, _ = decode(d, evs[:0])
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
	// Each round is timed on its own; the median and the fastest round
	// are reported (the fastest is the one least disturbed by other work).
	runtime.LockOSThread()
	per := make([]time.Duration, *rounds)
	for r := range per {
		arena = arena[:0]
		start := threadCPU()
		for _, d := range docs {
			var err error
			if evs, err = decode(d, evs[:0]); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		per[r] = threadCPU() - start
	}
	slices.Sort(per)
	nsPer := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(*n) }
	fmt.Printf("median %.0f ns/event (%.0f MB/s per core), fastest %.0f ns/event  (%d B/event, %d rounds of %d)\n",
		nsPer(per[len(per)/2]), float64(size)/per[len(per)/2].Seconds()/1e6, nsPer(per[0]), size/(*n), *rounds, *n)
}

// fieldGroups names the groups of audit.Fields for -fields.
var fieldGroups = []struct {
	name string
	f    audit.Fields
}{{"verb", audit.FieldVerb}, {"uri", audit.FieldRequestURI}, {"user", audit.FieldUser},
	{"groups", audit.FieldUserGroups}, {"impersonated", audit.FieldImpersonated},
	{"impersonatedgroups", audit.FieldImpersonatedGroups}, {"sourceip", audit.FieldSourceIP},
	{"useragent", audit.FieldUserAgent}, {"object", audit.FieldObject}, {"subresource", audit.FieldSubresource},
	{"message", audit.FieldMessage},
	{"decision", audit.FieldDecision}, {"reason", audit.FieldReason}, {"phases", audit.FieldPhases},
	{"none", audit.NoFields}}

func groupNames() string {
	var s []string
	for _, g := range fieldGroups {
		s = append(s, g.name)
	}
	return strings.Join(s, ",")
}

// parseFields reads -fields: 0 (all) for "".
func parseFields(list string) (audit.Fields, error) {
	var f audit.Fields
	for name := range strings.SplitSeq(list, ",") {
		if name == "" {
			continue
		}
		found := false
		for _, g := range fieldGroups {
			if g.name == name {
				f, found = f|g.f, true
			}
		}
		if !found {
			return 0, fmt.Errorf("-fields: no group %q (%s)", name, groupNames())
		}
	}
	return f, nil
}

// generatedDocs returns the first n events of the benchmark log, each in
// its own allocation, and their total size.
func generatedDocs(n int) ([][]byte, int) {
	g := gen.New(gen.Config{Seed: 1})
	docs := make([][]byte, n)
	size := 0
	for i := range docs {
		docs[i] = bytes.TrimSuffix(g.Next(nil), []byte("\n"))
		size += len(docs[i])
	}
	return docs, size
}

// fileDocs returns the first n lines of path, in one buffer as the replay
// reader holds them, and their total size.
func fileDocs(path string, n int) ([][]byte, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	buf := make([]byte, 0, n*1300)
	r := bufio.NewReaderSize(f, 1<<20)
	for range n {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, 0, fmt.Errorf("%s: fewer than %d lines: %w", path, n, err)
		}
		buf = append(buf, line...)
	}
	var docs [][]byte
	for line := range bytes.Lines(buf) {
		docs = append(docs, bytes.TrimSuffix(line, []byte("\n")))
	}
	return docs, len(buf) - len(docs), nil
}
