package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/kaudit/kaudit/termsafe"
)

// Backoff bounds between reconnections (tests shorten them).
var (
	MinBackoff = 500 * time.Millisecond
	MaxBackoff = 30 * time.Second
)

// replayAttempts is how often a replay's file is tried in a row without
// a byte of progress before it is given up.
const replayAttempts = 5

// resumeMode is how a new session picks up where the last one stopped.
type resumeMode int

const (
	resumeOffset resumeMode = iota // the remote command starts at the offset (tail -c +N)
	resumeSkip                     // the remote command starts over: the first offset bytes are dropped here
)

// session is one remote stream kept alive across ssh failures: it writes
// only complete lines to out, counts their bytes (offset), and after a
// failure reconnects with backoff and resumes at the end of the last
// complete line.
//
// Goroutines: run is the only one touching its fields; out's reader is
// the decoder.
type session struct {
	target Target
	// script is the remote script for a connection resuming at offset
	// (0 for the first). mode says how it resumes.
	script func(offset int64, mode resumeMode) string
	mode   resumeMode
	// header: the stream starts with one line "kaudit-remote MODE" (MODE
	// kaudit or tail) saying which command runs: kaudit's output is
	// resumed by skipping, tail's by offset.
	header     bool
	once       bool // replay: a clean exit (status 0) ends the stream
	maxPending int
	out        *io.PipeWriter
	warn       func(string)

	offset int64 // bytes of complete lines written to out
	gz     bool  // the stream is gzip: decompressed here, resumed by skipping

	// A follow script marks which file it streams (see followScript):
	// the file's inode and the offset in it after the last complete line
	// written to out, where a new session resumes, even in a file rotated
	// away meanwhile.
	fileIno string
	fileOff int64
}

// run keeps the stream going until it ends (once) or ctx is cancelled,
// then closes out.
func (s *session) run(ctx context.Context) {
	err := s.loop(ctx)
	s.out.CloseWithError(err)
}

func (s *session) loop(ctx context.Context) error {
	backoff := MinBackoff
	failed := 0
	for {
		before := s.offset
		status, stderr, err := s.connect(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, io.ErrClosedPipe) {
			return nil // the decoder stopped: nothing more is wanted
		}
		if err == nil && status == "exit status 0" && s.once {
			return nil
		}
		if s.offset > before {
			backoff, failed = MinBackoff, 0
		}
		failed++
		if s.once && failed >= replayAttempts {
			return fmt.Errorf("%s: gave up after %d attempts without progress (%s)", s.target.URL, failed, describe(status, err, stderr))
		}
		s.warn(fmt.Sprintf("%s: ssh session ended (%s); reconnecting in %s, resuming after byte %d",
			s.target.URL, describe(status, err, stderr), backoff, s.offset))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, MaxBackoff)
	}
}

// describe says how a session ended: exit status and the tail of its
// stderr (remote text: made terminal-safe).
func describe(status string, err error, stderr string) string {
	var b strings.Builder
	if err != nil {
		b.WriteString(err.Error())
	} else {
		b.WriteString(status)
	}
	if t := strings.TrimSpace(stderr); t != "" {
		fmt.Fprintf(&b, "; stderr: %s", termsafe.Printable(t))
	}
	return b.String()
}

// connect runs one ssh session to its end and reports how it ended
// ("exit status 255", "signal: killed") and stderr's tail.
func (s *session) connect(ctx context.Context) (string, string, error) {
	mode := s.mode
	if s.gz {
		mode = resumeSkip
	}
	cmd := exec.CommandContext(ctx, SSH, s.target.args(s.script(s.offset, mode))...)
	// A remote command's leftover child holding the pipes open must not
	// keep a dead session waiting.
	cmd.WaitDelay = 2 * time.Second
	stderr := &tailBuffer{max: 2048}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", err
	}
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	copyErr := s.copy(stdout, mode)
	if copyErr != nil {
		_ = cmd.Process.Kill() // the decoder stopped reading: nothing more is wanted
	}
	err = cmd.Wait()
	if copyErr != nil {
		return "", stderr.String(), copyErr
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String(), stderr.String(), nil
	}
	return "exit status 0", stderr.String(), err
}

// copy reads one session's stdout and writes its complete lines to out.
func (s *session) copy(stdout io.Reader, mode resumeMode) error {
	br := bufio.NewReaderSize(stdout, 64<<10)
	if s.header {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil // ended before saying anything: a failed session
		}
		if strings.TrimSpace(line) == "kaudit-remote kaudit" {
			mode = resumeSkip
			s.mode = resumeSkip
		}
	}
	var rd io.Reader = br
	if s.offset == 0 || s.gz {
		if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return nil
			}
			s.gz, mode, rd = true, resumeSkip, zr
		}
	}
	skip := int64(0)
	if mode == resumeSkip {
		skip = s.offset
	}
	return s.lines(rd, skip)
}

// lines writes rd's complete lines to out, after dropping its first skip
// bytes; a partial line at the end is dropped unless the stream ended
// cleanly in once mode (a last line without newline). A line longer than
// maxPending is passed on in pieces (the decoder reports it too long).
func (s *session) lines(rd io.Reader, skip int64) error {
	if skip > 0 {
		if n, _ := io.CopyN(io.Discard, rd, skip); n < skip {
			return nil
		}
	}
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := rd.Read(buf)
		pending = append(pending, buf[:n]...)
		cut := bytes.LastIndexByte(pending, '\n') + 1
		if cut == 0 && len(pending) > s.maxPending {
			cut = len(pending)
		}
		if err == io.EOF && s.once {
			cut = len(pending)
		}
		if cut > 0 {
			if werr := s.put(pending[:cut]); werr != nil {
				return werr
			}
			pending = append(pending[:0], pending[cut:]...)
		}
		if err != nil {
			return nil
		}
	}
}

// markByte starts a follow script's mark line: a control character that
// JSON text never holds raw.
const markByte = 0x1e

// put writes chunk's lines to out, less the mark lines, which it reads.
// A line cut short by a mark (the end of a file that was torn) is
// dropped: it can never be completed.
func (s *session) put(chunk []byte) error {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, markByte)
		end := -1
		if i >= 0 {
			end = bytes.IndexByte(chunk[i:], '\n')
		}
		if end < 0 {
			return s.write(chunk)
		}
		if err := s.write(chunk[:bytes.LastIndexByte(chunk[:i], '\n')+1]); err != nil {
			return err
		}
		s.mark(string(chunk[i+1 : i+end]))
		chunk = chunk[i+end+1:]
	}
	return nil
}

func (s *session) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := s.out.Write(b); err != nil {
		return err
	}
	s.offset += int64(len(b))
	if s.fileIno != "" {
		s.fileOff += int64(len(b))
	}
	return nil
}

// mark reads a mark line: "kaudit-file INODE OFFSET", the stream goes
// on with that file from that offset; "kaudit-lost INODE OFFSET", the
// file read last was rotated away and is gone (compressed or removed)
// while no session ran.
func (s *session) mark(line string) {
	var kind, ino string
	var off int64
	if n, _ := fmt.Sscan(line, &kind, &ino, &off); n != 3 {
		return
	}
	switch kind {
	case "kaudit-file":
		s.fileIno, s.fileOff = ino, off
	case "kaudit-lost":
		s.warn(fmt.Sprintf("%s: the log read last (inode %s) was rotated away and is gone (compressed or removed) while the session was down: its events after byte %d are lost", s.target.URL, ino, off))
	}
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
