package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/kaudit/kaudit/ingest/cloud"
)

// cloudInput looks at the start of a stream; when it is a cloud export
// (GKE, AKS, CloudWatch), it gives back a reader of the events taken out
// of it, as JSON lines on the input's line numbers, decoded as they are
// read with bounded memory (cloud.Stream). The envelopes' problems are
// reported as they are found. The events' bytes are the converted ones,
// read again through the spool, as a .gz is. It reports false when the
// run was cancelled.
func (r *reader) cloudInput(src *source, rd io.Reader) (io.Reader, bool) {
	br := bufio.NewReaderSize(rd, binarySniff)
	head, _ := br.Peek(binarySniff)
	if !cloud.Sniff(head) || isBinary(head) {
		return br, true
	}
	cr := &cloudReader{r: r, path: src.path, s: cloud.NewStream(br)}
	if r.maxLine > 0 && r.maxLine-128 < 4<<20 {
		cr.s.SetLineLimit(max(r.maxLine-128, 1))
	}
	// The first window is decoded before any event is handed on: the
	// cluster it names is the source of the file's events.
	out := bufio.NewReaderSize(cr, 64<<10)
	out.Peek(1)
	if cr.cancelled {
		return nil, false
	}
	src.cluster, _ = cr.s.Cluster()
	cr.cluster = src.cluster
	src.file = nil
	return out, true
}

// cloudReader reads a cloud.Stream and sends its problems into the
// ordered stream as they come, and a summary of the rest at the end.
//
// Goroutines: the reader goroutine only.
type cloudReader struct {
	r         *reader
	path      string
	s         *cloud.Stream
	listed    [cloud.NumKinds]int
	cluster   string // the source's cluster, "" until chosen
	otherSaid bool
	ended     bool
	cancelled bool
}

// errCancelled ends a cloud export's read when the run was cancelled.
var errCancelled = errors.New("cancelled")

func (c *cloudReader) Read(p []byte) (int, error) {
	n, err := c.s.Read(p)
	probs := c.problems()
	if err != nil && !c.ended {
		c.ended = true
		probs = append(probs, c.summary()...)
	}
	if len(probs) > 0 && !c.r.send(&job{problems: probs}) {
		c.cancelled = true
		return n, errCancelled
	}
	return n, err
}

// problems converts the stream's new problems; skipped noise is only
// counted (see summary).
func (c *cloudReader) problems() []Problem {
	var out []Problem
	for _, p := range c.s.Problems() {
		c.listed[p.Kind]++
		if !p.Kind.Skipped() {
			out = append(out, Problem{Path: c.path, Line: p.Line, Kind: cloudKind(p.Kind), Msg: p.Msg})
		}
	}
	if line := c.s.OtherCluster(); line > 0 && c.cluster != "" && !c.otherSaid {
		c.otherSaid = true
		out = append(out, Problem{Path: c.path, Line: line, Kind: Invalid,
			Msg: fmt.Sprintf("from this record on, records name another cluster than the file's first records (%q), or none; the file's events all keep %q as their source", c.cluster, c.cluster)})
	}
	return out
}

// summary counts what was not listed one by one, and the skipped noise.
func (c *cloudReader) summary() []Problem {
	var out []Problem
	counts := c.s.Counts()
	for k := cloud.Kind(0); k < cloud.NumKinds; k++ {
		if n := counts[k] - min(counts[k], c.listed[k]); n > 0 && !k.Skipped() {
			out = append(out, Problem{Path: c.path, Kind: cloudKind(k), More: int64(n - 1), Msg: fmt.Sprintf("%d more %s envelopes, not listed one by one", n, k)})
		}
	}
	if n := counts[cloud.SkippedKlog] + counts[cloud.SkippedOther]; n > 0 {
		out = append(out, Problem{Path: c.path, Kind: Skipped, More: int64(n - 1),
			Msg: fmt.Sprintf("skipped %d klog lines and %d entries that are not Kubernetes audit events (expected in cloud exports)", counts[cloud.SkippedKlog], counts[cloud.SkippedOther])})
	}
	return out
}

// cloudKind files an envelope problem under the reader's kinds.
func cloudKind(k cloud.Kind) ProblemKind {
	switch k {
	case cloud.Truncated:
		return Truncated
	case cloud.NoEvent, cloud.Unrecognised:
		return Unrecognised
	case cloud.UnknownCode:
		return Invalid
	case cloud.TooBig, cloud.TooLong:
		return TooLong
	case cloud.SkippedKlog, cloud.SkippedOther:
		return Skipped
	}
	return Malformed
}
