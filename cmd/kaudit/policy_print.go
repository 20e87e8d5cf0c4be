package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kaudit/kaudit/policy"
	"github.com/kaudit/kaudit/termsafe"
)

// checkResult is one file's findings, as printed by policy check -o json.
type checkResult struct {
	File     string           `json:"file"`
	Findings []policy.Finding `json:"findings"`
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printCheck(w io.Writer, results []checkResult, format string) error {
	if format == "json" {
		return writeJSON(w, results)
	}
	for _, r := range results {
		if len(r.Findings) == 0 {
			fmt.Fprintf(w, "%s: ok\n", termsafe.Printable(r.File))
			continue
		}
		for _, f := range r.Findings {
			fmt.Fprintf(w, "%s:%d: %s: %s\n", termsafe.Printable(r.File), f.Line, f.Kind, termsafe.Printable(f.Message))
		}
	}
	return nil
}

func printSimulation(w io.Writer, rep *policy.Report, format string) error {
	if format == "json" {
		return writeJSON(w, rep)
	}
	fmt.Fprintf(w, "policy %s over %d requests, %s of log time; baseline: %s\n",
		termsafe.Printable(rep.Policy), rep.Requests, spanText(rep.SpanSeconds), termsafe.Printable(rep.Baseline))
	fmt.Fprintf(w, "log holds %d events, %s; policy writes %d events, %s; baseline %d events, %s\n",
		rep.Recorded.Events, mb(rep.Recorded.Bytes), rep.Predicted.Events, mb(rep.Predicted.Bytes),
		rep.BaselineTotal.Events, mb(rep.BaselineTotal.Bytes))
	if rep.SpanSeconds >= 1 {
		fmt.Fprintf(w, "per day: %.0f events (%+.0f), %.1f MB (%+.1f)\n", rep.PerDay.Events, rep.PerDay.DeltaEvents, rep.PerDay.MB, rep.PerDay.DeltaMB)
	}
	if rep.AboveRecorded > 0 {
		fmt.Fprintf(w, "note: for %d requests the policy asks for a higher level than the log holds; their bodies are not in the log, so bytes are a lower bound\n", rep.AboveRecorded)
	}
	if rep.Inferred > 0 {
		fmt.Fprintf(w, "note: %d RequestReceived events the log does not hold are inferred from the requests' final events\n", rep.Inferred)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tLINE\tLEVEL\tREQUESTS\tEVENTS\tBYTES\tBASE EVENTS\tBASE BYTES\tΔ EVENTS/DAY\tΔ MB/DAY\tTOP USERS\tTOP VERBS\tTOP RESOURCES\tMATCH")
	for _, r := range rep.Rules {
		rule, line := fmt.Sprint(r.Rule), fmt.Sprint(r.Line)
		if r.Rule < 0 {
			rule, line = "-", "-"
		}
		level := r.Level
		if r.AboveRecorded > 0 {
			level += fmt.Sprintf(" (%d above log)", r.AboveRecorded)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%+.0f\t%+.2f\t%s\t%s\t%s\t%s\n", rule, line, level, r.Requests,
			r.Volume.Events, r.Volume.Bytes, r.Baseline.Events, r.Baseline.Bytes, r.PerDay.DeltaEvents, r.PerDay.DeltaMB,
			counts(r.TopUsers), counts(r.TopVerbs), counts(r.TopResources), termsafe.Printable(r.Match))
	}
	return tw.Flush()
}

func counts(cs []policy.Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		v := c.Value
		if v == "" {
			v = `""`
		}
		parts[i] = fmt.Sprintf("%s:%d", termsafe.Printable(v), c.N)
	}
	return strings.Join(parts, " ")
}

func mb(b int64) string { return fmt.Sprintf("%.2f MB", float64(b)/1e6) }

func spanText(s float64) string {
	switch {
	case s >= 2*86400:
		return fmt.Sprintf("%.1f days", s/86400)
	case s >= 2*3600:
		return fmt.Sprintf("%.1f hours", s/3600)
	case s >= 120:
		return fmt.Sprintf("%.1f minutes", s/60)
	}
	return fmt.Sprintf("%.0f seconds", s)
}

func printSuggestion(w io.Writer, s *policy.Suggestion, format string) error {
	if format == "json" {
		return writeJSON(w, s)
	}
	_, err := io.WriteString(w, s.YAML)
	return err
}
