package report

import (
	"strings"
	"testing"
)

type countingWriter struct {
	strings.Builder
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Builder.Write(p)
}

func TestLinesWholeAndDroppedAfterClose(t *testing.T) {
	var w countingWriter
	l := NewLines(&w)
	l.Printf("first-frame %dx%d", 640, 480)
	l.Printf("key code=%d state=%s", 30, "pressed")
	l.Close()
	l.Printf("late")
	if got, want := w.String(), "first-frame 640x480\nkey code=30 state=pressed\n"; got != want {
		t.Fatalf("output = %q, want %q", got, want)
	}
	if w.writes != 2 {
		t.Fatalf("%d writes for 2 lines, want one write per line", w.writes)
	}
}
