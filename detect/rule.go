package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kaudit/kaudit/query"
)

// Severity ranks a rule's hits.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want %s)", s, strings.Join(severityNames, ", "))
}

// UnmarshalYAML reads a severity name.
func (s *Severity) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSeverity(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText writes the severity's name (JSON output).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Rule is one named detection. Its Filter is kaudit's filter language
// (quick terms or jq, see package query); an event is a hit when the filter
// keeps it, Except does not, and none of its suppressions matches.
type Rule struct {
	Name        string     `yaml:"name" json:"name"`
	Severity    Severity   `yaml:"severity" json:"severity"`
	Description string     `yaml:"description" json:"description"`
	Technique   string     `yaml:"technique,omitempty" json:"technique,omitempty"` // MITRE ATT&CK ID, e.g. T1609
	Filter      string     `yaml:"filter" json:"filter"`
	Except      string     `yaml:"except,omitempty" json:"except,omitempty"` // rule-specific exclusions (a filter)
	Suppress    []string   `yaml:"suppress" json:"suppress"`                 // named suppressions; omitted: DefaultSuppress
	Threshold   *Threshold `yaml:"threshold,omitempty" json:"threshold,omitempty"`

	filter, except *query.Filter
}

// Suppression is a named filter: events it keeps are not hits of the rules
// that name it.
type Suppression struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	Filter      string `yaml:"filter" json:"filter"`

	filter *query.Filter
}

// DefaultSuppress is the suppression a rule gets when it names none.
const DefaultSuppress = "system-principal"

// File is the YAML format of a rule file (the built-in pack and --rules DIR).
type File struct {
	Suppressions []*Suppression `yaml:"suppressions"`
	Rules        []*Rule        `yaml:"rules"`
}

// Set is a compiled collection of rules and the suppressions they name.
type Set struct {
	Rules        []*Rule
	Suppressions map[string]*Suppression
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// parseFile reads one YAML rule file strictly (unknown fields are errors).
func parseFile(name string, data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &f, nil
}

// Load reads every *.yaml and *.yml file of dir in fsys, in name order,
// into base (nil: an empty set): rules are added (a rule with the name of
// an existing one replaces it), suppressions added or replaced. The result
// is compiled and checked.
func Load(base *Set, fsys fs.FS, dir string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	out := base.clone()
	n := 0
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		f, err := parseFile(e.Name(), data)
		if err != nil {
			return nil, err
		}
		if err := out.add(e.Name(), f); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no .yaml rule files", dir)
	}
	return out, out.check()
}

// Parse reads one YAML rule file's bytes into a new compiled set.
func Parse(name string, data []byte) (*Set, error) {
	f, err := parseFile(name, data)
	if err != nil {
		return nil, err
	}
	s := (*Set)(nil).clone()
	if err := s.add(name, f); err != nil {
		return nil, err
	}
	return s, s.check()
}

func (s *Set) clone() *Set {
	out := &Set{Suppressions: map[string]*Suppression{}}
	if s != nil {
		out.Rules = append(out.Rules, s.Rules...)
		for k, v := range s.Suppressions {
			out.Suppressions[k] = v
		}
	}
	return out
}

func (s *Set) add(file string, f *File) error {
	for _, sp := range f.Suppressions {
		if sp == nil {
			return fmt.Errorf("%s: an empty suppression", file)
		}
		if !nameRE.MatchString(sp.Name) {
			return fmt.Errorf("%s: suppression name %q: want lower-case letters, digits and -", file, sp.Name)
		}
		flt, err := query.Compile(sp.Filter)
		if err != nil {
			return fmt.Errorf("%s: suppression %s: filter: %w", file, sp.Name, err)
		}
		if strings.TrimSpace(sp.Filter) == "" {
			return fmt.Errorf("%s: suppression %s: empty filter", file, sp.Name)
		}
		sp.filter = flt
		s.Suppressions[sp.Name] = sp
	}
	for _, r := range f.Rules {
		if r == nil {
			return fmt.Errorf("%s: an empty rule", file)
		}
		if err := r.compile(); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		replaced := false
		for i, old := range s.Rules {
			if old.Name == r.Name {
				s.Rules[i], replaced = r, true
			}
		}
		if !replaced {
			s.Rules = append(s.Rules, r)
		}
	}
	return nil
}

func (r *Rule) compile() error {
	if !nameRE.MatchString(r.Name) {
		return fmt.Errorf("rule name %q: want lower-case letters, digits and -", r.Name)
	}
	if strings.TrimSpace(r.Filter) == "" {
		return fmt.Errorf("rule %s: empty filter", r.Name)
	}
	if r.Description == "" {
		return fmt.Errorf("rule %s: no description", r.Name)
	}
	var err error
	if r.filter, err = query.Compile(r.Filter); err != nil {
		return fmt.Errorf("rule %s: filter: %w", r.Name, err)
	}
	if r.Except != "" {
		if r.except, err = query.Compile(r.Except); err != nil {
			return fmt.Errorf("rule %s: except: %w", r.Name, err)
		}
	}
	if r.Suppress == nil {
		r.Suppress = []string{DefaultSuppress}
	}
	if r.Threshold != nil {
		if err := r.Threshold.check(); err != nil {
			return fmt.Errorf("rule %s: threshold: %w", r.Name, err)
		}
	}
	return nil
}

// check verifies that every suppression a rule names exists.
func (s *Set) check() error {
	var errs []error
	for _, r := range s.Rules {
		for _, name := range r.Suppress {
			if s.Suppressions[name] == nil {
				errs = append(errs, fmt.Errorf("rule %s: unknown suppression %q", r.Name, name))
			}
		}
	}
	return errors.Join(errs...)
}

// Rule returns the rule called name, or nil.
func (s *Set) Rule(name string) *Rule {
	for _, r := range s.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Select returns a set with only the named rules, in the set's order; an
// unknown name is an error.
func (s *Set) Select(names []string) (*Set, error) {
	want := map[string]bool{}
	for _, n := range names {
		if s.Rule(n) == nil {
			return nil, fmt.Errorf("unknown rule %q", n)
		}
		want[n] = true
	}
	out := s.clone()
	out.Rules = out.Rules[:0:0]
	for _, r := range s.Rules {
		if want[r.Name] {
			out.Rules = append(out.Rules, r)
		}
	}
	return out, nil
}

// SuppressionNames lists the suppressions, sorted.
func (s *Set) SuppressionNames() []string {
	names := make([]string, 0, len(s.Suppressions))
	for n := range s.Suppressions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Plan is how the rule's filter is answered (index terms, scans, residual
// jq), as query.Filter.Plan shows it.
func (r *Rule) Plan() string { return r.filter.Plan() }

// Duration is a time.Duration written as "10m" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a Go duration ("90s", "10m").
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as Go prints it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
