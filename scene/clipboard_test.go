package scene_test

import (
	"encoding/binary"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Opcodes of the clipboard protocols the raw clients here speak.
const (
	ddmCreateSource = 0
	ddmGetDevice    = 1

	srcOffer      = 0
	srcDestroy    = 1
	srcSetActions = 2

	srcEvTarget    = 0
	srcEvSend      = 1
	srcEvCancelled = 2
	srcEvDropped   = 3
	srcEvFinished  = 4
	srcEvAction    = 5

	devStartDrag    = 0
	devSetSelection = 1

	devEvDataOffer = 0
	devEvEnter     = 1
	devEvLeave     = 2
	devEvMotion    = 3
	devEvDrop      = 4
	devEvSelection = 5

	offerAccept     = 0
	offerReceive    = 1
	offerFinish     = 3
	offerSetActions = 4

	offerEvOffer  = 0
	offerEvAction = 2
)

// btnLeft (BTN_LEFT) is declared with the desktop tests' constants.

// clip is a raw client's wl_data_device and what it needs.
type clip struct {
	h              *protocoltest.Client
	reg            *registry
	seat, ddm, dev uint32
}

func newClip(t *testing.T, h *protocoltest.Client, reg *registry) *clip {
	t.Helper()
	c := &clip{h: h, reg: reg}
	c.seat = reg.bind(t, "wl_seat", 5)
	c.ddm = reg.bind(t, "wl_data_device_manager", 3)
	c.dev = h.NewID()
	must(t, h.Send(c.ddm, ddmGetDevice, c.dev, c.seat))
	return c
}

// source makes a wl_data_source offering mimes.
func (c *clip) source(t *testing.T, mimes ...string) uint32 {
	t.Helper()
	id := c.h.NewID()
	must(t, c.h.Send(c.ddm, ddmCreateSource, id))
	for _, m := range mimes {
		must(t, c.h.Send(id, srcOffer, m))
	}
	return id
}

// pointer binds wl_pointer.
func (c *clip) pointer(t *testing.T) uint32 {
	t.Helper()
	id := c.h.NewID()
	must(t, c.h.Send(c.seat, 0, id))
	return id
}

// syncEvents roundtrips and returns every event that came before the
// done, failing on a protocol error.
func syncEvents(t *testing.T, h *protocoltest.Client) []protocoltest.Event {
	t.Helper()
	id := h.NewID()
	must(t, h.Send(1, 0, id))
	var evs []protocoltest.Event
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := h.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for a roundtrip: %v", err)
		}
		switch {
		case e.Object == 1 && e.Opcode == 0:
			t.Fatalf("protocol error: object %d code %d: %s", e.Uint(0), e.Uint(1), e.String(2))
		case e.Object == id && e.Opcode == 0:
			return evs
		}
		evs = append(evs, e)
	}
}

// find returns the first event of obj with opcode.
func find(evs []protocoltest.Event, obj uint32, opcode uint16) (protocoltest.Event, bool) {
	for _, e := range evs {
		if e.Object == obj && e.Opcode == opcode {
			return e, true
		}
	}
	return protocoltest.Event{}, false
}

func mustFind(t *testing.T, evs []protocoltest.Event, obj uint32, opcode uint16, what string) protocoltest.Event {
	t.Helper()
	e, ok := find(evs, obj, opcode)
	if !ok {
		t.Fatalf("no %s event (object %d opcode %d) among %d events", what, obj, opcode, len(evs))
	}
	return e
}

// pointAt moves the pointer to (x, y) of the 64x64 rig output.
func (r *rig) pointAt(t *testing.T, x, y float64) {
	t.Helper()
	r.input(t, inputevent.PointerAbs{X: x / 64, Y: y / 64}, inputevent.Frame{})
}

// pipe2 makes a pipe the test closes at the end; *os.File makes a
// second Close harmless, where closing an fd number twice could close
// one the in-process compositor has opened since.
func pipe2(t *testing.T) (rd, wr *os.File) {
	t.Helper()
	rd, wr, err := os.Pipe()
	must(t, err)
	t.Cleanup(func() { rd.Close(); wr.Close() })
	return rd, wr
}

// readAll reads the pipe to EOF.
func readAll(t *testing.T, rd *os.File) string {
	t.Helper()
	rd.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("read pipe: %v (got %q)", err, b)
	}
	return string(b)
}

// TestDragAndDropBetweenTwoClients drags from a small window on top to
// the big window below with the rig's pointer: the icon follows the
// pointer on screen, the target gets enter/motion/drop with an offer of
// the source's type, the actions are negotiated, the data goes through
// a pipe from source to target, and finish reaches the source.
func TestDragAndDropBetweenTwoClients(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	target := newWindow(t, r.dial(t), 64)
	target.draw(t, 0x000080)
	tc := newClip(t, target.h, target.reg)
	sh := r.dial(t)
	sh.KeepFDs = true
	srcWin := newWindow(t, sh, 16)
	srcWin.draw(t, 0x008000)
	sc := newClip(t, sh, srcWin.reg)
	ptr := sc.pointer(t)
	syncEvents(t, target.h)

	// Press on the source window (centred: 24..40).
	r.pointAt(t, 32, 32)
	r.input(t, inputevent.Button{Code: btnLeft, Pressed: true}, inputevent.Frame{})
	evs := syncEvents(t, sh)
	press := mustFind(t, evs, ptr, 3, "wl_pointer.button")
	src := sc.source(t, "text/plain")
	must(t, sh.Send(src, srcSetActions, uint32(3))) // copy | move

	// The icon: an 8x8 red surface, 2 px right of and below the pointer.
	icon, pool, buf := sh.NewID(), sh.NewID(), sh.NewID()
	must(t, sh.Send(srcWin.compositor, 0, icon))
	mem, err := unix.MemfdCreate("icon", unix.MFD_CLOEXEC)
	must(t, err)
	defer unix.Close(mem)
	must(t, unix.Ftruncate(mem, 8*8*4))
	pix, err := unix.Mmap(mem, 0, 8*8*4, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	must(t, err)
	defer unix.Munmap(pix)
	for i := 0; i < len(pix); i += 4 {
		binary.LittleEndian.PutUint32(pix[i:], 0xffff0000)
	}
	must(t, sh.SendFDs([]int{mem}, srcWin.shm, 0, pool, int32(8*8*4)))
	must(t, sh.Send(pool, 0, buf, int32(0), int32(8), int32(8), int32(32), uint32(1)))
	must(t, sh.Send(sc.dev, devStartDrag, src, srcWin.surface, icon, press.Uint(0)))
	must(t, sh.Send(icon, 1, buf, int32(2), int32(2))) // attached 2 px off
	must(t, sh.Send(icon, 9, int32(0), int32(0), int32(8), int32(8)))
	must(t, sh.Send(icon, 6))
	evs = syncEvents(t, sh)
	mustFind(t, evs, ptr, 1, "wl_pointer.leave at the start of the drag")
	mustFind(t, evs, sc.dev, devEvEnter, "wl_data_device.enter on the origin")

	// Over the target window only.
	r.pointAt(t, 6, 6)
	evs = syncEvents(t, target.h)
	offerEv := mustFind(t, evs, tc.dev, devEvDataOffer, "wl_data_device.data_offer")
	offer := offerEv.Uint(0)
	if e := mustFind(t, evs, offer, offerEvOffer, "wl_data_offer.offer"); e.String(0) != "text/plain" {
		t.Fatalf("offered %q, want text/plain", e.String(0))
	}
	if e := mustFind(t, evs, offer, 1, "wl_data_offer.source_actions"); e.Uint(0) != 3 {
		t.Fatalf("source_actions %d, want 3", e.Uint(0))
	}
	enter := mustFind(t, evs, tc.dev, devEvEnter, "wl_data_device.enter")
	if enter.Uint(1) != target.surface || enter.Uint(4) != offer || enter.Uint(2) != 6<<8 || enter.Uint(3) != 6<<8 {
		t.Fatalf("enter names surface %d at (%d,%d)/256 with offer %d, want %d at 6,6 with %d", enter.Uint(1), enter.Uint(2), enter.Uint(3), enter.Uint(4), target.surface, offer)
	}
	mustFind(t, syncEvents(t, sh), sc.dev, devEvLeave, "wl_data_device.leave on the origin")

	// The icon is drawn where the pointer is, offset by (2, 2).
	r.waitPixel(t, 8, 8, 0xff0000, "under the drag icon")
	r.waitPixel(t, 7, 7, 0x000080, "beside the drag icon (the target)")

	r.pointAt(t, 8, 7)
	mustFind(t, syncEvents(t, target.h), tc.dev, devEvMotion, "wl_data_device.motion")

	must(t, target.h.Send(offer, offerAccept, enter.Uint(0), "text/plain"))
	must(t, target.h.Send(offer, offerSetActions, uint32(3), uint32(2))) // prefers move
	evs = syncEvents(t, target.h)
	if e := mustFind(t, evs, offer, offerEvAction, "wl_data_offer.action"); e.Uint(0) != 2 {
		t.Fatalf("offer action %d, want move (2)", e.Uint(0))
	}
	evs = syncEvents(t, sh)
	if e := mustFind(t, evs, src, srcEvTarget, "wl_data_source.target"); e.String(0) != "text/plain" {
		t.Fatalf("target %q, want text/plain", e.String(0))
	}
	if e := mustFind(t, evs, src, srcEvAction, "wl_data_source.action"); e.Uint(0) != 2 {
		t.Fatalf("source action %d, want move (2)", e.Uint(0))
	}

	r.input(t, inputevent.Button{Code: btnLeft, Pressed: false}, inputevent.Frame{})
	evs = syncEvents(t, target.h)
	mustFind(t, evs, tc.dev, devEvDrop, "wl_data_device.drop")
	mustFind(t, syncEvents(t, sh), src, srcEvDropped, "wl_data_source.dnd_drop_performed")

	rd, wr := pipe2(t)
	must(t, target.h.SendFDs([]int{int(wr.Fd())}, offer, offerReceive, "text/plain"))
	wr.Close()
	// The target's round trip first: a sync on the source's connection
	// alone can be answered in the loop iteration before the one that
	// reads the receive (CI saw it once).
	syncEvents(t, target.h)
	evs = syncEvents(t, sh)
	if e := mustFind(t, evs, src, srcEvSend, "wl_data_source.send"); e.String(0) != "text/plain" {
		t.Fatalf("send asks for %q, want text/plain", e.String(0))
	}
	fd, ok := sh.TakeFD()
	if !ok {
		t.Fatal("wl_data_source.send came without its fd")
	}
	unix.Write(fd, []byte("dragged text"))
	unix.Close(fd)
	if got := readAll(t, rd); got != "dragged text" {
		t.Fatalf("the target read %q, want %q", got, "dragged text")
	}
	must(t, target.h.Send(offer, offerFinish))
	syncEvents(t, target.h)
	mustFind(t, syncEvents(t, sh), src, srcEvFinished, "wl_data_source.dnd_finished")

	// The icon is gone with the drag.
	r.waitPixel(t, 10, 9, 0x000080, "where the icon was before the drop (the target)")
}

// waitPixel waits for the next frames to show xrgb at (x, y): damage is
// repainted at the output's next refresh, not at once.
func (r *rig) waitPixel(t *testing.T, x, y int, xrgb uint32, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		img := r.screenshot(t)
		got := binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff
		if got == xrgb {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pixel (%d,%d) %s is %06x, want %06x", x, y, what, got, xrgb)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
