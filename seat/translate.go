package seat

import (
	"sort"

	"github.com/vitrine-wm/vitrine/seat/evdev"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// touchIDs hands out seat-unique touch ids, since slots and tracking ids
// are only unique per device.
type touchIDs struct{ next int32 }

func (t *touchIDs) take() int32 {
	id := t.next
	t.next++
	if t.next < 0 {
		t.next = 0
	}
	return id
}

type slotState struct {
	active          bool
	id              int32
	x, y            int32
	down, up, moved bool
	wasActive       bool
}

// translator turns one device's raw evdev events into InputEvents, one
// SYN_REPORT at a time. It is pure state, fed by the device reader, so it
// is tested without devices.
type translator struct {
	path string
	caps evdev.Caps
	ids  *touchIDs
	// output and calibration are the device's mapping: the output its
	// positions are on ("" the first) and the matrix applied to them.
	output      string
	calibration inputevent.Calibration

	absX, absY   evdev.AbsInfo
	mtX, mtY     evdev.AbsInfo
	slots        []slotState
	slot         int
	dropping     bool
	hasHiResV    bool
	hasHiResH    bool
	pressedKeys  map[uint16]bool
	pressedBtns  map[uint16]bool
	dx, dy       float64
	absPending   bool
	curX, curY   int32
	wheel        [2]int32 // detents: vertical, horizontal
	wheel120     [2]int32
	pointerFrame []inputevent.Event
	out          []inputevent.Event
}

func newTranslator(path string, caps evdev.Caps, ids *touchIDs, absX, absY, mtX, mtY evdev.AbsInfo, slots, curSlot int) *translator {
	if slots < 1 {
		slots = 1
	}
	return &translator{
		path: path, caps: caps, ids: ids, calibration: inputevent.IdentityCalibration,
		absX: absX, absY: absY, mtX: mtX, mtY: mtY,
		slots:       make([]slotState, slots),
		slot:        curSlot,
		hasHiResV:   caps.Rel.Has(evdev.RelWheelHiRes),
		hasHiResH:   caps.Rel.Has(evdev.RelHWheelHiRes),
		pressedKeys: make(map[uint16]bool),
		pressedBtns: make(map[uint16]bool),
		curX:        absX.Value, curY: absY.Value,
	}
}

func isButton(code uint16) bool { return code >= evdev.BtnMisc && code <= evdev.BtnGearUp }

// feed consumes one raw event and returns the InputEvents completed by it
// (non-empty only at SYN_REPORT and for key events). The returned slice is
// reused by the next call.
func (t *translator) feed(e evdev.Event) []inputevent.Event {
	t.out = t.out[:0]
	h := inputevent.Header{Device: t.path, Time: e.Time}
	if t.dropping {
		// After SYN_DROPPED everything up to the next SYN_REPORT is a
		// partial state; drop it rather than guess.
		if e.Type == evdev.EvSyn && e.Code == evdev.SynReport {
			t.dropping = false
			t.resetPending()
		}
		return t.out
	}
	switch e.Type {
	case evdev.EvSyn:
		switch e.Code {
		case evdev.SynReport:
			t.flush(h)
		case evdev.SynDropped:
			t.dropping = true
		}
	case evdev.EvKey:
		t.key(h, e)
	case evdev.EvRel:
		t.rel(e)
	case evdev.EvAbs:
		t.abs(e)
	}
	return t.out
}

func (t *translator) key(h inputevent.Header, e evdev.Event) {
	if e.Value == 2 {
		return
	}
	pressed := e.Value != 0
	code := e.Code
	if !isButton(code) {
		if t.pressedKeys[code] == pressed {
			return
		}
		t.pressedKeys[code] = pressed
		if !pressed {
			delete(t.pressedKeys, code)
		}
		t.out = append(t.out, inputevent.Key{Header: h, Code: uint32(code), Pressed: pressed})
		return
	}
	if t.caps.Touch() {
		return // BTN_TOUCH / BTN_TOOL_* duplicate what the slots say
	}
	if t.caps.AbsolutePointer() && code == evdev.BtnTouch && !t.caps.Key.Has(evdev.BtnLeft) {
		code = evdev.BtnLeft // single-touch screen or pen used as a pointer
	}
	if code < evdev.BtnLeft || code > evdev.BtnTask {
		return
	}
	if t.pressedBtns[code] == pressed {
		return
	}
	t.pressedBtns[code] = pressed
	if !pressed {
		delete(t.pressedBtns, code)
	}
	t.pointerFrame = append(t.pointerFrame, inputevent.Button{Header: h, Code: uint32(code), Pressed: pressed})
}

func (t *translator) rel(e evdev.Event) {
	switch e.Code {
	case evdev.RelX:
		t.dx += float64(e.Value)
	case evdev.RelY:
		t.dy += float64(e.Value)
	case evdev.RelWheel:
		// Positive REL_WHEEL scrolls up; wl_pointer positive is down.
		t.wheel[0] -= e.Value
		if !t.hasHiResV {
			t.wheel120[0] -= e.Value * 120
		}
	case evdev.RelHWheel:
		t.wheel[1] += e.Value
		if !t.hasHiResH {
			t.wheel120[1] += e.Value * 120
		}
	case evdev.RelWheelHiRes:
		t.wheel120[0] -= e.Value
	case evdev.RelHWheelHiRes:
		t.wheel120[1] += e.Value
	}
}

func (t *translator) abs(e evdev.Event) {
	if t.caps.Touch() {
		switch e.Code {
		case evdev.AbsMTSlot:
			t.slot = int(e.Value)
			return
		}
		if t.slot < 0 || t.slot >= len(t.slots) {
			return
		}
		s := &t.slots[t.slot]
		switch e.Code {
		case evdev.AbsMTTrackingID:
			if e.Value < 0 {
				if s.active {
					s.up = true
				}
				s.active = false
			} else {
				if s.active && !s.up {
					// A new tracking id without a release in between:
					// the old point ended.
					s.up = true
				}
				s.active = true
				s.down = true
			}
		case evdev.AbsMTPositionX:
			s.x = e.Value
			s.moved = true
		case evdev.AbsMTPositionY:
			s.y = e.Value
			s.moved = true
		}
		return
	}
	switch e.Code {
	case evdev.AbsX:
		t.curX = e.Value
		t.absPending = true
	case evdev.AbsY:
		t.curY = e.Value
		t.absPending = true
	}
}

func (t *translator) resetPending() {
	t.dx, t.dy = 0, 0
	t.absPending = false
	t.wheel = [2]int32{}
	t.wheel120 = [2]int32{}
	t.pointerFrame = t.pointerFrame[:0]
	for i := range t.slots {
		s := &t.slots[i]
		s.down, s.up, s.moved = false, false, false
	}
}

func (t *translator) flush(h inputevent.Header) {
	var frame []inputevent.Event
	if t.dx != 0 || t.dy != 0 {
		frame = append(frame, inputevent.PointerMotion{Header: h, DX: t.dx, DY: t.dy})
	}
	if t.absPending {
		x, y := t.calibration.Apply(t.absX.Normalize(t.curX), t.absY.Normalize(t.curY))
		frame = append(frame, inputevent.PointerAbs{Header: h, X: x, Y: y, Output: t.output})
	}
	for o := range 2 {
		if t.wheel[o] != 0 || t.wheel120[o] != 0 {
			v120 := t.wheel120[o]
			frame = append(frame, inputevent.Axis{Header: h, Orientation: inputevent.AxisOrientation(o),
				Value: float64(v120) * inputevent.AxisStep / 120, Discrete: t.wheel[o], Value120: v120})
		}
	}
	frame = append(frame, t.pointerFrame...)
	if len(frame) > 0 {
		t.out = append(t.out, frame...)
		t.out = append(t.out, inputevent.Frame{Header: h})
	}
	if t.caps.Touch() {
		t.flushTouch(h)
	}
	t.resetPending()
}

func (t *translator) flushTouch(h inputevent.Header) {
	n := len(t.out)
	for i := range t.slots {
		s := &t.slots[i]
		slot := int32(i)
		if s.up && s.wasActive {
			t.out = append(t.out, inputevent.TouchUp{Header: h, ID: s.id, Slot: slot})
			s.wasActive = false
		}
		if s.active && s.down {
			s.id = t.ids.take()
			s.wasActive = true
			x, y := t.touchPosition(s)
			t.out = append(t.out, inputevent.TouchDown{Header: h, ID: s.id, Slot: slot, X: x, Y: y, Output: t.output})
		} else if s.active && s.moved && s.wasActive {
			x, y := t.touchPosition(s)
			t.out = append(t.out, inputevent.TouchMotion{Header: h, ID: s.id, Slot: slot, X: x, Y: y, Output: t.output})
		}
	}
	if len(t.out) > n {
		t.out = append(t.out, inputevent.TouchFrame{Header: h})
	}
}

// touchPosition is a slot's position, normalized and calibrated.
func (t *translator) touchPosition(s *slotState) (float64, float64) {
	return t.calibration.Apply(t.mtX.Normalize(s.x), t.mtY.Normalize(s.y))
}

// releaseAll returns releases for every key, button and touch point still
// held, so a consumer's state (modifiers, grabs) is consistent when the
// device goes away.
func (t *translator) releaseAll(h inputevent.Header) []inputevent.Event {
	var out []inputevent.Event
	keys := make([]int, 0, len(t.pressedKeys))
	for k := range t.pressedKeys {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	for _, k := range keys {
		out = append(out, inputevent.Key{Header: h, Code: uint32(k), Pressed: false})
	}
	btns := make([]int, 0, len(t.pressedBtns))
	for b := range t.pressedBtns {
		btns = append(btns, int(b))
	}
	sort.Ints(btns)
	for _, b := range btns {
		out = append(out, inputevent.Button{Header: h, Code: uint32(b), Pressed: false})
	}
	if len(btns) > 0 {
		out = append(out, inputevent.Frame{Header: h})
	}
	touched := false
	for i := range t.slots {
		if t.slots[i].wasActive {
			out = append(out, inputevent.TouchUp{Header: h, ID: t.slots[i].id, Slot: int32(i)})
			t.slots[i] = slotState{}
			touched = true
		}
	}
	if touched {
		out = append(out, inputevent.TouchFrame{Header: h})
	}
	clear(t.pressedKeys)
	clear(t.pressedBtns)
	return out
}
