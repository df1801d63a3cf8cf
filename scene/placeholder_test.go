package scene_test

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// wl_output events and wl_registry.global_remove.
const (
	outputEvMode   = 1
	outputEvDone   = 2
	registryRemove = 1
)

// TestPlaceholderOutput unplugs the only output under a fullscreen
// kiosk window: the client must keep its wl_output (no global_remove, no
// wl_surface.leave, no configure), keep getting frame callbacks, and a
// client that connects meanwhile must still find one wl_output. When a
// display of another size comes, the same wl_output gets the new mode
// and the window a configure at that size; when one of the same size
// replaces it later, clients are told nothing at all.
func TestPlaceholderOutput(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	h, g, reg := p.dial(t)
	comp := bind(h, reg, g["wl_compositor"][0], "wl_compositor", 5)
	shm := bind(h, reg, g["wl_shm"][0], "wl_shm", 1)
	wm := bind(h, reg, g["xdg_wm_base"][0], "xdg_wm_base", 5)
	out := bind(h, reg, g["wl_output"][0], "wl_output", 4)
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
	const size = 640 * 480 * 4
	unix.Ftruncate(fd, size)
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	for i := 0; i < size; i += 4 {
		binary.LittleEndian.PutUint32(mem[i:], 0xffcc2200)
	}
	pool := h.NewID()
	h.SendFDs([]int{fd}, shm, 0, pool, int32(size))
	attach := func(w, hgt int) {
		buf := h.NewID()
		// ARGB8888 without an opaque region: composited into the
		// shadow (an opaque fullscreen buffer would be shown by
		// reference), so the shadow shows what the display would.
		h.Send(pool, 0, buf, int32(0), int32(w), int32(hgt), int32(w*4), uint32(0))
		h.Send(surf, 1, buf, int32(0), int32(0))
		h.Send(surf, 2, int32(0), int32(0), int32(w), int32(hgt))
	}
	attach(320, 240)
	h.Send(surf, 6)
	readUntil(t, h, surf, surfaceEnter)
	// Mapping may configure the window again (its states); settle.
	if err := h.Roundtrip(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	// frames asks for n frame callbacks, one commit at a time, and
	// fails on any event that says the output went or changed.
	frames := func(what string, n int) {
		t.Helper()
		for i := range n {
			cb := h.NewID()
			h.Send(surf, 3, cb)
			h.Send(surf, 2, int32(0), int32(0), int32(8), int32(8))
			h.Send(surf, 6)
			for {
				e, err := h.Read(5 * time.Second)
				if err != nil {
					t.Fatalf("%s: frame callback %d of %d: %v", what, i+1, n, err)
				}
				failOnOutputChange(t, what, e, reg, surf, top, out)
				if e.Object == cb {
					break
				}
			}
		}
	}
	frames("before the unplug", 2)

	p.comp.Post(func() { p.comp.RemoveOutput(p.out) })
	frames("after the only output went", 5)

	// A client that starts now (foot, Chromium) finds an output.
	h2, err := protocoltest.Dial(filepath.Join(p.runtime, p.display))
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	reg2, sync := h2.NewID(), h2.NewID()
	h2.Send(1, 1, reg2)
	h2.Send(1, 0, sync)
	var outputs []uint32
	for {
		e, err := h2.Read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if e.Object == reg2 && e.Opcode == 0 && e.String(1) == "wl_output" {
			outputs = append(outputs, e.Uint(0))
		}
		if e.Object == sync {
			break
		}
	}
	if len(outputs) != 1 {
		t.Fatalf("a client connecting with no display sees %d wl_output globals, want 1", len(outputs))
	}
	out2 := bind(h2, reg2, outputs[0], "wl_output", 4)
	if m := readUntil(t, h2, out2, outputEvMode); m.Uint(1) != 320 || m.Uint(2) != 240 {
		t.Fatalf("the placeholder's mode is %dx%d, want the last lit one, 320x240", m.Uint(1), m.Uint(2))
	}
	readUntil(t, h2, out2, outputEvDone)

	// A display of another size takes the placeholder's place.
	second := p.addOutput(t, "HEADLESS-2", 640, 480)
	var mode, configured bool
	for !mode || !configured {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("after a 640x480 display came: mode %v, configure %v: %v", mode, configured, err)
		}
		switch {
		case e.Object == reg && e.Opcode == registryRemove:
			t.Fatal("wl_registry.global_remove when a display came back: the client saw its output leave")
		case e.Object == reg && e.Opcode == 0:
			t.Fatalf("a new global %s when a display came back, want the same wl_output", e.String(1))
		case e.Object == surf && e.Opcode == surfaceLeave:
			t.Fatal("wl_surface.leave when a display came back")
		case e.Object == out && e.Opcode == outputEvMode:
			if e.Uint(1) != 640 || e.Uint(2) != 480 {
				t.Fatalf("the wl_output's new mode is %dx%d, want 640x480", e.Uint(1), e.Uint(2))
			}
			mode = true
		case e.Object == top && e.Opcode == 0:
			if e.Uint(0) != 640 || e.Uint(1) != 480 {
				t.Fatalf("configure %dx%d, want 640x480", e.Uint(0), e.Uint(1))
			}
			configured = true
		}
	}
	h.Send(xs, 4, readUntil(t, h, xs, 0).Uint(0))
	attach(640, 480)
	h.Send(surf, 6)
	frames("on the new display", 2)
	var px, corner uint32
	done := make(chan struct{})
	p.comp.Post(func() {
		defer close(done)
		s := second.Shadow()
		px, corner = s.PixelARGB(320, 240), s.PixelARGB(639, 479)
	})
	<-done
	if px&0xffffff != 0xcc2200 || corner&0xffffff != 0xcc2200 {
		t.Fatalf("the new display shows %06x in the middle and %06x in the corner, want the window's cc2200 everywhere", px&0xffffff, corner&0xffffff)
	}

	// Unplugged and replaced by one of the same size: nothing to tell.
	p.comp.Post(func() { p.comp.RemoveOutput(second) })
	frames("after the second display went", 2)
	p.addOutput(t, "HEADLESS-3", 640, 480)
	frames("after a same-size display came", 3)
}

// failOnOutputChange fails on the events that would tell a client its
// output went or changed.
func failOnOutputChange(t *testing.T, what string, e protocoltest.Event, reg, surf, top, out uint32) {
	t.Helper()
	switch {
	case e.Object == 1 && e.Opcode == 0:
		t.Fatalf("%s: protocol error: %s", what, e.String(2))
	case e.Object == reg:
		t.Fatalf("%s: wl_registry event %d: the client saw globals change", what, e.Opcode)
	case e.Object == surf && e.Opcode == surfaceLeave:
		t.Fatalf("%s: wl_surface.leave", what)
	case e.Object == top && e.Opcode == 0:
		t.Fatalf("%s: configure %dx%d", what, e.Uint(0), e.Uint(1))
	case e.Object == out:
		t.Fatalf("%s: wl_output event %d", what, e.Opcode)
	}
}
