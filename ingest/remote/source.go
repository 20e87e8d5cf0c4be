package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/kaudit/kaudit/audit"
	"github.com/kaudit/kaudit/ingest"
)

// Source reads the audit logs of several hosts and merges them by time:
// a pipeline.Source. Replay (Follow false) reads each host's directory
// of rotated logs, oldest first; Follow follows each host's current log
// (kaudit watch on the remote host when it is installed there, else tail
// -F) and reconnects after failures.
//
// Goroutines: per host, one goroutine runs its ssh sessions and one its
// decoder; Run merges their batches and calls emit, OnProblem and Warn
// (serialised: never two at once).
type Source struct {
	Targets []Target
	Follow  bool
	History string // watch: --history for a remote kaudit ("" current)
	MaxLine int    // 0: ingest.DefaultMaxLine
	// Window is the live reorder window (0: DefaultWindow); see merge.
	Window Window
	// Local are inputs on this host merged with the remote ones.
	Local     []Local
	OnProblem func(ingest.Problem)
	Warn      func(string) // session failures and resumptions
	mu        sync.Mutex   // serialises OnProblem and Warn across hosts
}

// Local is an input read on this host and merged by time with the remote
// ones: the local paths of kaudit replay ./cp1/ ssh://cp2/… (an
// Replay, whose own merge puts them in time order) or of watch
// (a Tail: a live log is written in order); one of Replay and Tail is
// set. Its events without a source are named Name. Its problems go to
// the Source's OnProblem.
type Local struct {
	Name   string
	Replay *ingest.Replay
	Tail   *ingest.Tail
}

// Run reads every host until the replay ends or ctx is cancelled.
func (s *Source) Run(ctx context.Context, emit func(ingest.Batch) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(s.Targets) + len(s.Local)
	in := make(chan arrival, 4*n)
	lanes := make([]*lane, n)
	var wg sync.WaitGroup
	for i := range n {
		name := ""
		if i < len(s.Targets) {
			name = s.Targets[i].Name()
		} else {
			name = s.Local[i-len(s.Targets)].Name
		}
		lanes[i] = &lane{host: name, credit: make(chan struct{}, laneCredit)}
		wg.Go(func() {
			l := lanes[i]
			send := func(b ingest.Batch) error {
				select {
				case l.credit <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case in <- arrival{lane: i, b: b}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			var err error
			if i < len(s.Targets) {
				err = s.host(ctx, s.Targets[i], send)
			} else {
				err = s.local(ctx, s.Local[i-len(s.Targets)], send)
			}
			select {
			case in <- arrival{lane: i, end: true, err: err}:
			case <-ctx.Done():
			}
		})
	}
	m := &merger{lanes: lanes, in: in, live: s.Follow, window: s.Window.orDefault(), emit: emit}
	err := m.run(ctx)
	cancel()
	wg.Wait()
	return err
}

// local reads one local input to its end, naming its events.
func (s *Source) local(ctx context.Context, l Local, send func(ingest.Batch) error) error {
	named := func(b ingest.Batch) error {
		for i := range b.Events {
			if b.Events[i].Source == "" {
				b.Events[i].Source = l.Name
			}
		}
		return send(b)
	}
	var err error
	if l.Tail != nil {
		l.Tail.OnProblem = s.problem
		err = l.Tail.Run(ctx, named)
	} else {
		l.Replay.OnProblem = s.problem
		_, err = l.Replay.Run(ctx, named)
	}
	if errors.Is(err, ingest.ErrNoInput) {
		err = nil // reported as problems already
	}
	return err
}

// host reads one host to its end.
func (s *Source) host(ctx context.Context, t Target, send func(ingest.Batch) error) error {
	if s.Follow {
		return s.decode(ctx, t, t.URL, s.followSession(t), send)
	}
	files, err := s.list(ctx, t)
	if err != nil {
		s.problem(ingest.Problem{Path: t.URL, Kind: ingest.Unreadable, Msg: "cannot list: " + err.Error()})
		return nil
	}
	for _, f := range files {
		name := "ssh://" + t.Host + f
		if err := s.decode(ctx, t, name, s.catSession(t, f), send); err != nil {
			return err
		}
	}
	return nil
}

// decode runs sess and decodes what it streams, naming problems and
// positions name and tagging events with the host.
func (s *Source) decode(ctx context.Context, t Target, name string, sess *session, send func(ingest.Batch) error) error {
	pr, pw := io.Pipe()
	sess.out = pw
	sess.warn = s.warn
	sess.maxPending = max(s.MaxLine, ingest.DefaultMaxLine) + 1
	// The session ends with the decoder, even while it waits for output.
	sessCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess.run(sessCtx)
	}()
	// A replayed file is sorted through ingest's reorder window; a live
	// stream cannot wait for one (it goes in input order), and the hosts
	// are merged by time here (merge).
	window := 0
	if s.Follow {
		window = -1
	}
	r := &ingest.Replay{Paths: []string{"-"}, Stdin: pr, MaxLine: s.MaxLine, Live: s.Follow, Window: window,
		OnProblem: func(p ingest.Problem) {
			if p.Path == ingest.StdinPath {
				p.Path = name
			}
			s.problem(p)
		}}
	_, err := r.Run(ctx, func(b ingest.Batch) error {
		b.Pos.Path = name
		for i := range b.Events {
			tagHost(&b.Events[i], t.Name())
		}
		return send(b)
	})
	pr.Close() // a session still writing stops
	stop()
	<-done
	if errors.Is(err, ingest.ErrNoInput) {
		err = nil // reported as a problem already
	}
	return err
}

// tagHost names the host an event was read from: its source (the
// source: term, the SOURCE column, forwarded records' kaudit.source).
func tagHost(e *audit.Event, host string) { e.Source = host }

func (s *Source) problem(p ingest.Problem) {
	if s.OnProblem == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.OnProblem(p)
}

func (s *Source) warn(msg string) {
	if s.Warn == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Warn(msg)
}

// list names the remote path's audit log files in reading order: a
// directory's audit*.log* files as a local directory's are ordered, or
// the path itself when it is a file.
func (s *Source) list(ctx context.Context, t Target) ([]string, error) {
	dir := t.Path
	if dir == "" || dir == "/" {
		dir = defaultDir
	}
	script := "p=" + quote(dir) + `; if [ -d "$p" ]; then cd "$p" || exit 1; echo dir; for f in audit*.log*; do [ -f "$f" ] && printf '%s\n' "$f"; done; exit 0; fi; [ -r "$p" ] || { echo "no such file or directory" >&2; exit 1; }; echo file`
	pr, pw := io.Pipe()
	sess := &session{target: t, once: true, out: pw, maxPending: 1 << 20, warn: s.warn,
		script: func(int64, resumeMode) string { return script }}
	go sess.run(ctx)
	out, err := io.ReadAll(pr)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	switch {
	case lines[0] == "file":
		return []string{dir}, nil
	case lines[0] != "dir":
		return nil, fmt.Errorf("unexpected answer %q", lines[0])
	}
	names := ingest.OrderAuditNames(lines[1:])
	if len(names) == 0 {
		return nil, errors.New("no audit log files (audit*.log*) in directory")
	}
	dir = strings.TrimSuffix(dir, "/")
	for i, n := range names {
		names[i] = dir + "/" + n
	}
	return names, nil
}

// defaultDir is where kube-apiserver's audit log usually is.
const defaultDir = "/var/log/kubernetes/apiserver"

// catSession streams one remote file; a plain file resumes at the offset
// (tail -c +N), a gzip file is read again and its first bytes dropped.
func (s *Source) catSession(t Target, file string) *session {
	return &session{target: t, once: true, script: func(off int64, mode resumeMode) string {
		if off == 0 || mode == resumeSkip {
			return "exec cat -- " + quote(file)
		}
		return fmt.Sprintf("exec tail -c +%d -- %s", off+1, quote(file))
	}}
}

// followSession follows the host's current log: kaudit watch there if it
// is installed (its JSON lines, resumed by skipping what was read), else
// followScript.
func (s *Source) followSession(t Target) *session {
	path := t.Path
	if path == "" || path == "/" {
		path = defaultDir
	}
	hist := s.History
	if hist == "" {
		hist = "current"
	}
	sess := &session{target: t, header: true}
	sess.script = func(int64, resumeMode) string {
		return "p=" + quote(path) + `; [ -d "$p" ] && p="${p%/}/audit.log"; ` +
			`if command -v kaudit >/dev/null 2>&1; then echo kaudit-remote kaudit; exec kaudit watch -o jsonl --no-state --history ` + quote(hist) + ` "$p"; fi; ` +
			"ino=" + quote(sess.fileIno) + "; off=" + fmt.Sprint(sess.fileOff) + "\n" + followScript
	}
	return sess
}

// followScript follows the log $p from byte $off of the file with inode
// $ino (none: the current file from its start), in POSIX sh: the file is
// held open on fd 3 and read to its end every quarter second (cat);
// when $p is another file (rotated: renamed, removed or replaced) the
// rest of the old one is read, then the new one from its start; a file
// cut below what was read (copytruncate, checked once a second) is read
// again from its start
// (its size is taken through /dev/fd/3, the file held open, not $p, which
// a rotation may have replaced meanwhile).
// A mark line (see session.mark) names each file and the offset its
// bytes start at, so a new session resumes where the last complete line
// was read, in the file rotated away meanwhile if it is still in the
// directory (found by inode). A space on stderr every 5 s ends the
// script once ssh is gone (SIGPIPE) when the log is quiet.
const followScript = `echo kaudit-remote follow
inode() { ls -diL -- "$1" 2>/dev/null | awk '{print $1}'; }
mark() { printf '\036kaudit-%s %s %s\n' "$1" "$2" "$3"; }
nap() { sleep 0.25 2>/dev/null || sleep 1; beat=$((beat + 1)); [ $((beat % 20)) -ne 0 ] || printf ' ' >&2 || exit; }
beat=0
d=$(dirname -- "$p")
if [ -n "$ino" ] && [ "$(inode "$p")" != "$ino" ]; then
	f=$(ls -i -- "$d" 2>/dev/null | awk -v i="$ino" '$1 == i { sub(/^ *[0-9]+ /, ""); print; exit }')
	if [ -n "$f" ] && [ -f "$d/$f" ]; then
		mark file "$ino" "$off"
		tail -c +$((off + 1)) -- "$d/$f" || exit
	else
		mark lost "$ino" "$off"
	fi
	off=0
fi
until [ -r "$p" ]; do nap; done
exec 3<"$p" || exit
ino=$(inode /dev/fd/3)
[ "$(wc -c </dev/fd/3)" -ge "$off" ] || off=0
mark file "$ino" "$off"
tail -c +$((off + 1)) <&3 || exit
while :; do
	cat <&3 || exit
	if [ "$p" -ef /dev/fd/3 ]; then
		pos=
		[ $((beat % 4)) -ne 0 ] || pos=$(awk '$1 == "pos:" {print $2}' /proc/$$/fdinfo/3 2>/dev/null)
		if [ -n "$pos" ] && [ "$(wc -c </dev/fd/3)" -lt "$pos" ]; then
			exec 3<"$p" || exit
			mark file "$ino" 0
			continue
		fi
		nap
		continue
	fi
	sleep 1
	cat <&3 || exit
	until [ -r "$p" ]; do nap; done
	exec 3<"$p" || exit
	ino=$(inode /dev/fd/3)
	mark file "$ino" 0
done
`
