package tui

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// fieldOf is field name of event raw, read from its JSON independently of
// the store's columns.
func fieldOf(t *testing.T, raw []byte, name string) string {
	t.Helper()
	var ev struct {
		AuditID, Verb, RequestURI string
		User                      struct{ Username string }
		ObjectRef                 struct{ Name, Namespace string }
		ResponseStatus            struct{ Message string }
		Annotations               map[string]string
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	switch name {
	case "user":
		return ev.User.Username
	case "verb":
		return ev.Verb
	case "URI":
		return ev.RequestURI
	case "name":
		return ev.ObjectRef.Name
	case "namespace":
		return ev.ObjectRef.Namespace
	case "auditID":
		return ev.AuditID
	case "reason":
		if r := ev.Annotations["authorization.k8s.io/reason"]; r != "" {
			return r
		}
		return ev.ResponseStatus.Message
	}
	t.Fatalf("no field %q", name)
	return ""
}

// osc52Of is the one OSC 52 write that copies v: its payload is exactly
// v's base64.
func osc52Of(v string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(v)) + "\x07"
}

// Y, then a field's key, copies that field's value with one OSC 52 write
// holding exactly its base64; any other key copies nothing.
func TestCopyField(t *testing.T) {
	st := genStore(t, 3000)
	m := started(t, st, 100, 30)
	var out strings.Builder
	m.clip = osc52Clip(&out, "xterm-256color", false)
	for _, f := range copyFields {
		t.Run(f.name, func(t *testing.T) {
			// The first event that has the field.
			er := m.rows().(eventRows)
			row := -1
			var want string
			for i := range er.Len() {
				id, _ := er.id(i)
				raw, _ := st.Raw(id, nil)
				if want = fieldOf(t, raw, f.name); want != "" {
					row = i
					break
				}
			}
			if row < 0 {
				t.Fatalf("no generated event has a %s", f.name)
			}
			m.tables[tabEvents].SetCursor(row)
			pm := drive(t, m, keys("enter", "Y")...)
			if !strings.Contains(pm.View(), "copy which field?") || !strings.Contains(pm.footer(), f.key+" "+f.short) || out.Len() != 0 {
				t.Fatalf("after Y: footer %q, %d bytes written", pm.footer(), out.Len())
			}
			pm = drive(t, pm, keys(f.key)...)
			if got := out.String(); got != osc52Of(want) {
				t.Errorf("wrote %q, want %q (%q)", got, osc52Of(want), want)
			}
			if !strings.Contains(pm.status.note, "copied the "+f.name) || pm.over.pane != paneEvent {
				t.Errorf("note %q, pane %d", pm.status.note, pm.over.pane)
			}
			out.Reset()
			// Y then another key: nothing copied, the key used up.
			pm = drive(t, pm, keys("Y", "x", "j")...)
			if out.Len() != 0 || pm.over.pick || pm.over.pane != paneEvent {
				t.Errorf("Y x: %d bytes written, still asking %v", out.Len(), pm.over.pick)
			}
		})
	}
	// A field the event lacks says so and writes nothing.
	er := m.rows().(eventRows)
	for i := range er.Len() {
		if id, _ := er.id(i); st.Entry(id).Object.Name == "" {
			m.tables[tabEvents].SetCursor(i)
			m = drive(t, m, keys("enter", "Y", "n")...)
			if out.Len() != 0 || m.status.note != "this event has no name" {
				t.Errorf("no name: %d bytes written, note %q", out.Len(), m.status.note)
			}
			break
		}
	}
}

// Event content never writes OSC 52: rendering hostile events (one of
// them carries an OSC 52 payload in every field) calls the clipboard
// never; Y copies a hostile field, escaped as the page shows it, only as
// base64 inside our one sequence.
func TestCopyFieldHostile(t *testing.T) {
	st := hostileStore(t)
	m := started(t, st, 120, 40)
	var out strings.Builder
	calls := 0
	osc := osc52Clip(&out, "xterm", false)
	m.clip = func(b []byte) error { calls++; return osc(b) }
	for i := range tabs[:tabDetections] {
		m = drive(t, m, toTab(i)...)
		_ = m.View()
	}
	m = drive(t, m, keys("1")...)
	for row := range st.Len() {
		m.tables[tabEvents].SetCursor(row)
		m = drive(t, m, keys("enter")...)
		_ = m.View()
		m = drive(t, m, keys("esc")...)
	}
	if calls != 0 || out.Len() != 0 {
		t.Fatalf("rendering events wrote to the clipboard %d times: %q", calls, out.String())
	}
	m.tables[tabEvents].SetCursor(3) // the event whose fields carry an OSC 52 payload
	m = drive(t, m, keys("enter")...)
	raw, _ := st.Raw(m.over.want.id, nil)
	for _, f := range copyFields {
		out.Reset()
		m = drive(t, m, keys("Y", f.key)...)
		want := printable(fieldOf(t, raw, f.name)) // as shown: a paste must not act either
		if want == fieldOf(t, raw, f.name) && f.name != "auditID" {
			t.Errorf("%s: the hostile value %q needs no escaping: the case shows nothing", f.name, want)
		}
		if got := out.String(); got != osc52Of(want) {
			t.Errorf("%s: wrote %q, want %q", f.name, got, osc52Of(want))
		}
		if strings.Count(out.String(), "\x1b") != 1 {
			t.Errorf("%s: more than our one escape: %q", f.name, out.String())
		}
		if strings.ContainsAny(m.status.note, "\x1b\x07") {
			t.Errorf("%s: the note echoes the value: %q", f.name, m.status.note)
		}
	}
	if !strings.Contains(fieldOf(t, raw, "user"), "\x1b]52;") {
		t.Fatal("the hostile event has no OSC 52 payload: the test shows nothing")
	}
}
