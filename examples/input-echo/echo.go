package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/neurlang/wayland/wl"
	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/examples/internal/report"
)

// wl_seat capability bits.
const (
	capPointer  = 1
	capKeyboard = 2
	capTouch    = 4
)

// echo prints every wl_seat event it receives, one line each.
type echo struct {
	seat     *wl.Seat
	version  uint32
	out      *report.Lines
	log      *slog.Logger
	pointer  *wl.Pointer
	keyboard *wl.Keyboard
	touch    *wl.Touch
	cursor   *cursor // --cursor: set on every pointer enter
}

func onOff(b bool) string { return strconv.FormatBool(b) }

// coord formats a wl_fixed coordinate. Fixed values have 8 fraction bits,
// so two decimals are exact for the multiples of 1/4 that injected input
// produces and stable for everything else.
func coord(v float32) string { return strconv.FormatFloat(float64(v), 'f', 2, 32) }

func keyState(s uint32) string {
	switch s {
	case 0:
		return "released"
	case 1:
		return "pressed"
	case 2:
		return "repeated"
	}
	return strconv.FormatUint(uint64(s), 10)
}

func buttonState(s uint32) string {
	switch s {
	case 0:
		return "released"
	case 1:
		return "pressed"
	}
	return strconv.FormatUint(uint64(s), 10)
}

func axisName(a uint32) string {
	switch a {
	case 0:
		return "vertical"
	case 1:
		return "horizontal"
	}
	return strconv.FormatUint(uint64(a), 10)
}

func axisSource(s uint32) string {
	switch s {
	case 0:
		return "wheel"
	case 1:
		return "finger"
	case 2:
		return "continuous"
	case 3:
		return "wheel-tilt"
	}
	return strconv.FormatUint(uint64(s), 10)
}

func keyList(keys []int32) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = strconv.FormatUint(uint64(uint32(k)), 10)
	}
	return strings.Join(s, ",")
}

func (e *echo) HandleSeatName(ev wl.SeatNameEvent) {
	e.out.Printf("seat name=%s", ev.Name)
}

// HandleSeatCapabilities creates and releases the device objects as the
// seat gains and loses them.
func (e *echo) HandleSeatCapabilities(ev wl.SeatCapabilitiesEvent) {
	c := ev.Capabilities
	e.out.Printf("capabilities pointer=%s keyboard=%s touch=%s", onOff(c&capPointer != 0), onOff(c&capKeyboard != 0), onOff(c&capTouch != 0))
	var err error
	switch {
	case c&capPointer != 0 && e.pointer == nil:
		if e.pointer, err = e.seat.GetPointer(); err != nil {
			e.log.Error("get pointer", "err", err)
			break
		}
		e.pointer.AddEnterHandler(e)
		e.pointer.AddLeaveHandler(e)
		e.pointer.AddMotionHandler(e)
		e.pointer.AddButtonHandler(e)
		e.pointer.AddAxisHandler(e)
		e.pointer.AddFrameHandler(e)
		e.pointer.AddAxisSourceHandler(e)
		e.pointer.AddAxisStopHandler(e)
		e.pointer.AddAxisDiscreteHandler(e)
		e.pointer.AddAxisValue120Handler(e)
		e.pointer.AddAxisRelativeDirectionHandler(e)
	case c&capPointer == 0 && e.pointer != nil:
		e.releaseDevice(e.pointer, e.pointer.Release)
		e.pointer = nil
	}
	switch {
	case c&capKeyboard != 0 && e.keyboard == nil:
		if e.keyboard, err = e.seat.GetKeyboard(); err != nil {
			e.log.Error("get keyboard", "err", err)
			break
		}
		e.keyboard.AddKeymapHandler(e)
		e.keyboard.AddEnterHandler(e)
		e.keyboard.AddLeaveHandler(e)
		e.keyboard.AddKeyHandler(e)
		e.keyboard.AddModifiersHandler(e)
		e.keyboard.AddRepeatInfoHandler(e)
	case c&capKeyboard == 0 && e.keyboard != nil:
		e.releaseDevice(e.keyboard, e.keyboard.Release)
		e.keyboard = nil
	}
	switch {
	case c&capTouch != 0 && e.touch == nil:
		if e.touch, err = e.seat.GetTouch(); err != nil {
			e.log.Error("get touch", "err", err)
			break
		}
		e.touch.AddDownHandler(e)
		e.touch.AddUpHandler(e)
		e.touch.AddMotionHandler(e)
		e.touch.AddFrameHandler(e)
		e.touch.AddCancelHandler(e)
		e.touch.AddShapeHandler(e)
		e.touch.AddOrientationHandler(e)
	case c&capTouch == 0 && e.touch != nil:
		e.releaseDevice(e.touch, e.touch.Release)
		e.touch = nil
	}
}

// releaseDevice drops a device object; the release request exists from
// wl_seat version 3 on, before that the object just stays inert.
func (e *echo) releaseDevice(p wl.Proxy, release func() error) {
	if e.version < 3 {
		return
	}
	if err := release(); err != nil {
		e.log.Warn("release input device", "err", err)
	}
	p.Unregister()
}

func (e *echo) HandleKeyboardKeymap(ev wl.KeyboardKeymapEvent) {
	if ev.FdError != nil {
		e.log.Warn("keymap without fd", "err", ev.FdError)
	} else {
		// Only the size is reported; the fd must still be closed or every
		// keymap update leaks one.
		unix.Close(int(ev.Fd))
	}
	e.out.Printf("keymap format=%d size=%d", ev.Format, ev.Size)
}

func (e *echo) HandleKeyboardEnter(ev wl.KeyboardEnterEvent) {
	e.out.Printf("keyboard-enter keys=%s", keyList(ev.Keys))
}

func (e *echo) HandleKeyboardLeave(wl.KeyboardLeaveEvent) { e.out.Printf("keyboard-leave") }

func (e *echo) HandleKeyboardKey(ev wl.KeyboardKeyEvent) {
	e.out.Printf("%s", formatKey(ev))
}

func formatKey(ev wl.KeyboardKeyEvent) string {
	return fmt.Sprintf("key code=%d state=%s", ev.Key, keyState(ev.State))
}

func (e *echo) HandleKeyboardModifiers(ev wl.KeyboardModifiersEvent) {
	e.out.Printf("%s", formatModifiers(ev))
}

func formatModifiers(ev wl.KeyboardModifiersEvent) string {
	return fmt.Sprintf("modifiers depressed=%d latched=%d locked=%d group=%d", ev.ModsDepressed, ev.ModsLatched, ev.ModsLocked, ev.Group)
}

func (e *echo) HandleKeyboardRepeatInfo(ev wl.KeyboardRepeatInfoEvent) {
	e.out.Printf("repeat-info rate=%d delay=%d", ev.Rate, ev.Delay)
}

func (e *echo) HandlePointerEnter(ev wl.PointerEnterEvent) {
	e.out.Printf("pointer-enter x=%s y=%s", coord(ev.SurfaceX), coord(ev.SurfaceY))
	if e.cursor != nil {
		if err := e.pointer.SetCursor(ev.Serial, e.cursor.surface, 0, 0); err != nil {
			e.log.Error("set cursor", "err", err)
			return
		}
		e.out.Printf("cursor-set")
	}
}

func (e *echo) HandlePointerLeave(wl.PointerLeaveEvent) { e.out.Printf("pointer-leave") }

func (e *echo) HandlePointerMotion(ev wl.PointerMotionEvent) {
	e.out.Printf("%s", formatMotion(ev))
}

func formatMotion(ev wl.PointerMotionEvent) string {
	return fmt.Sprintf("pointer-motion x=%s y=%s", coord(ev.SurfaceX), coord(ev.SurfaceY))
}

func (e *echo) HandlePointerButton(ev wl.PointerButtonEvent) {
	e.out.Printf("%s", formatButton(ev))
}

func formatButton(ev wl.PointerButtonEvent) string {
	return fmt.Sprintf("button code=%d state=%s", ev.Button, buttonState(ev.State))
}

func (e *echo) HandlePointerAxis(ev wl.PointerAxisEvent) {
	e.out.Printf("%s", formatAxis(ev))
}

func formatAxis(ev wl.PointerAxisEvent) string {
	return fmt.Sprintf("axis axis=%s value=%s", axisName(ev.Axis), coord(ev.Value))
}

func (e *echo) HandlePointerFrame(wl.PointerFrameEvent) { e.out.Printf("frame") }

func (e *echo) HandlePointerAxisSource(ev wl.PointerAxisSourceEvent) {
	e.out.Printf("axis-source source=%s", axisSource(ev.AxisSource))
}

func (e *echo) HandlePointerAxisStop(ev wl.PointerAxisStopEvent) {
	e.out.Printf("axis-stop axis=%s", axisName(ev.Axis))
}

func (e *echo) HandlePointerAxisDiscrete(ev wl.PointerAxisDiscreteEvent) {
	e.out.Printf("axis-discrete axis=%s steps=%d", axisName(ev.Axis), ev.Discrete)
}

func (e *echo) HandlePointerAxisValue120(ev wl.PointerAxisValue120Event) {
	e.out.Printf("axis-value120 axis=%s value120=%d", axisName(ev.Axis), ev.Value120)
}

func (e *echo) HandlePointerAxisRelativeDirection(ev wl.PointerAxisRelativeDirectionEvent) {
	dir := "identical"
	if ev.Direction == 1 {
		dir = "inverted"
	}
	e.out.Printf("axis-relative-direction axis=%s direction=%s", axisName(ev.Axis), dir)
}

func (e *echo) HandleTouchDown(ev wl.TouchDownEvent) {
	e.out.Printf("%s", formatTouchDown(ev))
}

func formatTouchDown(ev wl.TouchDownEvent) string {
	return fmt.Sprintf("touch-down id=%d x=%s y=%s", ev.Id, coord(ev.X), coord(ev.Y))
}

func (e *echo) HandleTouchUp(ev wl.TouchUpEvent) { e.out.Printf("touch-up id=%d", ev.Id) }

func (e *echo) HandleTouchMotion(ev wl.TouchMotionEvent) {
	e.out.Printf("touch-motion id=%d x=%s y=%s", ev.Id, coord(ev.X), coord(ev.Y))
}

func (e *echo) HandleTouchFrame(wl.TouchFrameEvent) { e.out.Printf("touch-frame") }

func (e *echo) HandleTouchCancel(wl.TouchCancelEvent) { e.out.Printf("touch-cancel") }

func (e *echo) HandleTouchShape(ev wl.TouchShapeEvent) {
	e.out.Printf("touch-shape id=%d major=%s minor=%s", ev.Id, coord(ev.Major), coord(ev.Minor))
}

func (e *echo) HandleTouchOrientation(ev wl.TouchOrientationEvent) {
	e.out.Printf("touch-orientation id=%d orientation=%s", ev.Id, coord(ev.Orientation))
}
