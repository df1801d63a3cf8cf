package scene_test

import (
	"fmt"
	"image"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// wl_surface events.
const (
	surfaceEnter = 0
	surfaceLeave = 1
)

// TestSurfaceLeavesUnpluggedOutput puts a window fullscreen on a second
// output and unplugs that output: the client must get wl_surface.leave
// for it (its wl_output object stays alive until it releases it, and it
// must not believe the window is still shown there) and then
// wl_surface.enter for the output the window moved to.
func TestSurfaceLeavesUnpluggedOutput(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	h, g, reg := p.dial(t)
	second := p.addOutput(t, "HEADLESS-2", 640, 480)
	added := waitRegistry(t, h, reg, 0)
	bindGlobal := func(name uint32, iface string, version uint32) uint32 {
		return bind(h, reg, name, iface, version)
	}
	out1 := bindGlobal(g["wl_output"][0], "wl_output", 4)
	out2 := bindGlobal(added.Uint(0), "wl_output", 4)
	comp := bindGlobal(g["wl_compositor"][0], "wl_compositor", 5)
	shm := bindGlobal(g["wl_shm"][0], "wl_shm", 1)
	wm := bindGlobal(g["xdg_wm_base"][0], "xdg_wm_base", 5)
	surf, xs, top := h.NewID(), h.NewID(), h.NewID()
	h.Send(comp, 0, surf)
	h.Send(wm, 2, xs, surf)
	h.Send(xs, 1, top)
	h.Send(top, 11, out2) // set_fullscreen on the second output
	h.Send(surf, 6)
	serial := readUntil(t, h, xs, 0).Uint(0)
	h.Send(xs, 4, serial)
	const w, hgt = 640, 480
	fd, err := unix.MemfdCreate("window", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.Ftruncate(fd, w*hgt*4)
	pool, buf := h.NewID(), h.NewID()
	h.SendFDs([]int{fd}, shm, 0, pool, int32(w*hgt*4))
	h.Send(pool, 0, buf, int32(0), int32(w), int32(hgt), int32(w*4), uint32(1))
	h.Send(surf, 1, buf, int32(0), int32(0))
	h.Send(surf, 6)
	if e := readUntil(t, h, surf, surfaceEnter); e.Uint(0) != out2 {
		t.Fatalf("the window entered wl_output %d, want the second output's %d", e.Uint(0), out2)
	}

	p.comp.Post(func() { p.comp.RemoveOutput(second) })
	left := false
	for {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the window to enter the first output: %v (left the second: %v)", err, left)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object != surf {
			continue
		}
		if e.Opcode == surfaceLeave {
			if e.Uint(0) != out2 {
				t.Fatalf("the window left wl_output %d, want the unplugged %d", e.Uint(0), out2)
			}
			left = true
		}
		if e.Opcode == surfaceEnter {
			if e.Uint(0) != out1 {
				t.Fatalf("the window entered wl_output %d, want the first output's %d", e.Uint(0), out1)
			}
			break
		}
	}
	if !left {
		t.Fatal("the window moved to the first output without a wl_surface.leave for the unplugged one")
	}
}

// readUntil reads events until object's event opcode arrives.
func readUntil(t *testing.T, h *protocoltest.Client, object uint32, opcode uint16) protocoltest.Event {
	t.Helper()
	for {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for event %d on object %d: %v", opcode, object, err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == object && e.Opcode == opcode {
			return e
		}
	}
}

// TestUnplugClosesGap lays out three outputs and unplugs the first: the
// other two move left so the layout has no hole, and clients are told
// through wl_output.geometry, xdg_output.logical_position and
// wl_output.done.
func TestUnplugClosesGap(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	h, g, reg := p.dial(t)
	first := p.out
	var added []uint32
	for i, size := range []image.Point{{640, 480}, {200, 100}} {
		p.addOutput(t, fmt.Sprintf("HEADLESS-%d", i+2), size.X, size.Y)
		added = append(added, waitRegistry(t, h, reg, 0).Uint(0))
	}
	bindGlobal := func(name uint32, iface string, version uint32) uint32 {
		return bind(h, reg, name, iface, version)
	}
	out2 := bindGlobal(added[0], "wl_output", 4)
	out3 := bindGlobal(added[1], "wl_output", 4)
	xm := bindGlobal(g["zxdg_output_manager_v1"][0], "zxdg_output_manager_v1", 3)
	xo3 := h.NewID()
	h.Send(xm, 1, xo3, out3)
	if x := int32(readUntil(t, h, out2, 0).Uint(0)); x != 320 {
		t.Fatalf("second output at x=%d, want 320", x)
	}
	if x := int32(readUntil(t, h, xo3, 0).Uint(0)); x != 960 {
		t.Fatalf("third output's xdg_output at x=%d, want 960", x)
	}
	readUntil(t, h, out3, 2) // the initial done

	p.comp.Post(func() { p.comp.RemoveOutput(first) })
	want := map[string]int32{"wl_output 2": 0, "wl_output 3": 640, "xdg_output 3": 640}
	got := map[string]int32{}
	done := map[uint32]bool{}
	for len(got) < len(want) || !done[out2] || !done[out3] {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the new positions: %v (have %v, done %v)", err, got, done)
		}
		switch {
		case e.Object == 1 && e.Opcode == 0:
			t.Fatalf("protocol error: %s", e.String(2))
		case e.Object == out2 && e.Opcode == 0:
			got["wl_output 2"] = int32(e.Uint(0))
		case e.Object == out3 && e.Opcode == 0:
			got["wl_output 3"] = int32(e.Uint(0))
		case e.Object == xo3 && e.Opcode == 0:
			got["xdg_output 3"] = int32(e.Uint(0))
		case (e.Object == out2 || e.Object == out3) && e.Opcode == 2:
			if len(got) == 0 {
				t.Fatal("wl_output.done before any new position")
			}
			done[e.Object] = true
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s at x=%d after the unplug, want %d", k, got[k], v)
		}
	}
}
