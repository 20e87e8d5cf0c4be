package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/kaudit/kaudit/ingest/cloud"
)

// maxCloudInput bounds a cloud export read into memory whole (Decode
// needs all of it: envelopes span lines, or share one).
const maxCloudInput = 1 << 30

// cloudInput looks at the start of a stream; when it is a cloud export
// (GKE, AKS, CloudWatch), it reads it whole, takes the events out, reports
// the envelopes' problems, and gives back the events as JSON lines on the
// input's line numbers. The file is then read again through the spool, as
// a .gz is. It reports false when the run was cancelled.
func (r *reader) cloudInput(src *source, rd io.Reader) (io.Reader, bool) {
	br := bufio.NewReaderSize(rd, binarySniff)
	head, _ := br.Peek(binarySniff)
	if !cloud.Sniff(head) || isBinary(head) {
		return br, true
	}
	data, err := io.ReadAll(io.LimitReader(br, maxCloudInput+1))
	if err != nil && len(data) == 0 {
		return bytes.NewReader(nil), r.problem(src.path, 0, readKind(err), "cannot read: "+errText(err))
	}
	if len(data) > maxCloudInput {
		return bytes.NewReader(nil), r.problem(src.path, 0, TooLong, fmt.Sprintf("cloud export larger than %d bytes; split it", maxCloudInput))
	}
	res := cloud.Decode(data)
	var probs []Problem
	for _, p := range res.Problems {
		if !p.Kind.Skipped() {
			probs = append(probs, Problem{Path: src.path, Line: p.Line, Kind: cloudKind(p.Kind), Msg: p.Msg})
		}
	}
	for k := cloud.Kind(0); k < cloud.NumKinds; k++ {
		if n := res.Counts[k] - min(res.Counts[k], detailOf(res, k)); n > 0 && !k.Skipped() {
			probs = append(probs, Problem{Path: src.path, Kind: cloudKind(k), More: int64(n - 1), Msg: fmt.Sprintf("%d more %s envelopes, not listed one by one", n, k)})
		}
	}
	if n := res.Counts[cloud.SkippedKlog] + res.Counts[cloud.SkippedOther]; n > 0 {
		probs = append(probs, Problem{Path: src.path, Kind: Skipped, More: int64(n - 1),
			Msg: fmt.Sprintf("skipped %d klog lines and %d entries that are not Kubernetes audit events (expected in cloud exports)", res.Counts[cloud.SkippedKlog], res.Counts[cloud.SkippedOther])})
	}
	if err != nil {
		probs = append(probs, Problem{Path: src.path, Kind: readKind(err), Msg: readMsg(err)})
	}
	src.cluster = oneCluster(res.Records)
	src.file = nil // the events' bytes are the converted ones: read them through the spool
	lines := int64(bytes.Count(data, []byte{'\n'}))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	out := cloud.Lines(res, lines)
	if len(probs) > 0 && !r.send(&job{problems: probs}) {
		return nil, false
	}
	return bytes.NewReader(out), true
}

func detailOf(res *cloud.Result, k cloud.Kind) int {
	n := 0
	for _, p := range res.Problems {
		if p.Kind == k {
			n++
		}
	}
	return n
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
	case cloud.TooBig:
		return TooLong
	case cloud.SkippedKlog, cloud.SkippedOther:
		return Skipped
	}
	return Malformed
}

// oneCluster is the cluster every record names, or "" when one names
// none or they name several: events are not attributed to a cluster by
// guess.
func oneCluster(recs []cloud.Record) string {
	if len(recs) == 0 {
		return ""
	}
	c := recs[0].Cluster
	for _, r := range recs {
		if r.Cluster != c {
			return ""
		}
	}
	return c
}
