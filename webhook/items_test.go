package webhook

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// TestWebhookBadItems: items that are not audit events are refused and
// named (index and reason) before the answer; the good ones are taken;
// every event taken reads back from the spool as one event.
func TestWebhookBadItems(t *testing.T) {
	good := fixtureLines(t, "audit2rbac-demo-v1.jsonl", 2)
	tests := []struct {
		name    string
		items   []string
		status  int
		taken   int
		refused []int // indexes
	}{
		{name: "all good", items: good, status: 200, taken: 2},
		{name: "mixed", items: []string{good[0], `{}`, `null`, `5`, `"x"`, `{"auditID":7}`, `{"foo":1}`,
			`{"kind":"EventList","items":[` + good[1] + `,` + good[1] + `]}`, good[1]},
			status: 200, taken: 2, refused: []int{1, 2, 3, 4, 5, 6, 7}},
		{name: "a Pod among events", items: []string{`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"}}`, good[0]}, status: 200, taken: 1, refused: []int{0}},
		{name: "all bad", items: []string{`{}`, `[]`}, status: 400, refused: []int{0, 1}},
	}
	for _, spooled := range []bool{false, true} {
		for _, tc := range tests {
			name := tc.name
			if spooled {
				name += " (spool)"
			}
			t.Run(name, func(t *testing.T) {
				var mu sync.Mutex
				var probs []string
				w := &Receiver{OnProblem: func(p ingest.Problem) { mu.Lock(); probs = append(probs, p.Msg); mu.Unlock() }}
				c := &collector{}
				if spooled {
					sp, err := OpenSpoolFile(t.TempDir())
					if err != nil {
						t.Fatal(err)
					}
					defer sp.Close()
					w.Spool = sp
				} else {
					startWebhook(t, w, c)
				}
				rec := httptest.NewRecorder()
				w.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(eventList(t, "v1", tc.items...))))
				if rec.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
				}
				var ans itemsAnswer
				if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
					t.Fatalf("answer %q: %v", rec.Body, err)
				}
				if ans.Accepted != tc.taken || ans.Refused != len(tc.refused) || len(ans.Items) != len(tc.refused) {
					t.Fatalf("answer %s, want %d taken, items %v refused", rec.Body, tc.taken, tc.refused)
				}
				for i, it := range ans.Items {
					if it.Index != tc.refused[i] || it.Reason == "" {
						t.Errorf("refused item %d: %+v, want index %d with a reason", i, it, tc.refused[i])
					}
				}
				var lines []string
				if spooled {
					data, _ := os.ReadFile(w.Spool.Path())
					lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
					if len(data) == 0 {
						lines = nil
					}
				} else {
					lines = c.raws
				}
				if len(lines) != tc.taken {
					t.Errorf("%d events taken, want %d", len(lines), tc.taken)
				}
				for _, l := range lines { // what the spool's reader will do
					if evs, err := audit.Decode([]byte(l), nil); err != nil || len(evs) != 1 {
						t.Errorf("taken %q reads back as %d events (%v)", l, len(evs), err)
					}
				}
				st := w.Stats()
				mu.Lock()
				defer mu.Unlock()
				if st.RejectedItems != int64(len(tc.refused)) || st.Events != int64(tc.taken) {
					t.Errorf("stats %+v", st)
				}
				if len(tc.refused) > 0 && (len(probs) != 1 || !strings.Contains(probs[0], "items["+itoa(tc.refused[0])+"]")) {
					t.Errorf("problems %q: want one naming items[%d]", probs, tc.refused[0])
				}
			})
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestBadItemsMsg: the problem line names the first items and counts the rest.
func TestBadItemsMsg(t *testing.T) {
	bad := make([]BadItem, 8)
	for i := range bad {
		bad[i] = BadItem{Index: i * 2, Reason: "not an audit event"}
	}
	got := badItemsMsg(bad, 3)
	if !strings.HasPrefix(got, "8 EventList items refused (3 taken): items[0]: not an audit event; items[2]:") ||
		!strings.HasSuffix(got, "; and 3 more") || strings.Contains(got, "items[10]") {
		t.Errorf("%q", got)
	}
}
