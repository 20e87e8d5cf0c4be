// Package webhook is kube-apiserver's audit-webhook receiver (the other
// end of --audit-webhook-config-file).
//
// Data flow:
//
//	kube-apiserver ──POST EventList──► Server (listener, TLS, http.Server timeouts)
//	                                      │ Auth: client certificate and/or bearer token
//	                                      ▼
//	                                   Receiver.ServeHTTP: limits (body size, requests
//	                                   at once), decode, count (Stats) ── then either
//	           memory mode:  queue ─► Receiver.Run(ctx, emit) ─► the pipeline's writer;
//	                         200 once emit returned for the whole body
//	           spool mode:   SpoolFile.Append (write + fsync) ─► 200; the spool file
//	                         is then followed like any audit log (ingest.Tail, positions)
//
// Server.Serve(ctx, ln) owns the lifecycle: it serves until ctx ends, then
// closes the listener, lets requests in flight finish, and writes the
// counters (StatsFile in the state dir, read by kaudit status) on a ticker
// and a last time at stop. It does not run the Receiver: the consumer stops
// Receiver.Run only after Serve returned, so that nothing in flight is
// refused for want of a consumer.
package webhook
