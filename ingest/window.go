package ingest

// held is one event waiting in a reorder window.
type held struct {
	key int64 // stageTimestamp, Unix ns
	b   *inBatch
	i   int32
}

// window is one input's reorder window: the held events sorted by key,
// oldest first, in a ring. The API server writes each event when its
// stage ends, so events arrive almost in order: a new one is inserted
// from the newest end and moves past the few newer ones, which makes
// push and pop O(1) for an in-order log (a heap costs O(log n) for
// each) and O(distance) for an event that arrives late. Equal keys keep
// their arrival order.
type window struct {
	buf  []held // len(buf) is 0 or a power of two
	head int
	n    int
}

// push inserts h after every held event with a key not above its own.
func (w *window) push(h held) {
	if w.n == len(w.buf) {
		w.grow()
	}
	mask := len(w.buf) - 1
	i := w.n
	for ; i > 0; i-- {
		p := &w.buf[(w.head+i-1)&mask]
		if p.key <= h.key {
			break
		}
		w.buf[(w.head+i)&mask] = *p
	}
	w.buf[(w.head+i)&mask] = h
	w.n++
}

// first is the oldest held event; the window must not be empty.
func (w *window) first() *held { return &w.buf[w.head] }

// pop removes and returns the oldest held event.
func (w *window) pop() held {
	h := w.buf[w.head]
	w.buf[w.head] = held{} // let the batch go once it is handed on
	w.head = (w.head + 1) & (len(w.buf) - 1)
	w.n--
	return h
}

// grow doubles the ring (from 64): a small input never holds a whole
// window's worth.
func (w *window) grow() {
	nb := make([]held, max(64, 2*len(w.buf)))
	for i := range w.n {
		nb[i] = w.buf[(w.head+i)&(len(w.buf)-1)]
	}
	w.buf, w.head = nb, 0
}
