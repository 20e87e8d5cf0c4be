package ingest

import (
	"bytes"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/kaudit/kaudit/ingest/cloud"
)

// tailCloud is how a followed file's lines are decoded when the file is a
// cloud export: `aws logs tail` lines, CloudWatch raw events or
// subscription payloads, AKS storage JSON lines, GKE JSON lines. Each chunk
// of whole lines is taken out of its envelopes (cloud.Decode) and laid out
// on the same lines (cloud.Lines); the events' bytes, which are not the
// file's, go to a spool of their own, while positions stay offsets in the
// file, so that resuming and rotation work as for an audit log.
//
// Goroutines: the Tail's Run goroutine only.
type tailCloud struct {
	src *source // the file's identity, with the spool as Raw
	off int64   // bytes written to the spool
	// unsupported: the export is one JSON value spanning lines (a gcloud
	// array, a pretty-printed body), which cannot be followed line by line.
	unsupported bool
}

// maxTailSniff is how much of a followed file's start decides its shape.
const maxTailSniff = binarySniff

// sniffCloud decides, at the first chunk, whether the file is a cloud
// export; head is the chunk when it starts the file.
func (fl *follower) sniffCloud(chunk []byte) {
	fl.sniffed = true
	head := chunk
	if fl.off > 0 {
		head = make([]byte, maxTailSniff)
		n, _ := fl.src.raw.ReadAt(head, 0)
		head = head[:n]
	}
	head = head[:min(len(head), maxTailSniff)]
	if !cloud.Sniff(head) || isBinary(head) {
		return
	}
	src := *fl.src
	src.raw, src.file = NewSpool(), nil
	fl.cloud = &tailCloud{src: &src}
	first := bytes.TrimSpace(bytes.TrimPrefix(head, bom))
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	} else if len(head) == maxTailSniff {
		first = nil // one long line: a Firehose object or a big record; it is followed
	}
	if len(first) > 0 && (first[0] == '[' || first[0] == '{') && fastjson.ValidateBytes(bytes.TrimSpace(first)) != nil {
		fl.cloud.unsupported = true
		fl.t.problem(Problem{Path: fl.src.path, Line: 1, Kind: Unrecognised,
			Msg: "a cloud export that is one JSON value over many lines (a gcloud --format=json array, a pretty-printed Event Hubs body or filter-log-events output) cannot be followed live; its new lines are not read: use kaudit replay on it"})
	}
}

// cloudChunk converts chunk (whole lines, starting on line fl.line+1) into
// the job to decode, and reports the envelopes' problems. fix puts the
// file's offsets back into the batches' positions.
func (fl *follower) cloudChunk(chunk []byte, nl int) (j *job, fix func(*job)) {
	tc := fl.cloud
	lines := int64(nl)
	if chunk[len(chunk)-1] != '\n' {
		lines++
	}
	if tc.unsupported {
		return &job{src: tc.src, buf: nil, off: tc.off, line: fl.line}, func(*job) {}
	}
	res := cloud.Decode(chunk)
	fl.cloudProblems(res)
	conv := cloud.Lines(res, lines)
	tc.src.cluster = oneCluster(res.Records)
	tc.src.raw.(*Spool).Write(conv)
	j = &job{src: tc.src, buf: conv, off: tc.off, line: fl.line, nl: bytes.Count(conv, []byte{'\n'})}
	tc.off += int64(len(conv))
	// ends[k] is the file offset after line k of the chunk.
	ends := make([]int64, 0, lines+1)
	ends = append(ends, fl.off)
	for i, c := range chunk {
		if c == '\n' {
			ends = append(ends, fl.off+int64(i)+1)
		}
	}
	if int64(len(ends)) <= lines {
		ends = append(ends, fl.off+int64(len(chunk)))
	}
	return j, func(j *job) {
		for i := range j.batches {
			p := &j.batches[i].Pos
			p.Offset = ends[min(max(p.Line-fl.line, 0), int64(len(ends)-1))]
		}
	}
}

// cloudProblems reports a chunk's envelope problems on the file's lines.
func (fl *follower) cloudProblems(res *cloud.Result) {
	listed := [cloud.NumKinds]int{}
	for _, p := range res.Problems {
		listed[p.Kind]++
		fl.t.problem(Problem{Path: fl.src.path, Line: fl.line + p.Line, Kind: cloudKind(p.Kind), Msg: p.Msg})
	}
	for k, n := range res.Counts {
		if more := n - listed[k]; more > 0 {
			fl.t.problem(Problem{Path: fl.src.path, Line: fl.line + 1, Kind: cloudKind(cloud.Kind(k)), More: int64(more - 1),
				Msg: fmt.Sprintf("%d more %s envelopes, not listed one by one", more, cloud.Kind(k))})
		}
	}
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
