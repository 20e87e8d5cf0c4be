package ingest

import "math"

// noTime is a Batch.times entry for an event without a stageTimestamp.
const noTime = math.MinInt64

// stamp names the source of each event of a decoded chunk and notes its
// time (Batch.times), on the worker that decoded it, while the events are
// in that core's cache: the merge then reads a compact array of times
// instead of each event (its first touch of an event on the merging core
// was most of stream.pushOne, about 1.5 % of a replay's CPU).
func stamp(j *job, name string, explicit bool) {
	n := 0
	for _, b := range j.batches {
		n += len(b.Events)
	}
	if n == 0 {
		return
	}
	times := make([]int64, n)
	for i := range j.batches {
		b := &j.batches[i]
		ts := times[:len(b.Events):len(b.Events)]
		times = times[len(b.Events):]
		for k := range b.Events {
			e := &b.Events[k]
			e.Source = sourceName(name, explicit, e.Source, b.Cluster)
			ts[k] = noTime
			if !e.StageTime.IsZero() {
				ts[k] = e.StageTime.UnixNano()
			}
		}
		b.times = ts
	}
}
