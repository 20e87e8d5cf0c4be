package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// BadItem is an EventList item that is not an audit event: it is refused
// (named in the answer and reported), never taken.
type BadItem struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// maxNamed bounds how many bad items an answer names (the count is
// always exact) and how many a reported problem names.
const (
	maxNamed       = 1000
	maxNamedInLine = 5
)

// decodeBody decodes a webhook body into the events to take and the
// EventList items to refuse. An item is taken only if, written alone on a
// line, it reads back as exactly one audit event: that is what the spool's
// reader will do with it, so nothing answered 200 is rejected later. err
// is set when the body as a whole is not audit events.
func decodeBody(body []byte) ([]audit.Event, []BadItem, error) {
	events, err := audit.Decode(body, nil)
	var ie *audit.ItemError
	if err != nil && !errors.As(err, &ie) {
		return nil, nil, err
	}
	if ie == nil && standalone(events) {
		return events, nil, nil // the usual case: one pass, one check per event
	}
	return itemByItem(body)
}

// standalone reports whether every event reads back alone as one event.
func standalone(events []audit.Event) bool {
	var scratch []audit.Event
	for i := range events {
		evs, err := audit.Decode(events[i].Raw, scratch[:0])
		if err != nil || !itself(events[i].Raw, evs) {
			return false
		}
		scratch = evs
	}
	return true
}

// itself reports whether raw decoded to one event that is raw itself (an
// EventList of one item is not: the spool would hold the list).
func itself(raw []byte, evs []audit.Event) bool {
	return len(evs) == 1 && bytes.Equal(bytes.TrimSpace(evs[0].Raw), bytes.TrimSpace(raw))
}

// itemByItem walks an EventList's items one by one (the slow path, only
// for a list with a bad item), judging each alone.
func itemByItem(body []byte) ([]audit.Event, []BadItem, error) {
	items, err := listItems(body)
	if err != nil {
		return nil, nil, err
	}
	var events []audit.Event
	var bad []BadItem
	for i, raw := range items {
		evs, err := audit.Decode(raw, nil)
		switch {
		case err != nil:
			_, msg := ingest.DecodeProblem(err)
			bad = append(bad, BadItem{Index: i, Reason: msg})
		case !itself(raw, evs):
			bad = append(bad, BadItem{Index: i, Reason: fmt.Sprintf("an EventList of %d events as an item (want one audit event)", len(evs))})
		default:
			events = append(events, evs[0])
		}
	}
	return events, bad, nil
}

// listItems returns the raw items of the last "items" key of a JSON
// object (encoding/json's rule for repeated keys, as audit.Decode's).
func listItems(body []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not an EventList")
	}
	var items []json.RawMessage
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		items = items[:0]
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil, errors.New("items is not a list")
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			items = append(items, raw)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return items, nil
}

// badItemsMsg names the first bad items for a problem line.
func badItemsMsg(bad []BadItem, taken int) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d EventList items refused (%d taken):", len(bad), taken)
	for i, it := range bad[:min(len(bad), maxNamedInLine)] {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " items[%d]: %s", it.Index, it.Reason)
	}
	if len(bad) > maxNamedInLine {
		fmt.Fprintf(&b, "; and %d more", len(bad)-maxNamedInLine)
	}
	return b.String()
}

// itemsAnswer is the JSON answer to a body with bad items.
type itemsAnswer struct {
	Accepted int       `json:"accepted"`
	Refused  int       `json:"refused"`
	Items    []BadItem `json:"refused_items"` // the first maxNamed
}

func answerItems(taken int, bad []BadItem) []byte {
	b, _ := json.Marshal(itemsAnswer{Accepted: taken, Refused: len(bad), Items: bad[:min(len(bad), maxNamed)]})
	return append(b, '\n')
}
