// Command auditgen writes a deterministic, realistic kube-apiserver audit log
// (see package gen) to a directory, rotated the way kube-apiserver's
// lumberjack backend rotates it, or to stdout.
//
//	auditgen -out DIR -size 1GiB [-seed N] [-rotate 100MiB] [-gzip] [-start RFC3339] [-rate EPS]
//	auditgen -out DIR -events 5000 ...
//	auditgen -out - -events 1000 | kaudit replay -
//
// In a directory the current file is audit.log and each backup is
// audit-YYYY-MM-DDTHH-MM-SS.mmm.log (UTC time of the rotation, taken from the
// generated clock), gzipped to .log.gz with -gzip. Rotation happens at line
// boundaries, before the line that would make audit.log exceed -rotate.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kaudit/kaudit/gen"
	"github.com/kaudit/kaudit/units"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("auditgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: auditgen -out DIR|- (-size SIZE | -events N) [flags]\n\n")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "output directory, or - for stdout (required)")
	sizeStr := fs.String("size", "", "total bytes to write, e.g. 1GiB, 200MiB, 5MB (stops before exceeding it)")
	events := fs.Uint64("events", 0, "number of events to write (alternative to -size)")
	seed := fs.Uint64("seed", 1, "generator seed")
	rotateStr := fs.String("rotate", "100MiB", "rotate audit.log before it would exceed this size; 0 disables rotation")
	gz := fs.Bool("gzip", false, "gzip rotated backups (audit-….log.gz)")
	startStr := fs.String("start", gen.DefaultStart.Format(time.RFC3339), "time of the first event (RFC 3339)")
	rate := fs.Float64("rate", 200, "average events per second of the generated clock")
	nodes := fs.Int("nodes", 12, "number of kubelets in the simulated cluster")
	quiet := fs.Bool("q", false, "no summary on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "auditgen: "+format+"\n", a...)
		fs.Usage()
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usage("-out is required")
	}
	var size, rotate int64
	var err error
	if *sizeStr != "" {
		if size, err = units.ParseBytes(*sizeStr); err != nil || size <= 0 {
			return usage("bad -size %q", *sizeStr)
		}
	}
	if rotate, err = units.ParseBytes(*rotateStr); err != nil || rotate < 0 {
		return usage("bad -rotate %q", *rotateStr)
	}
	if (size == 0) == (*events == 0) {
		return usage("exactly one of -size and -events is required")
	}
	start, err := time.Parse(time.RFC3339Nano, *startStr)
	if err != nil {
		return usage("bad -start: %v", err)
	}
	if *rate <= 0 || *nodes <= 0 {
		return usage("-rate and -nodes must be positive")
	}

	g := gen.New(gen.Config{Seed: *seed, Start: start, EventsPerSecond: *rate, Nodes: *nodes})
	var sink lineWriter
	if *out == "-" {
		sink = &streamWriter{w: bufio.NewWriterSize(stdout, 1<<20)}
	} else {
		r, err := newRotator(*out, rotate, *gz)
		if err != nil {
			fmt.Fprintf(stderr, "auditgen: %v\n", err)
			return exitError
		}
		sink = r
	}
	began := time.Now()
	var written int64
	var n uint64
	buf := make([]byte, 0, 64<<10)
	for *events == 0 || n < *events {
		buf = g.Next(buf[:0])
		if size > 0 && written+int64(len(buf)) > size && written > 0 {
			break
		}
		if err := sink.writeLine(buf, g.Time()); err != nil {
			fmt.Fprintf(stderr, "auditgen: %v\n", err)
			return exitError
		}
		written += int64(len(buf))
		n++
	}
	files, err := sink.close(g.Time())
	if err != nil {
		fmt.Fprintf(stderr, "auditgen: %v\n", err)
		return exitError
	}
	if !*quiet {
		el := time.Since(began)
		fmt.Fprintf(stderr, "auditgen: %d events, %d bytes, %d file(s), clock %s .. %s, %.2fs (%.0f MB/s)\n",
			n, written, files, start.UTC().Format(time.RFC3339), g.Time().Format(time.RFC3339),
			el.Seconds(), float64(written)/1e6/el.Seconds())
	}
	return exitOK
}

// lineWriter receives whole lines with the generated time of each.
type lineWriter interface {
	writeLine(line []byte, t time.Time) error
	close(t time.Time) (files int, err error)
}

type streamWriter struct{ w *bufio.Writer }

func (s *streamWriter) writeLine(line []byte, _ time.Time) error {
	_, err := s.w.Write(line)
	return err
}

func (s *streamWriter) close(time.Time) (int, error) { return 1, s.w.Flush() }
