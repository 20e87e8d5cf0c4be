package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// replay -f 'rule:NAME' (headless) keeps exactly the requests kaudit detect
// reports for the rules NAME matches, with or without --detect, and takes
// --severity as detect does.
func TestReplayRuleTerm(t *testing.T) {
	log := detectFixtures + "handmade/events.jsonl"
	requests := func(args ...string) []string {
		t.Helper()
		code, out, errOut := kaudit(t, "", append([]string{"replay", "-o", "jsonl", "--view", "events"}, args...)...)
		if code != exitOK {
			t.Fatalf("replay %v: exit %d: %s", args, code, errOut)
		}
		var ids []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var ev struct {
				AuditID string `json:"auditID"`
			}
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			ids = append(ids, ev.AuditID)
		}
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	hitIDs := func(hits []hitLine, match func(string) bool) []string {
		var ids []string
		for _, h := range hits {
			if match(h.Rule) {
				ids = append(ids, h.AuditID)
			}
		}
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	all := detectJSONL(t, log)
	high := detectJSONL(t, "--severity", "high", log)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"one rule", []string{"-f", "rule:secret-read", log}, hitIDs(all, func(r string) bool { return r == "secret-read" })},
		{"with --detect", []string{"--detect", "-f", "rule:secret-read", log}, hitIDs(all, func(r string) bool { return r == "secret-read" })},
		{"glob", []string{"-f", "rule:host-*", log}, hitIDs(all, func(r string) bool { return strings.HasPrefix(r, "host-") })},
		{"every rule", []string{"-f", "rule:*", log}, hitIDs(all, func(string) bool { return true })},
		{"severity", []string{"--severity", "high", "-f", "rule:*", log}, hitIDs(high, func(string) bool { return true })},
		{"with other terms", []string{"-f", "rule:* user:mallory", log}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := requests(tc.args...)
			if tc.want == nil { // rule:* and user:mallory: mallory's hits
				mal := requests("-f", "user:mallory", log)
				for _, id := range hitIDs(all, func(string) bool { return true }) {
					if slices.Contains(mal, id) {
						tc.want = append(tc.want, id)
					}
				}
			}
			if len(tc.want) == 0 || !slices.Equal(got, tc.want) {
				t.Errorf("got %d requests %v\nwant %d %v", len(got), got, len(tc.want), tc.want)
			}
		})
	}
}
