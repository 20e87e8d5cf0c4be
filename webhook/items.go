package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kaudit/kaudit/audit"
)

// checkItems keeps the events of a webhook body that the spool's reader
// will take as events (it decodes each line on its own), and names every
// other item by its index. Without it, an EventList item that is an object
// but not an event (`{"foo":1}`, `null`) was answered as accepted and then
// refused by the reader, and items that are not objects after the first
// were dropped without a word.
//
// Ordinary items cost one cheap look: only a body with an odd item (an
// item error, null, no auditID or stage, a top-level kind) is decoded
// again, item by item, as the reader will.
func checkItems(body []byte, events []audit.Event, itemErr *audit.ItemError) (kept []audit.Event, bad []string) {
	odd := itemErr != nil
	for i := 0; i < len(events) && !odd; i++ {
		odd = oddItem(&events[i])
	}
	if !odd {
		return events, nil
	}
	var list struct{ Items []json.RawMessage }
	if err := json.Unmarshal(body, &list); err != nil || list.Items == nil {
		// A single Event (not a list) that decoded: the reader takes it.
		return events, nil
	}
	for i, it := range list.Items {
		evs, err := audit.Decode(it, nil)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("items[%d]: %v", i, err))
		case len(evs) != 1 || bytes.Equal(bytes.TrimSpace(it), []byte("null")):
			bad = append(bad, fmt.Sprintf("items[%d]: %s, not an event", i, jsonKind(it)))
		default:
			kept = append(kept, evs[0])
		}
	}
	return kept, bad
}

// oddItem reports an item the reader might not take as an event.
func oddItem(e *audit.Event) bool {
	return e.AuditID == "" || e.Stage == audit.StageUnknown || bytes.Equal(e.Raw, []byte("null")) || topLevelKind(e.Raw)
}

// topLevelKind reports whether the object raw has a "kind" or "apiVersion"
// member of its own (EventList items have neither; bodies inside do).
func topLevelKind(raw []byte) bool {
	if !bytes.Contains(raw, []byte(`"kind"`)) && !bytes.Contains(raw, []byte(`"apiVersion"`)) {
		return false
	}
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			j := i + 1
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					j++
				}
				j++
			}
			if depth == 1 {
				k := raw[i+1 : min(j, len(raw))]
				rest := bytes.TrimLeft(raw[min(j+1, len(raw)):], " \t\r\n")
				if len(rest) > 0 && rest[0] == ':' && (string(k) == "kind" || string(k) == "apiVersion") {
					return true
				}
			}
			i = j
		}
	}
	return false
}

func jsonKind(it []byte) string {
	it = bytes.TrimSpace(it)
	if len(it) == 0 {
		return "nothing"
	}
	switch it[0] {
	case 'n':
		return "null"
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case '{':
		return "an object"
	}
	return "a number"
}
