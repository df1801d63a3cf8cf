package nested

import (
	"slices"

	"github.com/neurlang/wayland/wl"
	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// Device names of the parent's seat, as input events' Source.
const (
	pointerDevice  = "wayland:pointer"
	keyboardDevice = "wayland:keyboard"
)

// inputForwarder turns the parent seat's events on vitrine's windows
// into vitrine's input events. Keys keep their evdev codes; vitrine
// applies its own keymap (--keymap, --xkb-*), as it does with a real
// keyboard.
type inputForwarder struct {
	b           *Backend
	seatVersion uint32
	pointer     *wl.Pointer
	keyboard    *wl.Keyboard

	focus    *Output  // window under the parent's pointer
	keys     []uint32 // keys pressed while a window had keyboard focus
	discrete [2]int32 // axis_discrete steps waiting for their axis event
}

func (in *inputForwarder) send(ev inputevent.Event) {
	if in.b.cfg.Input != nil {
		in.b.cfg.Input(ev)
	}
}

func header(dev string) inputevent.Header {
	return inputevent.Header{Device: dev, Time: now()}
}

// HandleSeatCapabilities adds and removes the parent's pointer and
// keyboard as vitrine's input devices.
func (in *inputForwarder) HandleSeatCapabilities(ev wl.SeatCapabilitiesEvent) {
	wantPointer := ev.Capabilities&wl.SeatCapabilityPointer != 0
	wantKeyboard := ev.Capabilities&wl.SeatCapabilityKeyboard != 0
	var err error
	switch {
	case wantPointer && in.pointer == nil:
		if in.pointer, err = in.b.seat.GetPointer(); err == nil {
			in.pointer.AddEnterHandler(in)
			in.pointer.AddLeaveHandler(in)
			in.pointer.AddMotionHandler(in)
			in.pointer.AddButtonHandler(in)
			in.pointer.AddAxisHandler(in)
			in.pointer.AddAxisDiscreteHandler(in)
			in.pointer.AddFrameHandler(in)
			in.send(inputevent.DeviceAdded{Header: header(pointerDevice), Name: "parent compositor's pointer", Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}})
		}
	case !wantPointer && in.pointer != nil:
		if in.seatVersion >= 3 {
			in.pointer.Release()
		}
		in.pointer.Unregister()
		in.pointer, in.focus = nil, nil
		in.send(inputevent.DeviceRemoved{Header: header(pointerDevice), Name: "parent compositor's pointer", Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}})
	}
	if err != nil {
		in.b.log.Warn("wayland backend: get pointer", "err", err)
		err = nil
	}
	switch {
	case wantKeyboard && in.keyboard == nil:
		if in.keyboard, err = in.b.seat.GetKeyboard(); err == nil {
			in.keyboard.AddKeymapHandler(in)
			in.keyboard.AddEnterHandler(in)
			in.keyboard.AddLeaveHandler(in)
			in.keyboard.AddKeyHandler(in)
			in.send(inputevent.DeviceAdded{Header: header(keyboardDevice), Name: "parent compositor's keyboard", Caps: inputevent.DeviceCaps{Keyboard: true}})
		}
	case !wantKeyboard && in.keyboard != nil:
		in.releaseKeys()
		if in.seatVersion >= 3 {
			in.keyboard.Release()
		}
		in.keyboard.Unregister()
		in.keyboard = nil
		in.send(inputevent.DeviceRemoved{Header: header(keyboardDevice), Name: "parent compositor's keyboard", Caps: inputevent.DeviceCaps{Keyboard: true}})
	}
	if err != nil {
		in.b.log.Warn("wayland backend: get keyboard", "err", err)
	}
}

// pointerAt moves vitrine's pointer to a point of window o.
func (in *inputForwarder) pointerAt(o *Output, x, y float32) {
	if o == nil || o.width <= 0 || o.height <= 0 {
		return
	}
	in.send(inputevent.PointerAbs{Header: header(pointerDevice), X: float64(x) / float64(o.width), Y: float64(y) / float64(o.height), Output: o.name})
	if in.seatVersion < 5 {
		in.frame()
	}
}

func (in *inputForwarder) frame() {
	in.send(inputevent.Frame{Header: header(pointerDevice)})
}

// HandlePointerEnter hides the parent's cursor over the window: vitrine
// draws its clients' cursors itself.
func (in *inputForwarder) HandlePointerEnter(ev wl.PointerEnterEvent) {
	in.focus = in.b.outputFor(ev.Surface)
	if in.focus == nil {
		return
	}
	if err := in.pointer.SetCursor(ev.Serial, nil, 0, 0); err != nil {
		in.b.log.Debug("wayland backend: hide the parent's cursor", "err", err)
	}
	in.pointerAt(in.focus, ev.SurfaceX, ev.SurfaceY)
}

func (in *inputForwarder) HandlePointerLeave(wl.PointerLeaveEvent) { in.focus = nil }

func (in *inputForwarder) HandlePointerMotion(ev wl.PointerMotionEvent) {
	in.pointerAt(in.focus, ev.SurfaceX, ev.SurfaceY)
}

func (in *inputForwarder) HandlePointerButton(ev wl.PointerButtonEvent) {
	if in.focus == nil {
		return
	}
	in.send(inputevent.Button{Header: header(pointerDevice), Code: ev.Button, Pressed: ev.State == wl.PointerButtonStatePressed})
	if in.seatVersion < 5 {
		in.frame()
	}
}

func (in *inputForwarder) HandlePointerAxisDiscrete(ev wl.PointerAxisDiscreteEvent) {
	if ev.Axis < 2 {
		in.discrete[ev.Axis] = ev.Discrete
	}
}

func (in *inputForwarder) HandlePointerAxis(ev wl.PointerAxisEvent) {
	if in.focus == nil || ev.Axis > 1 {
		return
	}
	d := in.discrete[ev.Axis]
	in.discrete[ev.Axis] = 0
	in.send(inputevent.Axis{Header: header(pointerDevice), Orientation: inputevent.AxisOrientation(ev.Axis), Value: float64(ev.Value), Discrete: d, Value120: d * 120})
	if in.seatVersion < 5 {
		in.frame()
	}
}

func (in *inputForwarder) HandlePointerFrame(wl.PointerFrameEvent) {
	if in.focus != nil {
		in.frame()
	}
}

// HandleKeyboardKeymap closes the parent's keymap: vitrine sends its
// clients its own.
func (in *inputForwarder) HandleKeyboardKeymap(ev wl.KeyboardKeymapEvent) {
	if ev.FdError == nil && isMemfd(int(ev.Fd)) {
		unix.Close(int(ev.Fd))
	}
}

// HandleKeyboardEnter presses the keys already down, as wlroots' nested
// backend does, so a shortcut held while focusing the window works.
func (in *inputForwarder) HandleKeyboardEnter(ev wl.KeyboardEnterEvent) {
	for _, k := range ev.Keys {
		in.key(uint32(k), true)
	}
}

// HandleKeyboardLeave releases what vitrine's clients still hold down.
func (in *inputForwarder) HandleKeyboardLeave(wl.KeyboardLeaveEvent) { in.releaseKeys() }

func (in *inputForwarder) HandleKeyboardKey(ev wl.KeyboardKeyEvent) {
	in.key(ev.Key, ev.State == wl.KeyboardKeyStatePressed)
}

func (in *inputForwarder) key(code uint32, pressed bool) {
	i := slices.Index(in.keys, code)
	switch {
	case pressed && i < 0:
		in.keys = append(in.keys, code)
	case !pressed && i >= 0:
		in.keys = slices.Delete(in.keys, i, i+1)
	default:
		return // a press twice, or the release of a key not pressed here
	}
	in.send(inputevent.Key{Header: header(keyboardDevice), Code: code, Pressed: pressed})
}

func (in *inputForwarder) releaseKeys() {
	for _, k := range slices.Backward(slices.Clone(in.keys)) {
		in.key(k, false)
	}
}
