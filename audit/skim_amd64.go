package audit

// specialBlocks is fill's inner loop in assembly (skim_amd64.s): the same
// words as specialBlocksGo, a sixth of its cost.
//
//go:noescape
func specialBlocks(p *byte, n int, bm *uint64) (high uint64)
