package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// Requests and events of text-input v3 and input-method v2.
const (
	tiManagerGetTextInput = 1
	tiEnable              = 1
	tiDisable             = 2
	tiSetSurrounding      = 3
	tiSetContentType      = 5
	tiSetCursorRect       = 6
	tiCommit              = 7

	tiEventEnter        = 0
	tiEventLeave        = 1
	tiEventPreedit      = 2
	tiEventCommitString = 3
	tiEventDone         = 5

	imManagerGetInputMethod = 0
	imCommitString          = 0
	imSetPreedit            = 1
	imCommit                = 3
	imGetPopupSurface       = 4
	imGrabKeyboard          = 5

	imEventActivate    = 0
	imEventDeactivate  = 1
	imEventSurrounding = 2
	imEventContentType = 4
	imEventDone        = 5
	imEventUnavailable = 6
)

// textField is a window with a text input, as a toolkit makes one.
type textField struct {
	*window
	ti uint32
}

func newTextField(t *testing.T, r *rig) *textField {
	t.Helper()
	w := newWindow(t, r.dial(t), 32)
	w.draw(t, 0x808080)
	seat := w.reg.bind(t, "wl_seat", 5)
	mgr := w.reg.bind(t, "zwp_text_input_manager_v3", 1)
	tf := &textField{window: w, ti: w.h.NewID()}
	must(t, w.h.Send(mgr, tiManagerGetTextInput, tf.ti, seat))
	waitFor(t, w.h, "zwp_text_input_v3.enter", func(e protocoltest.Event) bool {
		return e.Object == tf.ti && e.Opcode == tiEventEnter && e.Uint(0) == w.surface
	})
	return tf
}

// enable enables the text input with a surrounding text and commits.
func (tf *textField) enable(t *testing.T) {
	h := tf.h
	must(t, h.Send(tf.ti, tiEnable))
	must(t, h.Send(tf.ti, tiSetSurrounding, "abc", int32(3), int32(3)))
	must(t, h.Send(tf.ti, tiSetContentType, uint32(0), uint32(5))) // purpose email
	must(t, h.Send(tf.ti, tiSetCursorRect, int32(4), int32(6), int32(1), int32(10)))
	must(t, h.Send(tf.ti, tiCommit))
}

// newInputMethod binds the input method of the seat on a new client.
func newInputMethod(t *testing.T, r *rig) (*protocoltest.Client, *registry, uint32) {
	t.Helper()
	h := r.dial(t)
	reg := getRegistry(t, h)
	seat := reg.bind(t, "wl_seat", 5)
	mgr := reg.bind(t, "zwp_input_method_manager_v2", 1)
	im := h.NewID()
	must(t, h.Send(mgr, imManagerGetInputMethod, seat, im))
	must(t, h.Roundtrip(3*time.Second))
	return h, reg, im
}

// The input method is activated when the focused text field is enabled,
// told what the field said, and what it commits reaches that field with
// the field's commit count; disabling deactivates it; a second input
// method is unavailable.
func TestTextInputReachesInputMethod(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	h, _, im := newInputMethod(t, r)
	tf := newTextField(t, r)
	tf.enable(t)
	var surrounding string
	var purpose uint32
	waitFor(t, h, "activate", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventActivate })
	waitFor(t, h, "done after activate", func(e protocoltest.Event) bool {
		switch {
		case e.Object == im && e.Opcode == imEventSurrounding:
			surrounding = e.String(0)
		case e.Object == im && e.Opcode == imEventContentType:
			purpose = e.Uint(1)
		}
		return e.Object == im && e.Opcode == imEventDone
	})
	if surrounding != "abc" || purpose != 5 {
		t.Fatalf("input method told surrounding %q purpose %d, want \"abc\" and 5", surrounding, purpose)
	}
	must(t, h.Send(im, imSetPreedit, "d", int32(1), int32(1)))
	must(t, h.Send(im, imCommitString, "héllo"))
	must(t, h.Send(im, imCommit, uint32(1)))
	var got, preedit string
	e := waitFor(t, tf.h, "zwp_text_input_v3.done", func(e protocoltest.Event) bool {
		switch {
		case e.Object == tf.ti && e.Opcode == tiEventCommitString:
			got = e.String(0)
		case e.Object == tf.ti && e.Opcode == tiEventPreedit:
			preedit = e.String(0)
		}
		return e.Object == tf.ti && e.Opcode == tiEventDone
	})
	if got != "héllo" || preedit != "d" || e.Uint(0) != 1 {
		t.Fatalf("text field got commit %q preedit %q done(%d), want \"héllo\", \"d\", done(1)", got, preedit, e.Uint(0))
	}

	// A second input method on the seat is unavailable.
	h2 := r.dial(t)
	reg2 := getRegistry(t, h2)
	im2 := h2.NewID()
	must(t, h2.Send(reg2.bind(t, "zwp_input_method_manager_v2", 1), imManagerGetInputMethod, reg2.bind(t, "wl_seat", 5), im2))
	waitFor(t, h2, "unavailable", func(e protocoltest.Event) bool { return e.Object == im2 && e.Opcode == imEventUnavailable })

	must(t, tf.h.Send(tf.ti, tiDisable))
	must(t, tf.h.Send(tf.ti, tiCommit))
	waitFor(t, h, "deactivate", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventDeactivate })
}

// Keyboard focus moving to another window leaves the text field and
// deactivates the input method; the text that the input method commits
// then goes nowhere.
func TestTextInputFollowsKeyboardFocus(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	h, _, im := newInputMethod(t, r)
	tf := newTextField(t, r)
	tf.enable(t)
	waitFor(t, h, "activate", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventActivate })
	other := newWindow(t, r.dial(t), 16)
	other.draw(t, 0xffffff)
	waitFor(t, tf.h, "zwp_text_input_v3.leave", func(e protocoltest.Event) bool {
		return e.Object == tf.ti && e.Opcode == tiEventLeave
	})
	waitFor(t, h, "deactivate", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventDeactivate })
	must(t, h.Send(im, imCommitString, "lost"))
	must(t, h.Send(im, imCommit, uint32(2)))
	must(t, h.Roundtrip(3*time.Second))
	// The text field must not see it: its next event is the enter when
	// the other window goes away.
	must(t, other.h.Send(other.top, 0))
	e := waitFor(t, tf.h, "zwp_text_input_v3.enter again", func(e protocoltest.Event) bool { return e.Object == tf.ti })
	if e.Opcode != tiEventEnter {
		t.Fatalf("text field got event %d while unfocused, want only enter (%d) once focused again", e.Opcode, tiEventEnter)
	}
}

// The input method's popup (a candidate window) is told where the text
// cursor is and shown just below it while the input method is active;
// disabling the field hides it.
func TestInputMethodPopupBelowCursor(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	h, reg, im := newInputMethod(t, r)
	comp, shm := reg.bind(t, "wl_compositor", 4), reg.bind(t, "wl_shm", 1)
	tf := newTextField(t, r)
	surf, popup := h.NewID(), h.NewID()
	must(t, h.Send(comp, 0, surf))
	must(t, h.Send(im, imGetPopupSurface, popup, surf))
	must(t, h.Send(surf, 1, shmBuffer(t, h, shm, 4, 4, 0xffff00), int32(0), int32(0)))
	must(t, h.Send(surf, 9, int32(0), int32(0), int32(4), int32(4)))
	must(t, h.Send(surf, 6))
	tf.enable(t) // cursor rectangle 4,6 1x10 in the field's surface
	e := waitFor(t, h, "text_input_rectangle", func(e protocoltest.Event) bool { return e.Object == popup && e.Opcode == 0 })
	if got := [4]int32{int32(e.Uint(0)), int32(e.Uint(1)), int32(e.Uint(2)), int32(e.Uint(3))}; got != [4]int32{4, 6, 1, 10} {
		t.Fatalf("popup told the text cursor is at %v, want [4 6 1 10]", got)
	}
	tf.draw(t, 0x808080)
	img := r.screenshot(t)
	// The field's window is 32x32 at 16,16: the cursor's bottom-left
	// corner is at 20,32.
	if got := pixel(img, 20, 32); got != 0xffff00 {
		t.Fatalf("(20,32)=%06x, want the popup's ffff00 below the text cursor", got)
	}
	if got := pixel(img, 20, 31); got != 0x808080 {
		t.Fatalf("(20,31)=%06x, want the field's 808080 above the popup", got)
	}
	must(t, tf.h.Send(tf.ti, tiDisable))
	must(t, tf.h.Send(tf.ti, tiCommit))
	waitFor(t, h, "deactivate", func(e protocoltest.Event) bool { return e.Object == im && e.Opcode == imEventDeactivate })
	tf.draw(t, 0x808080)
	if got := pixel(r.screenshot(t), 20, 32); got != 0x808080 {
		t.Fatalf("(20,32)=%06x after the field was disabled, want the field's 808080: the popup must hide", got)
	}
}
