package termsafe

import (
	"io"
	"sync"
)

// Lines is an io.Writer that passes every line written to it through
// Printable before it reaches w: a last line of defence for a stream of
// messages (kaudit's stderr), whichever code formatted them. Only '\n'
// stays a control character. A line is written once complete; Flush writes
// what is left. Goroutines: any (a mutex keeps lines whole).
type Lines struct {
	mu      sync.Mutex
	w       io.Writer
	partial []byte
}

// NewLines returns a Lines writing to w.
func NewLines(w io.Writer) *Lines { return &Lines{w: w} }

// Write writes the complete lines of p (with any partial line before it),
// escaped, and keeps the rest for the next Write or Flush.
func (l *Lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := indexNL(p)
		if i < 0 {
			l.partial = append(l.partial, p...)
			break
		}
		line := p[:i]
		if len(l.partial) > 0 {
			line = append(l.partial, line...)
			l.partial = l.partial[:0]
		}
		if _, err := io.WriteString(l.w, Printable(string(line))+"\n"); err != nil {
			return n - len(p), err
		}
		p = p[i+1:]
	}
	return n, nil
}

// Flush writes the partial line kept, escaped, without a newline.
func (l *Lines) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) == 0 {
		return nil
	}
	_, err := io.WriteString(l.w, Printable(string(l.partial)))
	l.partial = l.partial[:0]
	return err
}

func indexNL(p []byte) int {
	for i, c := range p {
		if c == '\n' {
			return i
		}
	}
	return -1
}
