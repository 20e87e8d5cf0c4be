package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/kaudit/kaudit/store"
	"github.com/kaudit/kaudit/views"
)

// HitRecord is a hit as -o jsonl and -o json write it.
type HitRecord struct {
	Rule        string          `json:"rule"`
	Severity    Severity        `json:"severity"`
	Technique   string          `json:"technique,omitempty"`
	Description string          `json:"description"`
	AuditID     string          `json:"auditID"`
	Time        *time.Time      `json:"time,omitempty"`
	Threshold   *Fired          `json:"threshold,omitempty"`
	Event       json.RawMessage `json:"event"`
}

// Record builds h's record, with the event's original JSON.
func Record(st *store.Store, rr *store.RawReader, h Hit) (HitRecord, error) {
	e := st.Entry(h.ID)
	raw, err := rr.Raw(h.ID)
	if err != nil {
		return HitRecord{}, fmt.Errorf("original bytes of event %d: %w", h.ID, err)
	}
	raw = views.PrintedEvent(raw) // secrets redacted, as every printer does
	rec := HitRecord{Rule: h.Rule.Name, Severity: h.Rule.Severity, Technique: h.Rule.Technique,
		Description: h.Rule.Description, AuditID: e.AuditID, Threshold: h.Fired}
	if !e.Time.IsZero() {
		rec.Time = &e.Time
	}
	if json.Valid(raw) {
		rec.Event = append(json.RawMessage(nil), raw...)
	} else {
		// Not one JSON value (an EventList item keeps its own bytes): quote it.
		rec.Event, _ = json.Marshal(string(raw))
	}
	return rec, nil
}

// WriteJSONLines writes one hit per line.
func WriteJSONLines(w io.Writer, st *store.Store, hits []Hit) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rr := st.NewRawReader()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, h := range hits {
		rec, err := Record(st, rr, h)
		if err != nil {
			return err
		}
		buf.Reset()
		if err := enc.Encode(rec); err != nil {
			return err
		}
		bw.Write(buf.Bytes())
	}
	return bw.Flush()
}

// Summary is one rule's line of the table and of -o json.
type Summary struct {
	Rule        string     `json:"rule"`
	Severity    Severity   `json:"severity"`
	Technique   string     `json:"technique,omitempty"`
	Hits        int        `json:"hits"`
	First       *time.Time `json:"first,omitempty"`
	Last        *time.Time `json:"last,omitempty"`
	Description string     `json:"description"`
}

// Summarize counts hits by rule: every rule of set, highest severity first,
// then most hits, then name.
func Summarize(st *store.Store, set *Set, hits []Hit) []Summary {
	by := map[*Rule]*Summary{}
	var out []*Summary
	for _, r := range set.Rules {
		s := &Summary{Rule: r.Name, Severity: r.Severity, Technique: r.Technique, Description: r.Description}
		by[r] = s
		out = append(out, s)
	}
	for _, h := range hits {
		s := by[h.Rule]
		if s == nil {
			continue
		}
		s.Hits++
		t := st.Entry(h.ID).Time
		if t.IsZero() {
			continue
		}
		if s.First == nil || t.Before(*s.First) {
			s.First = &t
		}
		if s.Last == nil || t.After(*s.Last) {
			s.Last = &t
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Hits != b.Hits {
			return a.Hits > b.Hits
		}
		return a.Rule < b.Rule
	})
	res := make([]Summary, len(out))
	for i, s := range out {
		res[i] = *s
	}
	return res
}

// WriteTable writes the rules that hit as aligned columns (through
// views.WriteText, which makes every value printable).
func WriteTable(w io.Writer, sums []Summary) error {
	t := &views.Table{Columns: []views.Column{
		{Header: "RULE", Key: "rule", Kind: views.KindText},
		{Header: "SEVERITY", Key: "severity", Kind: views.KindText},
		{Header: "TECHNIQUE", Key: "technique", Kind: views.KindText},
		{Header: "HITS", Key: "hits", Kind: views.KindInt},
		{Header: "FIRST", Key: "first", Kind: views.KindTime},
		{Header: "LAST", Key: "last", Kind: views.KindTime},
		{Header: "DESCRIPTION", Key: "description", Kind: views.KindText},
	}}
	for _, s := range sums {
		if s.Hits == 0 {
			continue
		}
		t.Rows = append(t.Rows, []any{s.Rule, s.Severity.String(), s.Technique, s.Hits, deref(s.First), deref(s.Last), s.Description})
	}
	return views.WriteText(w, t)
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// WriteJSON writes one document: the summary of every rule and the hits.
func WriteJSON(w io.Writer, st *store.Store, set *Set, hits []Hit) error {
	rr := st.NewRawReader()
	doc := struct {
		Rules []Summary   `json:"rules"`
		Hits  []HitRecord `json:"hits"`
	}{Rules: Summarize(st, set, hits), Hits: []HitRecord{}}
	for _, h := range hits {
		rec, err := Record(st, rr, h)
		if err != nil {
			return err
		}
		doc.Hits = append(doc.Hits, rec)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
