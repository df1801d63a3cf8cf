package protocoltest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A compositor that says nothing makes Read time out with an error, not
// a panic (a timed-out read reports n = -1).
func TestReadTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wl")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Read(20 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read from a silent peer: %v, want a deadline error", err)
	}
}
