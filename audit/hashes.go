package audit

// Keys is what a consumer of events works out of one of them on the
// decode worker that decoded it, while its bytes are still in that core's
// cache (ingest.Replay.Prepare): for the store, its dictionary IDs and its
// parsed auditID and fixed-width fields (store.Prepare). Its meaning is
// the consumer's; everything between only carries it beside its event.
// The zero value means "nothing worked out".
type Keys [32]uint32
