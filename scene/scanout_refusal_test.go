package scene

import (
	"encoding/binary"
	"testing"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// refusingOutput's primary plane lists XRGB8888 and ARGB8888 (linear)
// but refuses every buffer, as bochs refuses foreign dma-bufs.
type refusingOutput struct {
	*planeOutput
	tries int
}

func (r *refusingOutput) DeviceID() uint64 { return 7 }
func (r *refusingOutput) ScanoutFormats() map[uint32][]uint64 {
	return map[uint32][]uint64{uint32(render.XRGB8888): {0}, uint32(render.ARGB8888): {0}}
}
func (r *refusingOutput) Forget(uint64)                      {}
func (r *refusingOutput) OverlayPlanes() []present.PlaneInfo { return nil }
func (r *refusingOutput) Commit(st present.State) error {
	if st.Scanout != nil {
		r.tries++
		return present.ErrScanoutRefused
	}
	return r.Present(st.Damage)
}

// trancheFormats names the formats of s's scanout tranche.
func trancheFormats(c *Compositor, s *surface) []render.Format {
	table := c.formatTable()
	_, idx := c.scanoutTranche(s, table)
	var out []render.Format
	for i := 0; i+1 < len(idx); i += 2 {
		out = append(out, render.Format(table[binary.LittleEndian.Uint16(idx[i:])].format))
	}
	return out
}

// TestScanoutRefusalIsForgottenWhenDisplaysChange: a refused format
// leaves the surface's scanout tranche, another format stays offered,
// and a hotplug or mode change offers the refused one again (the mark
// used to be set once and never cleared).
func TestScanoutRefusalIsForgottenWhenDisplaysChange(t *testing.T) {
	dev := &refusingOutput{planeOutput: newPlaneOutput(64, 48, false)}
	c, o, _ := cursorScene(t, dev, 0xff0000ff)
	c.in.cursorShown = false
	win := testSurface(c, memDMA(t, 1, 64, 48, render.XRGB8888, 0xff0000ff))
	win.role = &xdgSurface{toplevel: &toplevel{}}
	want := func(step string, formats ...render.Format) {
		t.Helper()
		got := trancheFormats(c, win)
		if len(got) != len(formats) {
			t.Fatalf("%s: scanout tranche %v, want %v", step, got, formats)
		}
		for i := range got {
			if got[i] != formats[i] {
				t.Fatalf("%s: scanout tranche %v, want %v", step, got, formats)
			}
		}
	}
	want("before any frame", render.ARGB8888, render.XRGB8888)
	if o.show([]drawItem{{s: win}}); o.stats.Scanout != 0 || dev.tries != 1 {
		t.Fatalf("refusing display: scanned out, or not tried (%d tries)", dev.tries)
	}
	want("after the refusal", render.ARGB8888)
	// A new buffer format is a new chance: ARGB8888 was never refused.
	win.buf = memDMA(t, 2, 64, 48, render.ARGB8888, 0xff0000ff)
	o.show([]drawItem{{s: win}})
	want("after both were refused")
	// A mode change (what outputResized does) and a hotplug forget it.
	c.outputResized(o)
	want("after a mode change", render.ARGB8888, render.XRGB8888)
	o.show([]drawItem{{s: win}})
	want("refused again", render.XRGB8888)
	second := newPlaneOutput(32, 32, false)
	c.AddOutput(second)
	want("after a hotplug", render.ARGB8888, render.XRGB8888)
	o.show([]drawItem{{s: win}})
	c.RemoveOutput(second)
	want("after an unplug", render.ARGB8888, render.XRGB8888)
}

// TestFeedbackMainDevice: the main device is what SetMainDevice chose,
// not a path guessed in the scene; without it, the display device.
func TestFeedbackMainDevice(t *testing.T) {
	dev := &refusingOutput{planeOutput: newPlaneOutput(64, 48, false)}
	c, _, _ := cursorScene(t, dev, 0xff0000ff)
	if got := c.mainDevice(); got != 7 {
		t.Fatalf("main device %d, want the display's 7", got)
	}
	c.SetMainDevice(0xe280)
	if got := c.mainDevice(); got != 0xe280 {
		t.Fatalf("main device %#x, want the chosen 0xe280", got)
	}
}
