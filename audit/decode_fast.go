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
	d := decoder{data: doc, out: dst, base: len(dst), arena: arena, drop: AllFields &^ keep}
	var (
		top docFields
		ev  Event
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
			d.event(&ev, &sc, &top)
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

	switch {
	case d.err != nil:
		d.dropItems()
		return dst, d.err
	case d.typErr != "":
		d.dropItems()
		return dst, &UnrecognisedError{What: d.typErr}
	}
	switch classify(top.kind, top.apiVersion, ev.AuditID != "", sc.stage != "") {
	case shapeEvent:
		d.dropItems()
		sc.finish(&ev, doc, d.high)
		return append(dst, ev), nil
	case shapeEventList:
		return d.out, d.itemErr
	}
	d.dropItems()
	return dst, &UnrecognisedError{What: describe(top.kind, top.apiVersion, topKeys(doc))}
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
