package main

import (
	"bytes"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/examples/internal/fakewl"
)

// TestEventsFromFakeSeat checks the printed lines for a scripted sequence
// of seat events, keymap fd included: headless weston has no seat.
func TestEventsFromFakeSeat(t *testing.T) {
	dir := t.TempDir()
	s := fakewl.Listen(t, dir, "wl-fake")
	s.Seat = true
	s.Size = image.Pt(300, 200)
	s.OnMapped = func(s *fakewl.Server) {
		kb, p, tc, surf := s.KeyboardID, s.PointerID, s.TouchID, s.SurfaceID
		s.Send(kb, 1, s.Serial(), surf, fakewl.U32s(42))
		s.Send(kb, 4, s.Serial(), uint32(1), uint32(0), uint32(16), uint32(0))
		s.Send(kb, 3, s.Serial(), uint32(100), uint32(30), uint32(1))
		s.Send(kb, 3, s.Serial(), uint32(101), uint32(30), uint32(0))
		s.Send(p, 0, s.Serial(), surf, fakewl.Fixed(12.5), fakewl.Fixed(40))
		s.Send(p, 5)
		s.Send(p, 2, uint32(102), fakewl.Fixed(13.25), fakewl.Fixed(41))
		s.Send(p, 5)
		s.Send(p, 3, s.Serial(), uint32(103), uint32(272), uint32(1))
		s.Send(p, 5)
		s.Send(p, 6, uint32(0))
		s.Send(p, 4, uint32(104), uint32(0), fakewl.Fixed(10))
		s.Send(p, 8, uint32(0), int32(1))
		s.Send(p, 5)
		s.Send(tc, 0, s.Serial(), uint32(105), surf, int32(0), fakewl.Fixed(100), fakewl.Fixed(50.5))
		s.Send(tc, 3)
		s.Send(tc, 2, uint32(106), int32(0), fakewl.Fixed(101), fakewl.Fixed(51))
		s.Send(tc, 1, s.Serial(), uint32(107), int32(0))
		s.Send(tc, 3)
		s.Send(kb, 2, s.Serial(), surf)
		s.Send(s.Toplevel, 1) // close: input-echo exits 0
	}
	s.Start()

	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("WAYLAND_DISPLAY", "wl-fake")
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"--seconds", "20"}, &stdout, &stderr) }()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("input-echo did not finish")
	}
	s.Wait(10 * time.Second)
	if len(s.Errors) > 0 {
		t.Fatalf("fake compositor: %v", s.Errors)
	}

	want := []string{
		"seat name=seat0",
		"capabilities pointer=true keyboard=true touch=true",
		"keymap format=1 size=4096",
		"repeat-info rate=25 delay=600",
		"first-frame 300x200",
		"keyboard-enter keys=42",
		"modifiers depressed=1 latched=0 locked=16 group=0",
		"key code=30 state=pressed",
		"key code=30 state=released",
		"pointer-enter x=12.50 y=40.00",
		"frame",
		"pointer-motion x=13.25 y=41.00",
		"frame",
		"button code=272 state=pressed",
		"frame",
		"axis-source source=wheel",
		"axis axis=vertical value=10.00",
		"axis-discrete axis=vertical steps=1",
		"frame",
		"touch-down id=0 x=100.00 y=50.50",
		"touch-frame",
		"touch-motion id=0 x=101.00 y=51.00",
		"touch-up id=0",
		"touch-frame",
		"keyboard-leave",
		"closed",
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), stderr.String())
	}
}
