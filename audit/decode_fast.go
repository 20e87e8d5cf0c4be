package audit

import "slices"

// decodeFast is Decode: one validating pass over doc that decodes the fields
// kaudit keeps straight into Events and steps over everything else (request
// and response bodies above all) without building anything. Its results are
// those of decodeStd, the encoding/json reference, for every input; the fuzz
// test holds it to that.
func decodeFast(doc []byte, dst []Event) ([]Event, error) {
	return decodeInto(doc, dst, nil, AllFields)
}

// decodeInto is decodeFast with an arena for the unescaped strings (see
// DecodeArena), keeping the fields in keep (normal: see Fields).
func decodeInto(doc []byte, dst []Event, arena *[]byte, keep Fields) ([]Event, error) {
	var d decoder
	return d.decode(doc, dst, arena, keep)
}

// decode is decodeInto with d's memory, which it resets: a Decoder reuses
// it rather than clearing half a kilobyte of masks for every document.
// The event is decoded in place, in dst's spare capacity (grown by one if
// it has none, as append would), not copied there.
func (d *decoder) decode(doc []byte, dst []Event, arena *[]byte, keep Fields) ([]Event, error) {
	base := len(dst)
	if base == cap(dst) {
		dst = slices.Grow(dst, 1)
	}
	ev := &dst[:base+1][base]
	*ev = Event{}
	// The items of an EventList go after the event's place (see items).
	d.reset(doc, dst[:base+1], arena, keep)
	var (
		top docFields
		sc  eventScratch
	)
	d.ws()
	if d.pos >= len(doc) {
		d.failEOF("")
	} else {
		switch doc[d.pos] {
		case '{':
			// The masks first: their loads of the document's first
			// kilobyte go on in parallel, where the first key's
			// comparison would wait for its cache line alone.
			d.win.fill(doc, d.pos)
			d.event(ev, &sc, &top)
		case 'n':
			d.literal("null") // decodes to nothing: an empty, unrecognised document
		default:
			d.mismatch("", "", "")
		}
		d.ws()
		if d.pos < len(doc) {
			d.fail(doc[d.pos], "after top-level value")
		}
	}
	out, err := d.result(doc, dst[:base], ev, &sc, &top)
	d.data, d.out, d.arena = nil, nil, nil // hold on to nothing of the caller's
	return out, err
}

// reset readies d for decoding doc, appending items to out.
func (d *decoder) reset(doc []byte, out []Event, arena *[]byte, keep Fields) {
	d.data, d.pos, d.depth, d.err, d.typErr, d.high = doc, 0, 0, nil, "", false
	d.out, d.base, d.itemErr, d.arena, d.leftOut = out, len(out), nil, arena, AllFields&^keep
	d.win.base, d.win.n = 0, 0 // no masks: the first string fills them
}

// result is what decode returns once the document is read: the event at
// *ev, which is dst[:len(dst)+1]'s last, or the items after it.
func (d *decoder) result(doc []byte, dst []Event, ev *Event, sc *eventScratch, top *docFields) ([]Event, error) {
	switch {
	case d.err != nil:
		d.dropAll(ev)
		return dst, d.err
	case d.typErr != "":
		d.dropAll(ev)
		return dst, &UnrecognisedError{What: d.typErr}
	}
	switch classify(top.kind, top.apiVersion, ev.AuditID != "", sc.stage != "") {
	case shapeEvent:
		d.dropItems()
		sc.finish(ev, doc, d.high)
		return dst[:len(dst)+1], nil
	case shapeEventList:
		// The items down one place, over the event's (appends may have
		// moved them to a new array: the event's is then cleared).
		*ev = Event{}
		out := d.out
		n := copy(out[len(dst):], out[len(dst)+1:])
		out[len(dst)+n] = Event{}
		return out[:len(dst)+n], d.itemErr
	}
	d.dropAll(ev)
	return dst, &UnrecognisedError{What: describe(top.kind, top.apiVersion, topKeys(doc))}
}

// dropAll forgets the items and the event at *ev: a document that fails
// leaves nothing in dst's room (its strings could pin a chunk).
func (d *decoder) dropAll(ev *Event) {
	d.dropItems()
	*ev = Event{}
}

// items decodes an EventList's items as they come, before the decoder
// knows whether the document is an EventList at all ("kind" may follow):
// a second pass over megabytes of webhook body would cost more than the
// rare waste. They go straight into d.out; a later "items" key replaces
// them, and anything but an EventList drops them.
func (d *decoder) items() {
	switch d.data[d.pos] {
	case '[':
		d.dropItems()
		i := 0
		for more := d.arrBegin(); more; more = d.arrNext() {
			d.item(i)
			i++
		}
	case 'n':
		if d.literal("null") {
			d.dropItems()
		}
	default:
		d.mismatch("", "items", "")
	}
}

// item decodes items[i] as the reference does: on its own, so that its
// type errors fail the item (an *ItemError for the first one) and not the
// list, and its Raw and BadUTF8 are its own.
func (d *decoder) item(i int) {
	start := d.pos
	outerHigh, outerTyp := d.high, d.typErr
	d.high, d.typErr = false, ""
	switch d.data[start] {
	case '{':
		d.out = append(d.out, Event{})
		e := &d.out[len(d.out)-1]
		var sc eventScratch
		d.event(e, &sc, nil)
		if d.typErr == "" {
			sc.finish(e, d.data[start:d.pos], d.high)
		} else {
			*e = Event{}
			d.out = d.out[:len(d.out)-1]
		}
	case 'n':
		// A null item decodes to an empty event, Raw "null" and all.
		if d.literal("null") {
			d.out = append(d.out, Event{Raw: d.data[start:d.pos]})
		}
	default:
		d.mismatch("", "", "")
	}
	if d.typErr != "" && d.itemErr == nil {
		d.itemErr = &ItemError{Index: i, Err: &UnrecognisedError{What: d.typErr}}
	}
	d.high, d.typErr = outerHigh || d.high, outerTyp
}

// dropItems forgets the items decoded so far, clearing them so that the
// caller's spare capacity holds no references into doc.
func (d *decoder) dropItems() {
	clear(d.out[d.base:])
	d.out = d.out[:d.base]
	d.itemErr = nil
}

// topKeys lists the distinct keys of a valid document's top-level object,
// sorted, for describing an unrecognised document. Only that path needs
// them, so they are collected by a second scan rather than on every decode.
func topKeys(doc []byte) []string {
	d := decoder{data: doc}
	d.ws()
	if d.pos >= len(doc) || doc[d.pos] != '{' {
		return nil
	}
	var keys []string
	for more := d.objBegin(); more; more = d.objNext() {
		key, ok := d.objKey()
		if !ok {
			break
		}
		keys = append(keys, key)
		d.skipValue()
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}
