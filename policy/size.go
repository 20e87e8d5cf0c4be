package policy

import (
	"bytes"
	"encoding/json"

	"github.com/kaudit/kaudit/audit"
)

// sizes are the bytes one recorded event would take, newline included, at
// each level up to the one it was recorded at: the API server leaves out
// requestObject below Request and responseObject below RequestResponse.
// Index by audit.Level; levels above the recorded one hold the recorded
// size (the log cannot say how big the missing bodies were).
type sizes [audit.LevelRequestResponse + 1]int64

func sizesOf(e *audit.Event) sizes {
	var s sizes
	full := int64(len(e.Raw)) + 1
	var fields map[string]json.RawMessage
	var req, resp int64
	// Most events carry no bodies: only those are parsed.
	if bytes.Contains(e.Raw, []byte(`Object"`)) && json.Unmarshal(e.Raw, &fields) == nil {
		if v, ok := fields["requestObject"]; ok {
			req = int64(len(`,"requestObject":`) + len(v))
		}
		if v, ok := fields["responseObject"]; ok {
			resp = int64(len(`,"responseObject":`) + len(v))
		}
	}
	rec := e.Level.String()
	adjust := func(l audit.Level) int64 { return int64(len(l.String()) - len(rec)) }
	s[audit.LevelUnknown], s[audit.LevelNone] = full, full
	s[audit.LevelRequestResponse] = full + adjust(audit.LevelRequestResponse)
	s[audit.LevelRequest] = full - resp + adjust(audit.LevelRequest)
	s[audit.LevelMetadata] = full - resp - req + adjust(audit.LevelMetadata)
	for l := e.Level + 1; l <= audit.LevelRequestResponse && e.Level >= audit.LevelMetadata; l++ {
		s[l] = s[e.Level] + adjust(l) - adjust(e.Level)
	}
	return s
}
