package scene_test

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/render"
)

// TestWindowKeepsItsSizeWithoutOutputs: when the only output goes, a
// kiosk window is not told to pick a size of its own (configure 0x0,
// not fullscreen: a browser kiosk would leave fullscreen); it is
// configured again only when an output comes, with that output's size.
func TestWindowKeepsItsSizeWithoutOutputs(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	h, g, reg := p.dial(t)
	comp := bind(h, reg, g["wl_compositor"][0], "wl_compositor", 5)
	shm := bind(h, reg, g["wl_shm"][0], "wl_shm", 1)
	wm := bind(h, reg, g["xdg_wm_base"][0], "xdg_wm_base", 5)
	bind(h, reg, g["wl_output"][0], "wl_output", 4) // for enter and leave
	surf, xs, top := h.NewID(), h.NewID(), h.NewID()
	h.Send(comp, 0, surf)
	h.Send(wm, 2, xs, surf)
	h.Send(xs, 1, top)
	h.Send(surf, 6)
	if c := readUntil(t, h, top, 0); c.Uint(0) != 320 || c.Uint(1) != 240 {
		t.Fatalf("first configure %dx%d, want 320x240", c.Uint(0), c.Uint(1))
	}
	h.Send(xs, 4, readUntil(t, h, xs, 0).Uint(0))
	fd, err := unix.MemfdCreate("window", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.Ftruncate(fd, 320*240*4)
	pool, buf := h.NewID(), h.NewID()
	h.SendFDs([]int{fd}, shm, 0, pool, int32(320*240*4))
	h.Send(pool, 0, buf, int32(0), int32(320), int32(240), int32(320*4), uint32(1))
	h.Send(surf, 1, buf, int32(0), int32(0))
	h.Send(surf, 6)
	readUntil(t, h, surf, surfaceEnter)

	p.comp.Post(func() { p.comp.RemoveOutput(p.out) })
	readUntil(t, h, surf, surfaceLeave)
	sync := h.NewID()
	h.Send(1, 0, sync)
	for {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if e.Object == top && e.Opcode == 0 {
			t.Fatalf("configured %dx%d with no output left, want no configure", e.Uint(0), e.Uint(1))
		}
		if e.Object == sync {
			break
		}
	}
	p.addOutput(t, "HEADLESS-2", 640, 480)
	c := readUntil(t, h, top, 0)
	if c.Uint(0) != 640 || c.Uint(1) != 480 || c.Uint(2) == 0 {
		t.Fatalf("configure %dx%d with %d bytes of states on the new output, want 640x480 fullscreen", c.Uint(0), c.Uint(1), c.Uint(2))
	}
}
