package ingest

import "bytes"

// The replay reader does not count a JSON-lines chunk's newlines (a pass
// over every byte read, on the one reader goroutine): the worker finds
// each of them anyway as it splits the chunk into lines. Line numbers are
// then worked out in two parts (job.rel): the worker's are relative to
// the lines the reader counted (skipped long lines), and the emitter,
// which sees the chunks in input order, adds the newlines of the input's
// chunks before (addLines).

// sampleBytes is how much of a chunk whose newlines are not counted yet
// is looked at to size its event slice (room).
const sampleBytes = 32 << 10

// room is how many events a line-mode chunk's slice is sized for at
// first: its newlines and one, or, not counted yet (nl < 0, with Recycle,
// when the pool has no slice to reuse), an eighth more than its first
// sampleBytes promise; never more than the chunk can
// hold (a chunk of blank or junk lines must not allocate an event per
// line). Too few only costs the slice's growth.
func (j *job) room() int {
	most := len(j.buf)/minEventLine + 1
	if j.nl >= 0 || len(j.buf) <= sampleBytes {
		n := j.nl
		if n < 0 {
			n = bytes.Count(j.buf, []byte{'\n'})
		}
		return min(n+1, most)
	}
	n := bytes.Count(j.buf[:sampleBytes], []byte{'\n'}) + 1
	return min(n*(len(j.buf)/sampleBytes)*9/8+1, most)
}

// counted records, once the worker split a line-mode chunk, its newlines
// (nl), from the number of lines the split ended on (its last may lack a
// newline).
func (j *job) counted(line int64) {
	if j.nl >= 0 {
		return
	}
	j.nl = int(line - j.line)
	if len(j.buf) > 0 && j.buf[len(j.buf)-1] != '\n' {
		j.nl--
	}
}

// addLines adds base, the newlines of the input's chunks before j that
// the reader did not count, to j's line numbers (job.rel).
func (j *job) addLines(base int64) {
	for i := range j.problems {
		p := &j.problems[i]
		if p.Line > 0 {
			p.Line += base
		}
		if p.through > 0 {
			p.Msg, p.through = summingMsg(p, p.through+base), 0
		}
	}
	for i := range j.batches {
		j.batches[i].Pos.Line += base
	}
	if j.end != nil {
		j.end.lines += base
	}
}
