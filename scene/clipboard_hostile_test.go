package scene_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Hostile clients of the clipboard and drag-and-drop protocols, in the
// suite's form (runHostile). The hostile client's own window, when it
// maps one, is on top and has keyboard focus.

// focusedClip maps a window for h (so h has keyboard focus) and gets a
// data device.
func focusedClip(t *testing.T, hs *hostileRig, h *protocoltest.Client) (*window, *clip) {
	t.Helper()
	w := hs.window(t, h)
	w.draw(t, 0x804020) // mapped: on top, with focus
	return w, newClip(t, h, w.reg)
}

// ownSelection sets a text/plain source as the selection and returns it
// with the offer the client's own device got for it.
func ownSelection(t *testing.T, c *clip) (src, offer uint32) {
	t.Helper()
	src = c.source(t, "text/plain")
	must(t, c.h.Send(c.dev, devSetSelection, src, uint32(0)))
	// The last selection event: a device made with focus first hears
	// of the selection there was (none).
	var sel protocoltest.Event
	for _, e := range syncEvents(t, c.h) {
		if e.Object == c.dev && e.Opcode == devEvSelection {
			sel = e
		}
	}
	if sel.Args == nil || sel.Uint(0) == 0 {
		t.Fatal("the focused client's own selection was not offered to it")
	}
	return src, sel.Uint(0)
}

func TestHostileSelectionSourceUsedTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "was already used"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		src, _ := ownSelection(t, c)
		must(t, h.Send(c.dev, devSetSelection, src, uint32(0)))
		return c.dev
	})
}

func TestHostileDragSourceAsSelection(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.DataSourceErrorInvalidSource, msg: "cannot be the selection"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		src := c.source(t, "text/plain")
		must(t, h.Send(src, srcSetActions, uint32(1)))
		must(t, h.Send(c.dev, devSetSelection, src, uint32(0)))
		return src
	})
}

// checkCancelled checks src got wl_data_source.cancelled.
func checkCancelled(t *testing.T, h *protocoltest.Client, src uint32, why string) {
	t.Helper()
	if _, ok := find(syncEvents(t, h), src, srcEvCancelled); !ok {
		t.Fatalf("a source refused as the selection (%s) was not cancelled", why)
	}
}

func TestHostileSetSelectionWithoutFocus(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		// No window: the bystander has keyboard focus.
		reg := getRegistry(t, h)
		c := newClip(t, h, reg)
		src := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devSetSelection, src, uint32(0)))
		checkCancelled(t, h, src, "no keyboard focus")
		// A clipboard tool sees no selection.
		dcm := reg.bind(t, "zwlr_data_control_manager_v1", 2)
		dcd := h.NewID()
		must(t, h.Send(dcm, 1, dcd, c.seat))
		if e := mustFind(t, syncEvents(t, h), dcd, 1, "zwlr_data_control_device_v1.selection"); e.Uint(0) != 0 {
			t.Fatal("a client without keyboard focus set the selection")
		}
		return 0
	})
}

func TestHostileSetSelectionWithAFutureSerial(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		src := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devSetSelection, src, uint32(1<<30)))
		checkCancelled(t, h, src, "a serial never sent")
		return 0
	})
}

func TestHostileSetSelectionWithAnOlderSerial(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		var serial uint32
		hs.onLoop(t, func() { serial = hs.srv.Serial() })
		if serial < 2 {
			t.Fatalf("the compositor has sent %d serials; the case needs two", serial)
		}
		first := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devSetSelection, first, serial))
		older := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devSetSelection, older, serial-1))
		evs := syncEvents(t, h)
		if _, ok := find(evs, older, srcEvCancelled); !ok {
			t.Fatal("a selection with an older serial than the current one was not refused")
		}
		if _, ok := find(evs, first, srcEvCancelled); ok {
			t.Fatal("a selection with an older serial replaced the current one")
		}
		return 0
	})
}

func TestHostileReceiveOnADestroyedSourcesOffer(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		src, offer := ownSelection(t, c)
		must(t, h.Send(src, srcDestroy))
		if e := mustFind(t, syncEvents(t, h), c.dev, devEvSelection, "wl_data_device.selection"); e.Uint(0) != 0 {
			t.Fatal("the selection of a destroyed source is still offered")
		}
		rd, wr := pipe2(t)
		must(t, h.SendFDs([]int{int(wr.Fd())}, offer, offerReceive, "text/plain"))
		must(t, h.Roundtrip(3*time.Second))
		wr.Close()
		// EOF: no copy of the write end is left open anywhere.
		if got := readAll(t, rd); got != "" {
			t.Fatalf("a stale offer read %q", got)
		}
		rd.Close()
		return 0
	})
}

func TestHostileReceiveOnAReplacedOffer(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		first, offer := ownSelection(t, c)
		ownSelection(t, c)
		rd, wr := pipe2(t)
		must(t, h.SendFDs([]int{int(wr.Fd())}, offer, offerReceive, "text/plain"))
		if _, ok := find(syncEvents(t, h), first, srcEvSend); ok {
			t.Fatal("a replaced source was asked to send through its old offer")
		}
		rd.Close()
		wr.Close()
		return 0
	})
}

func TestHostileReceiveWithAReadOnlyFD(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		src, offer := ownSelection(t, c)
		rd, wr := pipe2(t)
		must(t, h.SendFDs([]int{int(rd.Fd())}, offer, offerReceive, "text/plain"))
		if _, ok := find(syncEvents(t, h), src, srcEvSend); ok {
			t.Fatal("the source was handed the read end of a pipe to write into")
		}
		rd.Close()
		wr.Close()
		return 0
	})
}

func TestHostileReceiveWithoutAnFD(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidMethod, msg: "file descriptor expected"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		_, offer := ownSelection(t, c)
		must(t, h.Send(offer, offerReceive, "text/plain"))
		return offer
	})
}

func TestHostileFinishOnASelectionOffer(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.DataOfferErrorInvalidOffer, msg: "finish on a selection offer"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, c := focusedClip(t, hs, h)
		_, offer := ownSelection(t, c)
		must(t, h.Send(offer, offerFinish))
		return offer
	})
}

func TestHostileTooManyMIMETypes(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrNoMemory, msg: "too many MIME types"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		c := newClip(t, h, getRegistry(t, h))
		src := c.source(t)
		var batch []byte
		for i := range 10000 {
			batch = append(batch, protocoltest.Message(src, srcOffer, fmt.Sprintf("application/x-%d", i))...)
		}
		h.Write(batch) // may be cut off part way: see the reaction
		return src
	})
}

func TestHostileDataSourceInvalidActions(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.DataSourceErrorInvalidActionMask, msg: "invalid drag-and-drop actions"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		c := newClip(t, h, getRegistry(t, h))
		src := c.source(t, "text/plain")
		must(t, h.Send(src, srcSetActions, uint32(0x10)))
		return src
	})
}

func TestHostileDataSourceActionsTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.DataSourceErrorInvalidActionMask, msg: "only once"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		c := newClip(t, h, getRegistry(t, h))
		src := c.source(t, "text/plain")
		must(t, h.Send(src, srcSetActions, uint32(1)))
		must(t, h.Send(src, srcSetActions, uint32(2)))
		return src
	})
}

func TestHostileStartDragWithoutAPress(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w, c := focusedClip(t, hs, h)
		src := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devStartDrag, src, w.surface, uint32(0), uint32(1234)))
		checkCancelled(t, h, src, "a drag with no button pressed")
		return 0
	})
}

func TestHostileDragIconWithAnotherRole(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.DataDeviceErrorRole, msg: "already has role xdg_surface"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w, c := focusedClip(t, hs, h)
		src := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devStartDrag, src, w.surface, w.surface, uint32(0)))
		return c.dev
	})
}

func TestHostileStartDragWithAnotherClientsSource(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "invalid object"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		by := newClip(t, hs.bystander.h, hs.bystander.reg)
		theirs := by.source(t, "text/plain")
		syncEvents(t, hs.bystander.h)
		c := newClip(t, h, getRegistry(t, h))
		surf := h.NewID()
		must(t, h.Send(c.reg.bind(t, "wl_compositor", 4), 0, surf))
		if theirs < h.NextID {
			t.Fatalf("the bystander's source id %d is also one of the hostile client's", theirs)
		}
		// Ids are per client: the bystander's source is nothing here.
		must(t, h.Send(c.dev, devStartDrag, theirs, surf, uint32(0), uint32(0)))
		return 1
	})
}

// pressOn binds a pointer, presses the left button at the centre of
// the output (on the hostile window) and returns the pointer and the
// press's serial.
func pressOn(t *testing.T, hs *hostileRig, c *clip) (ptr, serial uint32) {
	t.Helper()
	ptr = c.pointer(t)
	syncEvents(t, c.h)
	hs.pointAt(t, 32, 32)
	hs.input(t, inputevent.Button{Code: btnLeft, Pressed: true}, inputevent.Frame{})
	t.Cleanup(func() { hs.input(t, inputevent.Button{Code: btnLeft, Pressed: false}, inputevent.Frame{}) })
	press := mustFind(t, syncEvents(t, c.h), ptr, 3, "wl_pointer.button")
	return ptr, press.Uint(0)
}

func TestHostileDragSourceDestroyedMidDrag(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w, c := focusedClip(t, hs, h)
		ptr, serial := pressOn(t, hs, c)
		src := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devStartDrag, src, w.surface, uint32(0), serial))
		mustFind(t, syncEvents(t, h), c.dev, devEvEnter, "wl_data_device.enter")
		must(t, h.Send(src, srcDestroy))
		evs := syncEvents(t, h)
		mustFind(t, evs, c.dev, devEvLeave, "wl_data_device.leave when the source went")
		// The pointer is the client's again.
		mustFind(t, evs, ptr, 0, "wl_pointer.enter after the drag")
		return 0
	})
}

// dragOntoItself starts a drag of a text/plain source from h's window,
// which is also the first target, and returns the offer it got.
func dragOntoItself(t *testing.T, hs *hostileRig, h *protocoltest.Client) (src, offer uint32) {
	t.Helper()
	w, c := focusedClip(t, hs, h)
	_, serial := pressOn(t, hs, c)
	src = c.source(t, "text/plain")
	must(t, h.Send(src, srcSetActions, uint32(1)))
	must(t, h.Send(c.dev, devStartDrag, src, w.surface, uint32(0), serial))
	offer = mustFind(t, syncEvents(t, h), c.dev, devEvDataOffer, "wl_data_device.data_offer").Uint(0)
	return src, offer
}

func TestHostileDragOfferFinishedBeforeTheDrop(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.DataOfferErrorInvalidFinish, msg: "finish before the drop"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, offer := dragOntoItself(t, hs, h)
		must(t, h.Send(offer, offerAccept, uint32(0), "text/plain"))
		must(t, h.Send(offer, offerFinish))
		return offer
	})
}

func TestHostileDragOfferPrefersAnActionItDoesNotAllow(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.DataOfferErrorInvalidAction, msg: "is not one of"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		_, offer := dragOntoItself(t, hs, h)
		must(t, h.Send(offer, offerSetActions, uint32(1), uint32(2)))
		return offer
	})
}

func TestHostileDragDroppedWithoutAcceptIsCancelled(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		src, offer := dragOntoItself(t, hs, h)
		hs.input(t, inputevent.Button{Code: btnLeft, Pressed: false}, inputevent.Frame{})
		evs := syncEvents(t, h)
		if _, ok := find(evs, src, srcEvCancelled); !ok {
			t.Fatal("a drop no target accepted did not cancel the source")
		}
		// The offer is dead: reading it gives nothing, finishing it is
		// an error the next case would see.
		rd, wr := pipe2(t)
		must(t, h.SendFDs([]int{int(wr.Fd())}, offer, offerReceive, "text/plain"))
		if _, ok := find(syncEvents(t, h), src, srcEvSend); ok {
			t.Fatal("a cancelled drag's source was asked for its data")
		}
		rd.Close()
		wr.Close()
		return 0
	})
}

func TestHostileDiesMidDrag(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{logged: "client closed the connection"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w, c := focusedClip(t, hs, h)
		_, serial := pressOn(t, hs, c)
		src := c.source(t, "text/plain")
		must(t, h.Send(c.dev, devStartDrag, src, w.surface, uint32(0), serial))
		syncEvents(t, h)
		h.Close()
		return 0
	})
}

// dataControl binds the data control manager and gets a device.
func dataControl(t *testing.T, h *protocoltest.Client) (mgr, dev uint32) {
	t.Helper()
	reg := getRegistry(t, h)
	seat := reg.bind(t, "wl_seat", 5)
	mgr = reg.bind(t, "zwlr_data_control_manager_v1", 2)
	dev = h.NewID()
	must(t, h.Send(mgr, 1, dev, seat))
	return mgr, dev
}

func TestHostileDataControlSourceUsedTwice(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "was already used"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		mgr, dev := dataControl(t, h)
		src := h.NewID()
		must(t, h.Send(mgr, 0, src))
		must(t, h.Send(src, 0, "text/plain"))
		must(t, h.Send(dev, 0, src))
		must(t, h.Send(dev, 2, src)) // as the primary selection too
		return dev
	})
}

func TestHostileDataControlOfferAfterSet(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "offer after the source was set"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		mgr, dev := dataControl(t, h)
		src := h.NewID()
		must(t, h.Send(mgr, 0, src))
		must(t, h.Send(dev, 0, src))
		must(t, h.Send(src, 0, "text/plain"))
		return src
	})
}

func TestHostileDataControlSourceGoneWhileOffered(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		mgr, dev := dataControl(t, h)
		src := h.NewID()
		must(t, h.Send(mgr, 0, src))
		must(t, h.Send(src, 0, "text/plain"))
		must(t, h.Send(dev, 0, src))
		var offer uint32
		for _, e := range syncEvents(t, h) {
			if e.Object == dev && e.Opcode == 1 && e.Uint(0) != 0 {
				offer = e.Uint(0)
			}
		}
		if offer == 0 {
			t.Fatal("the data control device was not offered its own selection")
		}
		must(t, h.Send(src, 1))
		rd, wr := pipe2(t)
		must(t, h.SendFDs([]int{int(wr.Fd())}, offer, 0, "text/plain"))
		must(t, h.Roundtrip(3*time.Second))
		wr.Close()
		if got := readAll(t, rd); got != "" {
			t.Fatalf("a destroyed source's offer read %q", got)
		}
		rd.Close()
		return 0
	})
}
