package ingest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// StdinPath names standard input in Problems and Positions; "-" in
// Replay.Paths means standard input.
const StdinPath = "<stdin>"

// input is one thing Run reads, in order: a file, stdin, or a problem found
// while expanding the paths (reported in its place, so that warnings come out
// in the order of the command line).
type input struct {
	path    string
	stdin   bool
	problem *Problem
}

// ExpandPaths turns command-line paths into the files to read, in order.
// "-" stays "-" (standard input). A directory becomes its audit log files —
// names like audit*.log, audit*.log.N, audit*.log-DATE, each optionally .gz —
// oldest first, then the current file:
//
//   - lumberjack backups (what kube-apiserver's --audit-log-maxbackup writes),
//     audit-2026-11-25T17-53-17.123.log[.gz], by the timestamp in the name;
//   - logrotate backups, audit.log.2.gz before audit.log.1 (higher = older),
//     and dateext backups, audit.log-20261125, by date;
//   - then the current file, audit.log.
//
// Then the files that may be cloud exports (see exportFiles), by name.
//
// When both X.log and X.log.gz exist, lumberjack is in the middle of
// compressing a backup (it writes X.log.gz, then deletes X.log): only X.log
// is read, as it is complete and the .gz may not be. Other names are ignored.
// Several logs in one directory (audit.log and audit-webhook.log) are read
// one after the other, each with its backups, in name order.
//
// Missing or unreadable paths and directories without audit files come back
// as problems; the remaining paths are still expanded.
func ExpandPaths(paths []string) (files []string, problems []Problem) {
	for _, in := range expand(paths) {
		switch {
		case in.problem != nil:
			problems = append(problems, *in.problem)
		case in.stdin:
			files = append(files, "-")
		default:
			files = append(files, in.path)
		}
	}
	return files, problems
}

func expand(paths []string) []input {
	var out []input
	for _, p := range paths {
		if p == "-" {
			out = append(out, input{path: StdinPath, stdin: true})
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			out = append(out, input{problem: &Problem{Path: p, Kind: Unreadable, Msg: "cannot read: " + errText(err)}})
			continue
		}
		if !fi.IsDir() {
			out = append(out, input{path: p})
			continue
		}
		names, err := auditFiles(p)
		if err != nil {
			out = append(out, input{problem: &Problem{Path: p, Kind: Unreadable, Msg: "cannot list directory: " + errText(err)}})
			continue
		}
		exports := exportFiles(p, names)
		if len(names) == 0 && len(exports) == 0 {
			out = append(out, input{problem: &Problem{Path: p, Kind: NoAuditFiles, Msg: "no audit log files (audit*.log*) or cloud exports in directory"}})
			continue
		}
		for _, n := range names {
			out = append(out, input{path: filepath.Join(p, n)})
		}
		out = append(out, exports...)
	}
	return out
}

// errText is the reason without the path (the Problem already names it).
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// logName is an audit log file name taken apart for ordering.
type logName struct {
	name string
	base string // the current file this one belongs to, e.g. "audit.log"
	rank int    // 0 timestamped backup, 1 numbered backup, 2 current file
	key  string // rank 0: the timestamp or date in the name
	num  int    // rank 1: the backup number
}

const lumberjackTime = "2006-01-02T15-04-05.000"

// parseLogName reports whether name is an audit log file and how it sorts.
func parseLogName(name string) (logName, bool) {
	if !strings.HasPrefix(name, "audit") {
		return logName{}, false
	}
	stem := strings.TrimSuffix(name, ".gz")
	ln := logName{name: name}
	if strings.HasSuffix(stem, ".log") {
		// lumberjack: <prefix>-<timestamp>.log for the current file <prefix>.log.
		if n := len(stem) - len(".log") - len(lumberjackTime); n > len("audit") && stem[n-1] == '-' {
			ts := stem[n : len(stem)-len(".log")]
			if _, err := time.Parse(lumberjackTime, ts); err == nil {
				ln.base, ln.rank, ln.key = stem[:n-1]+".log", 0, ts
				return ln, true
			}
		}
		ln.base, ln.rank = stem, 2
		return ln, true
	}
	if i := strings.LastIndex(stem, ".log."); i >= 0 {
		if n, err := strconv.Atoi(stem[i+len(".log."):]); err == nil && n >= 0 && allDigits(stem[i+len(".log."):]) {
			ln.base, ln.rank, ln.num = stem[:i+len(".log")], 1, n
			return ln, true
		}
	}
	if i := strings.LastIndex(stem, ".log-"); i >= 0 {
		if d := stem[i+len(".log-"):]; len(d) >= 8 && allDigits(d) {
			ln.base, ln.rank, ln.key = stem[:i+len(".log")], 0, d
			return ln, true
		}
	}
	return logName{}, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// auditFiles lists dir's audit log files in reading order.
func auditFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	present := make(map[string]bool, len(entries))
	var logs []logName
	for _, e := range entries {
		ln, ok := parseLogName(e.Name())
		if !ok {
			continue
		}
		if !e.Type().IsRegular() {
			// Follow symlinks; skip directories, sockets and the like.
			fi, err := os.Stat(filepath.Join(dir, e.Name()))
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
		}
		present[e.Name()] = true
		logs = append(logs, ln)
	}
	return orderLogs(logs, present), nil
}

// OrderAuditNames keeps the audit log file names among names (of regular
// files in one directory, e.g. listed on a remote host) in reading order,
// as a local directory's are read.
func OrderAuditNames(names []string) []string {
	present := make(map[string]bool, len(names))
	var logs []logName
	for _, n := range names {
		if ln, ok := parseLogName(n); ok && !present[n] {
			present[n] = true
			logs = append(logs, ln)
		}
	}
	return orderLogs(logs, present)
}

// orderLogs drops a .gz whose plain copy is present and sorts the rest in
// reading order.
func orderLogs(logs []logName, present map[string]bool) []string {
	kept := logs[:0]
	for _, ln := range logs {
		if strings.HasSuffix(ln.name, ".gz") && present[strings.TrimSuffix(ln.name, ".gz")] {
			continue // lumberjack mid-compression: the plain copy is complete
		}
		kept = append(kept, ln)
	}
	sort.Slice(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.base != b.base {
			return a.base < b.base
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.key != b.key {
			return a.key < b.key
		}
		if a.num != b.num {
			return a.num > b.num // audit.log.2 is older than audit.log.1
		}
		return a.name < b.name
	})
	names := make([]string, len(kept))
	for i, ln := range kept {
		names[i] = ln.name
	}
	return names
}
