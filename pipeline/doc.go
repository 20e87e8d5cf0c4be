// Package pipeline runs sources -> one writer -> consumers, for every
// command: replay, rbac, policy, watch, serve and demo.
//
// Data flow:
//
//	Source.Run(ctx, emit)        Replay(ingest.Replay) | *ingest.Tail | *webhook.Receiver
//	      │ ingest.Batch{Events, Raw, Offsets, Pos}
//	      ▼
//	the writer (emit; one goroutine, the only one that appends)
//	      ├─► store.Append (or Config.Each instead: policy keeps its own tally)
//	      │     ├─► Printer: kept events' original bytes or --jq outputs, flushed per batch
//	      │     └─► retention (MaxEvents / MaxBytes, whole chunks)
//	      ├─► Sinks.forwardBatch  (sources that are not a followed log: replay);
//	      │     with SinkConfig.Labels (--detect) the writer's Labeler names each
//	      │     record's rule hits first
//	      ├─► OnStored (the terminal UI's progress)
//	      └─► Changed (capacity 1, never blocks)
//
//	a followed log (*ingest.Tail) also has
//	      positions flusher: main reader's position + finished files + each
//	                         sink's committed checkpoint, every Flush and at stop
//	      per-sink reader:   its own Tail from the sink's checkpoint ─► [its own
//	                         Labeler: kaudit.detections] ─► forward.Enqueue
//	                         ─ ordered ack ─► Committed (the log is the buffer:
//	                         a slow sink pauses only its own reader)
//
// Stopping (ctx cancelled, or the source ended): the Front (the webhook's
// HTTP server, the demo's log writer) stops first, then the source; the
// sinks' readers stop, the sinks drain (at most their Drain), the
// positions are written a last time, and Done is closed.
package pipeline
