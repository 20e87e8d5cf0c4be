package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kaudit/kaudit/termsafe"
)

// LockFile is the file in a state directory that one process holds locked
// (flock) while it uses the directory; it says which process that is.
const LockFile = "lock"

// errLocked is what tryLock returns when another process holds the lock.
var errLocked = errors.New("locked")

// StateDirBusyError: another process uses the state directory. Two
// processes sharing one would each write their own view of the positions.
type StateDirBusyError struct {
	Dir    string
	PID    int    // 0 when the holder did not say yet
	Holder string // its command line, as it wrote it
}

func (e *StateDirBusyError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "pid " + strconv.Itoa(e.PID)
		if e.Holder != "" {
			who += " (" + e.Holder + ")"
		}
	}
	return fmt.Sprintf("state dir %s is in use by %s; give each process its own --state-dir (or --no-state)", termsafe.Printable(e.Dir), who)
}

// lockStateDir creates dir if needed and takes its lock, without waiting:
// a *StateDirBusyError if another process holds it.
func lockStateDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := tryLock(f); err != nil {
		defer f.Close()
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		busy := &StateDirBusyError{Dir: dir}
		buf := make([]byte, 512)
		n, _ := f.ReadAt(buf, 0)
		parts := strings.SplitN(string(buf[:n]), "\n", 3)
		busy.PID, _ = strconv.Atoi(strings.TrimSpace(parts[0]))
		if len(parts) > 1 {
			busy.Holder = termsafe.Printable(strings.TrimSpace(parts[1]))
		}
		return nil, busy
	}
	// Say who holds it, for the next one's message and kaudit status.
	if err := f.Truncate(0); err == nil {
		writeLockRecord(f, Health{})
	}
	return f, nil
}

// lockRecordSize is the lock file's fixed size: rewriting it in place needs
// no new disk blocks, so it can say "saving fails" on a full disk.
const lockRecordSize = 1024

// writeLockRecord writes who holds the lock and how saving goes.
func writeLockRecord(f *os.File, h Health) {
	state := "ok"
	if h.Failing {
		state = fmt.Sprintf("failing %s %d %s", h.FailingSince.UTC().Format(time.RFC3339), h.Failures, strings.ReplaceAll(h.LastError, "\n", " "))
	}
	rec := strconv.Itoa(os.Getpid()) + "\n" + holderName() + "\n" + state + "\n"
	if len(rec) >= lockRecordSize {
		rec = rec[:lockRecordSize-2] + "\n"
	}
	rec += strings.Repeat(" ", lockRecordSize-1-len(rec)) + "\n"
	_, _ = f.WriteAt([]byte(rec), 0)
}

// StateDirInfo is what a state directory's lock file says.
type StateDirInfo struct {
	Held      bool   // a running process holds the lock
	PID       int    // the holder (or the last one)
	Holder    string // its command line
	Failing   bool   // it cannot save positions
	Since     time.Time
	Failures  int
	LastError string
}

// ReadStateDir reports who uses dir and whether saving positions fails
// there (for kaudit status). A dir without a lock file is not in use.
func ReadStateDir(dir string) (StateDirInfo, error) {
	var info StateDirInfo
	f, err := os.Open(filepath.Join(dir, LockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return info, err
	}
	defer f.Close()
	info.Held = errors.Is(tryLock(f), errLocked)
	buf := make([]byte, lockRecordSize)
	n, _ := f.ReadAt(buf, 0)
	parts := strings.SplitN(string(buf[:n]), "\n", 4)
	if len(parts) < 3 {
		if info.Held {
			// Its holder could not even write who it is: the dir is full
			// or read-only, so its positions cannot be saved either.
			info.Failing, info.LastError = true, "the process holding the state dir could not write its lock file (is the state dir full or read-only?)"
		}
		return info, nil
	}
	info.PID, _ = strconv.Atoi(parts[0])
	info.Holder = termsafe.Printable(parts[1])
	if rest, ok := strings.CutPrefix(parts[2], "failing "); ok && info.Held {
		f := strings.SplitN(rest, " ", 3)
		if len(f) == 3 {
			info.Failing = true
			info.Since, _ = time.Parse(time.RFC3339, f[0])
			info.Failures, _ = strconv.Atoi(f[1])
			info.LastError = termsafe.Printable(strings.TrimSpace(f[2]))
		}
	}
	return info, nil
}

// holderName is this process's command line, shortened: "kaudit watch …".
func holderName() string {
	args := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	s := strings.Join(args, " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ReplaceAll(s, "\n", " ")
}
