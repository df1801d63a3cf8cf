// Package report prints the example clients' stdout lines. Tests and the
// lab parse those lines, so each one must reach the reader whole and at
// once, even when the process exits from another goroutine.
package report

import (
	"fmt"
	"io"
	"sync"
)

// Lines writes whole lines to an unbuffered writer, one at a time.
type Lines struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

// NewLines returns a Lines writing to w (normally os.Stdout).
func NewLines(w io.Writer) *Lines { return &Lines{w: w} }

// Printf writes one line; the newline is added here. Lines printed after
// Close are dropped so that nothing appears after the final line.
func (l *Lines) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	// One Write call per line: a pipe reader never sees half a line.
	fmt.Fprintf(l.w, format+"\n", args...)
}

// Close waits for a line being written and drops all later ones; call it
// right before os.Exit.
func (l *Lines) Close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
