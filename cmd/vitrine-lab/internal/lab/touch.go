package lab

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The lab's touchscreen: QEMU 7.2 has no multi-touch device (virtio-
// multitouch came with 8.0), so the guest makes one with /dev/uinput.
// Its axes run 0..TouchMax on both X and Y; a compositor maps that range
// onto the whole panel.
const (
	TouchMax   = 4095
	touchSlots = 10
	// touchName is the uinput device's name, which vitrine logs when it
	// adds the device.
	touchName = "vitrine-lab touchscreen"
)

// touchAction is one contact change in a touch script.
type touchAction struct {
	op     string // down, move, up
	finger int
	x, y   int32
}

// touchStep is one line of a touch script: actions reported together in
// one evdev frame, a pause, or a wait.
type touchStep struct {
	actions  []touchAction
	pause    time.Duration
	waitOpen string        // wait until a process of this name has the device open
	waitUsr1 bool          // wait for SIGUSR1
	hold     bool          // keep the device until a signal
	limit    time.Duration // for waitOpen, waitUsr1 and hold
}

// parseTouchScript reads a touch script, one step a line ('#' starts a
// comment):
//
//	down FINGER X Y        a finger touches at X,Y (0..TouchMax)
//	move FINGER X Y        it moves
//	up FINGER              it lifts
//	A; B; ...              several of the above in one frame (two fingers at once)
//	sleep MS
//	wait-open NAME [MS]    wait (10 s by default) until a process named NAME
//	                       has the touchscreen open, so no event is written
//	                       before the compositor reads the device
//	wait-signal [MS]       wait (10 s by default) for SIGUSR1: the caller says
//	                       when to go on (say once the client has its
//	                       wl_touch; touches before that are lost to it)
//	hold [MS]              keep the device until SIGTERM/SIGINT (30 s by
//	                       default): destroying it drops events its readers
//	                       have not read yet
//
// FINGER is the script's own name for a contact (a small integer); each
// down gets the lowest free slot and a fresh tracking id.
func parseTouchScript(script string) ([]touchStep, error) {
	var steps []touchStep
	sc := bufio.NewScanner(strings.NewReader(script))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		step, err := parseTouchLine(line)
		if err != nil {
			return nil, fmt.Errorf("touch script line %d %q: %w", n, strings.TrimSpace(line), err)
		}
		steps = append(steps, step)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("touch script: %w", err)
	}
	return steps, nil
}

func parseTouchLine(line string) (touchStep, error) {
	f := strings.Fields(line)
	millis := func(s string) (time.Duration, error) {
		ms, err := strconv.Atoi(s)
		if err != nil || ms < 0 {
			return 0, fmt.Errorf("want milliseconds, got %q", s)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	switch f[0] {
	case "sleep":
		if len(f) != 2 {
			return touchStep{}, errors.New("usage: sleep MS")
		}
		d, err := millis(f[1])
		return touchStep{pause: d}, err
	case "wait-open":
		if len(f) < 2 || len(f) > 3 {
			return touchStep{}, errors.New("usage: wait-open NAME [MS]")
		}
		s := touchStep{waitOpen: f[1], limit: 10 * time.Second}
		if len(f) == 3 {
			d, err := millis(f[2])
			if err != nil {
				return touchStep{}, err
			}
			s.limit = d
		}
		return s, nil
	case "hold", "wait-signal":
		if len(f) > 2 {
			return touchStep{}, fmt.Errorf("usage: %s [MS]", f[0])
		}
		s := touchStep{hold: true, limit: 30 * time.Second}
		if f[0] == "wait-signal" {
			s = touchStep{waitUsr1: true, limit: 10 * time.Second}
		}
		if len(f) == 2 {
			d, err := millis(f[1])
			if err != nil {
				return touchStep{}, err
			}
			s.limit = d
		}
		return s, nil
	}
	var step touchStep
	for _, part := range strings.Split(line, ";") {
		a, err := parseTouchAction(strings.Fields(part))
		if err != nil {
			return touchStep{}, err
		}
		if slices.ContainsFunc(step.actions, func(b touchAction) bool { return b.finger == a.finger }) {
			return touchStep{}, fmt.Errorf("finger %d twice in one frame", a.finger)
		}
		step.actions = append(step.actions, a)
	}
	return step, nil
}

func parseTouchAction(f []string) (touchAction, error) {
	if len(f) == 0 {
		return touchAction{}, errors.New("empty action (a stray ';'?)")
	}
	var want int
	switch f[0] {
	case "down", "move":
		want = 4
	case "up":
		want = 2
	default:
		return touchAction{}, fmt.Errorf("unknown command %q (down, move, up, sleep, wait-open, wait-signal, hold)", f[0])
	}
	if len(f) != want {
		if want == 4 {
			return touchAction{}, fmt.Errorf("usage: %s FINGER X Y", f[0])
		}
		return touchAction{}, errors.New("usage: up FINGER")
	}
	a := touchAction{op: f[0]}
	finger, err := strconv.Atoi(f[1])
	if err != nil || finger < 0 {
		return touchAction{}, fmt.Errorf("finger %q: want a number from 0", f[1])
	}
	a.finger = finger
	if want == 4 {
		for i, p := range []*int32{&a.x, &a.y} {
			v, err := strconv.Atoi(f[2+i])
			if err != nil || v < 0 || v > TouchMax {
				return touchAction{}, fmt.Errorf("coordinate %q: want 0..%d", f[2+i], TouchMax)
			}
			*p = int32(v)
		}
	}
	return a, nil
}

// Linux input event codes (include/uapi/linux/input-event-codes.h).
const (
	evSyn            = 0x00
	synReport        = 0x00
	btnTouch         = 0x14a
	absMTSlot        = 0x2f
	absMTPositionX   = 0x35
	absMTPositionY   = 0x36
	absMTTrackingID  = 0x39
	inputPropDirect  = 0x01
	busVirtual       = 0x06
	touchTrackingMax = 0xffff
)

// touchEncoder turns touch script frames into multi-touch protocol B
// events, with the single-touch BTN_TOUCH and ABS_X/ABS_Y a real
// touchscreen also reports (for the oldest contact). It is pure state so
// the protocol it speaks is tested without a kernel.
type touchEncoder struct {
	slotFinger [touchSlots]int // finger in each slot; -1 free
	fingerSlot map[int]int
	order      []int // active fingers, oldest first
	pos        map[int][2]int32
	slot       int
	tracking   int32
	touching   bool
}

func newTouchEncoder() *touchEncoder {
	e := &touchEncoder{fingerSlot: map[int]int{}, pos: map[int][2]int32{}, slot: -1}
	for i := range e.slotFinger {
		e.slotFinger[i] = -1
	}
	return e
}

// frame returns the events of one frame, ending in SYN_REPORT.
func (e *touchEncoder) frame(actions []touchAction) ([]inputEvent, error) {
	var out []inputEvent
	emit := func(typ, code uint16, v int32) { out = append(out, inputEvent{typ, code, v}) }
	selectSlot := func(s int) {
		if s != e.slot {
			emit(evAbs, absMTSlot, int32(s))
			e.slot = s
		}
	}
	for _, a := range actions {
		slot, active := e.fingerSlot[a.finger]
		switch a.op {
		case "down":
			if active {
				return nil, fmt.Errorf("down %d: finger %d is already down", a.finger, a.finger)
			}
			slot = slices.Index(e.slotFinger[:], -1)
			if slot < 0 {
				return nil, fmt.Errorf("down %d: all %d slots are in use", a.finger, touchSlots)
			}
			e.slotFinger[slot] = a.finger
			e.fingerSlot[a.finger] = slot
			e.order = append(e.order, a.finger)
			selectSlot(slot)
			emit(evAbs, absMTTrackingID, e.tracking)
			e.tracking = (e.tracking + 1) & touchTrackingMax
			emit(evAbs, absMTPositionX, a.x)
			emit(evAbs, absMTPositionY, a.y)
			e.pos[a.finger] = [2]int32{a.x, a.y}
		case "move":
			if !active {
				return nil, fmt.Errorf("move %d: finger %d is not down", a.finger, a.finger)
			}
			selectSlot(slot)
			emit(evAbs, absMTPositionX, a.x)
			emit(evAbs, absMTPositionY, a.y)
			e.pos[a.finger] = [2]int32{a.x, a.y}
		case "up":
			if !active {
				return nil, fmt.Errorf("up %d: finger %d is not down", a.finger, a.finger)
			}
			selectSlot(slot)
			emit(evAbs, absMTTrackingID, -1)
			e.slotFinger[slot] = -1
			delete(e.fingerSlot, a.finger)
			delete(e.pos, a.finger)
			e.order = slices.DeleteFunc(e.order, func(f int) bool { return f == a.finger })
		}
	}
	if touching := len(e.order) > 0; touching != e.touching {
		v := int32(0)
		if touching {
			v = 1
		}
		emit(evKey, btnTouch, v)
		e.touching = touching
	}
	if len(e.order) > 0 {
		p := e.pos[e.order[0]]
		// The kernel drops values that did not change, so these cost
		// nothing when the oldest contact stood still.
		emit(evAbs, absX, p[0])
		emit(evAbs, absY, p[1])
	}
	emit(evSyn, synReport, 0)
	return out, nil
}
