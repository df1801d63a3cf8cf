package window_test

import (
	"bytes"
	"image"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/examples/internal/content"
	"github.com/vitrine-wm/vitrine/examples/internal/fakewl"
	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/shm"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// slowAllocator is shm.Allocator whose allocations after the first take
// a while: long enough for a caller that returned from Run to have
// closed the connection before the allocation registers its proxies.
type slowAllocator struct {
	shm.Allocator
	n int
}

func (a *slowAllocator) Allocate(w, h int) (*window.Buffer, error) {
	a.n++
	if a.n > 1 {
		time.Sleep(200 * time.Millisecond)
	}
	return a.Allocator.Allocate(w, h)
}

// TestRunReturnsAfterTheLastHandler is the race the lab's full-directory
// phase once hit (shm-client --frames 1 panicking after "first-frame"):
// a configure arrives with the first frame's callback, so the frame-done
// handler, which ends Run, still commits the configure's frame on the
// dispatch goroutine. Run must not return before that handler is done,
// or the caller closes the connection under it (the binding's Close
// empties its object map, and registering the new buffer's proxies then
// panics). Without the ordering this test dies in that panic.
func TestRunReturnsAfterTheLastHandler(t *testing.T) {
	for i := range 3 {
		dir := t.TempDir()
		s := fakewl.Listen(t, dir, "wl-fake")
		s.Size = image.Pt(64, 48)
		s.OnCommit = func(s *fakewl.Server, p *fakewl.Params) {
			if s.Commits == 1 {
				// Same size, new serial: the client must ack it with a
				// commit, i.e. draw once more.
				s.Configure(s.Size)
			}
		}
		s.Start()
		t.Setenv("XDG_RUNTIME_DIR", dir)
		var stdout, logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		conn, err := window.Connect("wl-fake", log)
		if err != nil {
			t.Fatal(err)
		}
		out := report.NewLines(&stdout)
		painter, _ := content.ByName("quadrants")
		alloc := &slowAllocator{Allocator: shm.Allocator{Shm: conn.Shm}}
		win, err := window.New(conn, alloc, painter, out, log, window.Options{Frames: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := win.Run(0); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		// What shm-client's main does when Run returns.
		out.Close()
		conn.Close()
		// A handler still running would now reach the closed connection.
		time.Sleep(400 * time.Millisecond)
		s.Wait(10 * time.Second)
		if got := stdout.String(); !strings.HasPrefix(got, "first-frame 64x48\n") {
			t.Fatalf("run %d: client printed %q", i, got)
		}
		// The configure's frame was committed before Run returned: the
		// compositor saw both commits.
		if s.Commits != 2 {
			t.Errorf("run %d: %d commits with a buffer, want 2 (the frame and the configure's); log:\n%s", i, s.Commits, logs.String())
		}
	}
}
