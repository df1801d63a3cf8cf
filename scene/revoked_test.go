package scene

import (
	"bytes"
	"fmt"
	"image"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// TestPresentRevokedWaitsForTheSession: logind takes DRM master away
// before it tells vitrine that the session is paused, so a frame meets
// EACCES (present.ErrRevoked). That is no error: nothing is logged at
// ERROR, the damage is kept, no frame is tried again before the session
// is back, and the resume repaints it.
func TestPresentRevokedWaitsForTheSession(t *testing.T) {
	c, o, dev, logs := loggedScene(t)

	dev.refuse = fmt.Errorf("output PLANE-1: DRM_IOCTL_MODE_ATOMIC commit: permission denied (%w)", present.ErrRevoked)
	box := image.Rect(10, 10, 50, 40)
	o.damage.Add(box)
	c.repaintOutputs()
	if o.inFlight {
		t.Fatal("a refused frame is in flight")
	}
	if !slices.Equal(o.damage, []image.Rectangle{box}) {
		t.Fatalf("damage after the refused frame = %v, want %v kept", o.damage, box)
	}
	for range 3 {
		c.repaintOutputs()
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a frame refused while the session pauses was logged as an error:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "event=output.revoked"); n != 1 {
		t.Errorf("%d output.revoked lines, want 1 saying why frames wait:\n%s", n, logs.String())
	}

	// The session manager says so, and later gives the display back.
	c.SetActive(false)
	dev.refuse = nil
	c.SetActive(true)
	c.repaintOutputs()
	if len(dev.presented) != 1 {
		t.Fatalf("%d frames presented after the resume, want 1", len(dev.presented))
	}
	if got := dev.presented[0]; len(got) != 1 || !box.In(got[0]) {
		t.Errorf("frame after the resume repainted %v, want %v within it", got, box)
	}
}

// TestPresentFailureStillAnError: a refusal for another reason is still
// an error, and frames are tried again at the next event.
func TestPresentFailureStillAnError(t *testing.T) {
	c, o, dev, logs := loggedScene(t)
	dev.refuse = fmt.Errorf("output PLANE-1: no buffer")
	o.damage.Add(image.Rect(0, 0, 8, 8))
	c.repaintOutputs()
	if !strings.Contains(logs.String(), `level=ERROR msg="present failed"`) {
		t.Errorf("no error for a failed present:\n%s", logs.String())
	}
	dev.refuse = nil
	c.repaintOutputs()
	if len(dev.presented) != 1 {
		t.Errorf("%d frames after the failure went away, want 1 (retried)", len(dev.presented))
	}
}

// loggedScene is a compositor with one 320x240 planeOutput whose log
// the test reads.
func loggedScene(t *testing.T) (*Compositor, *output, *planeOutput, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	srv, err := protocol.NewServer(protocol.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := New(Config{Log: log, Server: srv})
	dev := newPlaneOutput(320, 240, false)
	c.AddOutput(dev)
	return c, c.outputs[0], dev, logs
}
