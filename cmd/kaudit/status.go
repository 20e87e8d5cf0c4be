package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kaudit/kaudit/forward"
	"github.com/kaudit/kaudit/ingest"
	"github.com/kaudit/kaudit/termsafe"
	"github.com/kaudit/kaudit/webhook"
)

// statusRow is one position as kaudit status reports it.
type statusRow struct {
	Source    string    `json:"source"`
	Sink      string    `json:"sink,omitempty"` // a --forward sink's position: how far it acknowledged Source
	Path      string    `json:"path"`
	Offset    int64     `json:"offset"`
	Line      int64     `json:"line"`
	Size      int64     `json:"size"`                // of the file at Path now (-1: gone)
	LagBytes  int64     `json:"lag_bytes"`           // bytes written but not yet read (estimated across a rotation)
	LagEvents int64     `json:"lag_events"`          // LagBytes / the average line length so far
	Rotated   bool      `json:"rotated"`             // the position is no longer in the current file
	LastEvent time.Time `json:"last_event,omitzero"` // stageTimestamp of the last event handed on
	Updated   time.Time `json:"updated,omitzero"`
	AgeSec    float64   `json:"age_seconds"` // since the position was written
	// Receiver is set on the row of kaudit serve's webhook receiver
	// (Source "webhook", Path its URL); the position fields are then zero.
	Receiver *webhook.Stats `json:"receiver,omitempty"`

	Forward *forward.Stats `json:"forward,omitempty"` // a sink's counters, as its process last saved them
}

func newStatusCmd(e *env) *cobra.Command {
	var stateDir, output string
	cmd := &cobra.Command{
		Use:   "status [--state-dir DIR]",
		Short: "Show where each followed audit log stands: offset, lag, last event",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if output != "" && output != "table" && output != "json" {
				return usageError("unknown output format %q (want table or json)", output)
			}
			defer func() { err = positionsFailing(stateDir, err) }()
			st, err := loadStatus(stateDir, timeNow())
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st.rows)
			}
			return st.write(e.stdout)
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", ingest.DefaultStateDir(), "where positions are kept")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// statusReport is what kaudit status found in a state dir.
type statusReport struct {
	rows    []statusRow
	sinks   []forward.Stats
	saved   time.Time // when the sinks' counters were written
	recv    webhook.Stats
	hasRecv bool
	now     time.Time
}

// loadStatus reads the positions, the sinks' and the receiver's counters.
// positionsFailing adds to err (the command's) that the process using
// stateDir cannot save its positions, as it says in the state dir's lock
// file: status then exits non-zero.
func positionsFailing(stateDir string, err error) error {
	info, ierr := ingest.ReadStateDir(stateDir)
	if ierr != nil || !info.Failing {
		return err
	}
	failing := fmt.Errorf("pid %d (%s) cannot save positions in %s since %s (%d attempts): %s: the positions shown are behind",
		info.PID, info.Holder, termsafe.Printable(stateDir), info.Since.Format(time.RFC3339), info.Failures, info.LastError)
	if info.PID == 0 {
		failing = fmt.Errorf("%s: %s: the positions shown may be behind", termsafe.Printable(stateDir), info.LastError)
	}
	if err != nil {
		return fmt.Errorf("%v; and: %w", failing, err)
	}
	return failing
}

func loadStatus(stateDir string, now time.Time) (*statusReport, error) {
	if _, err := os.ReadDir(stateDir); err != nil {
		return nil, fmt.Errorf("state dir %s: %v", stateDir, err)
	}
	pos, err := ingest.LoadPositions(stateDir)
	if err != nil {
		return nil, err
	}
	s := &statusReport{rows: make([]statusRow, 0, len(pos)), now: now}
	for _, cp := range pos {
		s.rows = append(s.rows, statusOf(cp, now))
	}
	sort.Slice(s.rows, func(i, j int) bool {
		a, b := s.rows[i], s.rows[j]
		return a.Source < b.Source || a.Source == b.Source && a.Sink < b.Sink
	})
	if s.sinks, s.saved, err = forward.LoadStats(stateDir); err != nil {
		return nil, err
	}
	s.rows = withSinks(s.rows, s.sinks)
	if s.recv, s.hasRecv, err = webhook.LoadStats(stateDir); err != nil {
		return nil, fmt.Errorf("receiver counters: %v", err)
	}
	if s.hasRecv {
		r := statusRow{Source: webhook.SourceName, Path: s.recv.Listen, Receiver: &s.recv, Updated: s.recv.Updated}
		if !s.recv.Updated.IsZero() {
			r.AgeSec = now.Sub(s.recv.Updated).Seconds()
		}
		s.rows = append(s.rows, r)
	}
	return s, nil
}

// write prints the tables: positions, sinks, receiver.
func (s *statusReport) write(w io.Writer) error {
	if s.hasRecv && len(s.rows) == 1 {
		return writeReceiverStatus(w, s.recv, s.now)
	}
	if err := writePositions(w, s.rows); err != nil {
		return err
	}
	if len(s.sinks) > 0 {
		fmt.Fprintf(w, "\nforward (counters saved %s ago)\n", s.now.Sub(s.saved).Round(time.Second))
		if err := writeSinkStatus(w, s.sinks); err != nil {
			return err
		}
	}
	if s.hasRecv {
		fmt.Fprintln(w)
		return writeReceiverStatus(w, s.recv, s.now)
	}
	return nil
}

// writePositions is the table of followed logs and sinks' positions.
func writePositions(w io.Writer, rows []statusRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tPATH\tOFFSET\tSIZE\tLAG\tLAG EVENTS\tLAST EVENT\tAGE")
	for _, r := range rows {
		if r.Receiver != nil || r.Path == "" {
			continue // the receiver's section comes below; a sink with no position yet
		}
		size, last := fmt.Sprint(r.Size), "-"
		if r.Size < 0 {
			size = "gone"
		}
		if !r.LastEvent.IsZero() {
			last = r.LastEvent.UTC().Format(time.RFC3339)
		}
		lag := fmt.Sprint(r.LagBytes)
		if r.Rotated {
			lag = "≥" + lag + " (rotated)"
		}
		src := r.Source
		if r.Sink != "" {
			src += " -> " + r.Sink
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", src, r.Path, r.Offset, size, lag, r.LagEvents, last,
			time.Duration(r.AgeSec*float64(time.Second)).Round(time.Second))
	}
	return tw.Flush()
}

// writeSinkStatus is the table of the sinks' counters.
func writeSinkStatus(w io.Writer, sinks []forward.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tSENT\tACKED\tRETRIED\tDROPPED\tDEAD-LETTERED\tOVERSIZE\tLOST\tQUEUE\tLAST ERROR")
	for _, st := range sinks {
		lastErr := "-"
		if st.LastError != "" {
			lastErr = termsafe.Printable(st.LastError)
			if !st.LastErrorAt.IsZero() {
				lastErr = st.LastErrorAt.Format(time.RFC3339) + " " + lastErr
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", termsafe.Printable(st.Sink), st.Sent, st.Acked, st.Retried, st.Dropped,
			st.DeadLettered, st.Oversize, st.Lost, st.Queue, lastErr)
	}
	return tw.Flush()
}

// statusOf compares a checkpoint with the files as they are now.
func statusOf(cp ingest.Checkpoint, now time.Time) statusRow {
	r := statusRow{Source: cp.Source, Sink: cp.Sink, Path: cp.Path, Offset: cp.Offset, Line: cp.Line, Size: -1, LastEvent: cp.LastEvent, Updated: cp.Updated}
	if !cp.Updated.IsZero() {
		r.AgeSec = now.Sub(cp.Updated).Seconds()
	}
	same := false
	if fi, err := os.Stat(cp.Path); err == nil {
		r.Size = fi.Size()
		dev, ino := ingest.FileID(fi)
		same = dev == cp.Dev && ino == cp.Inode
	}
	if same {
		r.LagBytes = max(r.Size-cp.Offset, 0)
	}
	// Where the source is now: its current file, if the position is elsewhere.
	current := cp.Source
	if fi, err := os.Stat(current); err == nil && fi.IsDir() {
		current = filepath.Join(current, ingest.CurrentName)
	}
	if current != cp.Path || !same {
		if fi, err := os.Stat(current); err == nil {
			dev, ino := ingest.FileID(fi)
			if dev != cp.Dev || ino != cp.Inode {
				r.Rotated = true
				r.LagBytes += fi.Size()
			}
		}
	}
	if cp.Line > 0 && cp.Offset > 0 {
		r.LagEvents = r.LagBytes * cp.Line / cp.Offset
	}
	return r
}

// writeReceiverStatus is the webhook receiver's section of kaudit status.
func writeReceiverStatus(w io.Writer, s webhook.Stats, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WEBHOOK RECEIVER\tREQUESTS\tEVENTS\tBYTES\tREJECTED\tLAST SENDER\tLAST REQUEST\tAGE")
	reasons := make([]string, 0, len(s.Rejected))
	for k, v := range s.Rejected {
		reasons = append(reasons, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(reasons)
	rejected := fmt.Sprint(s.TotalRejected())
	if len(reasons) > 0 {
		rejected += " (" + strings.Join(reasons, " ") + ")"
	}
	sender, last := "-", "-"
	if s.LastSender != "" {
		sender = termsafe.Printable(s.LastSender)
	}
	if !s.LastRequest.IsZero() {
		last = s.LastRequest.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", termsafe.Printable(s.Listen), s.Requests, s.Events, s.Bytes, rejected, sender, last,
		now.Sub(s.Updated).Round(time.Second))
	return tw.Flush()
}

// withSinks attaches each sink's counters to its position rows; a sink with
// no position yet gets a row of its own.
func withSinks(rows []statusRow, sinks []forward.Stats) []statusRow {
	for i := range sinks {
		st := &sinks[i]
		found := false
		for j := range rows {
			if rows[j].Sink == st.Sink {
				rows[j].Forward, found = st, true
			}
		}
		if !found {
			rows = append(rows, statusRow{Sink: st.Sink, Size: -1, Forward: st})
		}
	}
	return rows
}
