package scene

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/virtualkeyboard"
	"github.com/vitrine-wm/vitrine/protocol/virtualpointer"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

// Virtual input (wlr-virtual-pointer, virtual-keyboard): privileged
// clients such as wtype, wvkbd and test drivers inject input that takes
// the path real devices take: bindings first, then the focused client,
// with focus following the pointer as for a mouse.

const (
	virtualPointerVersion  = 2
	virtualKeyboardVersion = 1
	// maxKeymapSize is far above any compiled keymap (a four-layout
	// xkeyboard-config keymap is about 200 KiB): a client cannot make
	// the compositor read gigabytes.
	maxKeymapSize = 4 << 20
	// maxHeldKeys bounds the keys a virtual keyboard holds down at
	// once; wl_keyboard.enter carries them all.
	maxHeldKeys = 256
)

// The devices virtual input adds to the seat. They stay after their
// clients leave: a tool like wtype makes a new virtual keyboard for
// every command, and a capability that vanished with each would make
// every client drop its wl_keyboard and bind a new one, racing the next
// command's keys.
const (
	virtualPointerDevice  = "virtual pointer"
	virtualKeyboardDevice = "virtual keyboard"
)

func (c *Compositor) registerVirtualInput() {
	vp := c.srv.AddGlobal(virtualpointer.VirtualPointerManagerV1Interface, virtualPointerVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := virtualpointer.NewVirtualPointerManagerV1(pc, id, v)
		if err == nil {
			res.Handler = virtualPointerManager{c}
		}
		return err
	})
	vp.Filter = c.privileged
	vk := c.srv.AddGlobal(virtualkeyboard.VirtualKeyboardManagerV1Interface, virtualKeyboardVersion, func(pc *protocol.Client, v, id uint32) error {
		res, err := virtualkeyboard.NewVirtualKeyboardManagerV1(pc, id, v)
		if err == nil {
			res.Handler = virtualKeyboardManager{c}
		}
		return err
	})
	vk.Filter = c.privileged
}

// addVirtualDevice gives the seat the capability of a virtual device.
func (c *Compositor) addVirtualDevice(name string, caps inputevent.DeviceCaps) {
	if _, ok := c.in.devs[name]; ok {
		return
	}
	c.in.devs[name] = inputDevice{caps: caps}
	c.updateCaps()
}

// --- pointer ---

type virtualPointerManager struct{ c *Compositor }

func (m virtualPointerManager) CreateVirtualPointer(_ *virtualpointer.VirtualPointerManagerV1, _ *wl.Seat, res *virtualpointer.VirtualPointerV1) error {
	m.create(res, nil)
	return nil
}

func (m virtualPointerManager) CreateVirtualPointerWithOutput(_ *virtualpointer.VirtualPointerManagerV1, _ *wl.Seat, o *wl.Output, res *virtualpointer.VirtualPointerV1) error {
	var out *output
	if o != nil {
		out = m.c.outputFor(o)
	}
	m.create(res, out)
	return nil
}

func (m virtualPointerManager) Destroy(*virtualpointer.VirtualPointerManagerV1) error { return nil }

func (m virtualPointerManager) create(res *virtualpointer.VirtualPointerV1, out *output) {
	res.Handler = &virtualPointer{c: m.c, out: out}
	m.c.addVirtualDevice(virtualPointerDevice, inputevent.DeviceCaps{Pointer: true})
}

type virtualPointer struct {
	c *Compositor
	// out is where absolute motion lands (nil: the whole layout).
	out *output
	// source is the axis_source for the axis events of this frame
	// (wl_pointer.axis_source, 0 = wheel).
	source uint32
}

func (vp *virtualPointer) Motion(_ *virtualpointer.VirtualPointerV1, ms uint32, dx, dy protocol.Fixed) error {
	in := &vp.c.in
	vp.c.movePointer(in.pointer[0]+dx.Float(), in.pointer[1]+dy.Float(), ms)
	return nil
}

func (vp *virtualPointer) MotionAbsolute(_ *virtualpointer.VirtualPointerV1, ms uint32, x, y, xExtent, yExtent uint32) error {
	if xExtent == 0 || yExtent == 0 {
		// No frame to place the point in; wlroots drops these too.
		return nil
	}
	box := vp.c.layoutBounds()
	if vp.out != nil && !vp.out.gone {
		box = vp.out.bounds()
	}
	gx := float64(box.Min.X) + float64(x)/float64(xExtent)*float64(box.Dx())
	gy := float64(box.Min.Y) + float64(y)/float64(yExtent)*float64(box.Dy())
	vp.c.movePointer(gx, gy, ms)
	return nil
}

func (vp *virtualPointer) Button(_ *virtualpointer.VirtualPointerV1, ms, button, state uint32) error {
	if state > wl.PointerButtonStatePressed {
		// Not a state a real button has; nothing to forward.
		return nil
	}
	pressed := state == wl.PointerButtonStatePressed
	if pressed == slices.Contains(vp.c.in.buttons, button) {
		// A second press of a held button (or release of one not held)
		// is no change for clients, and would unbalance the grab.
		return nil
	}
	vp.c.handleButton(button, pressed, ms)
	return nil
}

func checkAxis(r *virtualpointer.VirtualPointerV1, axis uint32) error {
	if axis > wl.PointerAxisHorizontalScroll {
		return protocol.NewError(r, virtualpointer.VirtualPointerV1ErrorInvalidAxis, "axis %d is neither vertical (0) nor horizontal (1)", axis)
	}
	return nil
}

func (vp *virtualPointer) Axis(r *virtualpointer.VirtualPointerV1, ms, axis uint32, value protocol.Fixed) error {
	if err := checkAxis(r, axis); err != nil {
		return err
	}
	vp.c.handleAxis(inputevent.Axis{Orientation: inputevent.AxisOrientation(axis), Value: value.Float()}, ms, vp.source)
	return nil
}

func (vp *virtualPointer) AxisDiscrete(r *virtualpointer.VirtualPointerV1, ms, axis uint32, value protocol.Fixed, discrete int32) error {
	if err := checkAxis(r, axis); err != nil {
		return err
	}
	const maxDetents = 1 << 20 // keeps discrete*120 inside an int32
	discrete = max(min(discrete, maxDetents), -maxDetents)
	vp.c.handleAxis(inputevent.Axis{Orientation: inputevent.AxisOrientation(axis), Value: value.Float(), Discrete: discrete, Value120: discrete * 120}, ms, vp.source)
	return nil
}

func (vp *virtualPointer) AxisSource(r *virtualpointer.VirtualPointerV1, source uint32) error {
	if source > wl.PointerAxisSourceWheelTilt {
		return protocol.NewError(r, virtualpointer.VirtualPointerV1ErrorInvalidAxisSource, "axis source %d is not a wl_pointer.axis_source", source)
	}
	vp.source = source
	return nil
}

func (vp *virtualPointer) AxisStop(r *virtualpointer.VirtualPointerV1, ms, axis uint32) error {
	if err := checkAxis(r, axis); err != nil {
		return err
	}
	for _, p := range vp.c.focusedPointers() {
		if p.Version() >= 5 {
			p.SendAxisStop(ms, axis)
		}
	}
	vp.c.in.pendingFrame = true
	return nil
}

func (vp *virtualPointer) Frame(*virtualpointer.VirtualPointerV1) error {
	vp.source = wl.PointerAxisSourceWheel
	vp.c.HandleInput(inputevent.Frame{})
	return nil
}

func (vp *virtualPointer) Destroy(*virtualpointer.VirtualPointerV1) error { return nil }

// --- keyboard ---

type virtualKeyboardManager struct{ c *Compositor }

func (m virtualKeyboardManager) CreateVirtualKeyboard(_ *virtualkeyboard.VirtualKeyboardManagerV1, _ *wl.Seat, res *virtualkeyboard.VirtualKeyboardV1) error {
	vk := &virtualKeyboard{c: m.c}
	res.Handler = vk
	res.OnDestroy(vk.gone)
	m.c.addVirtualDevice(virtualKeyboardDevice, inputevent.DeviceCaps{Keyboard: true})
	return nil
}

// virtualKeyboard is a keyboard with its client's keymap. Clients are
// sent that keymap when its keys start coming (as when someone types
// on a second physical keyboard with another layout), and the seat's
// own when a real key is pressed again or this keyboard goes.
type virtualKeyboard struct {
	c      *Compositor
	keymap *xkb.Keymap
	held   []uint32
	mods   xkb.ModState
}

func (vk *virtualKeyboard) Keymap(r *virtualkeyboard.VirtualKeyboardV1, format uint32, fd int, size uint32) error {
	defer unix.Close(fd)
	if format != wl.KeyboardKeymapFormatXkbV1 {
		return protocol.NewError(r, virtualkeyboard.VirtualKeyboardV1ErrorNoKeymap, "keymap format %d: only xkb_v1 (%d) is supported", format, wl.KeyboardKeymapFormatXkbV1)
	}
	text, err := readKeymap(fd, size)
	if err != nil {
		return protocol.NewError(r, virtualkeyboard.VirtualKeyboardV1ErrorNoKeymap, "keymap: %v", err)
	}
	km, err := xkb.ParseKeysyms(text)
	if err != nil {
		return protocol.NewError(r, virtualkeyboard.VirtualKeyboardV1ErrorNoKeymap, "keymap: %v", err)
	}
	vk.keymap = km
	if vk.c.in.vkActive == vk {
		// Clients have the old one: give them this.
		vk.c.sendKeymapToFocused()
	}
	return nil
}

// readKeymap reads a client's keymap file. It reads rather than maps:
// a mapping of a file the client truncates later faults the compositor
// (SIGBUS), a read just comes back short.
func readKeymap(fd int, size uint32) (string, error) {
	if size == 0 || size > maxKeymapSize {
		return "", fmt.Errorf("size %d is not between 1 and %d bytes", size, maxKeymapSize)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", fmt.Errorf("fstat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", fmt.Errorf("the fd is not a file (mode %#o); send a memfd or a file", st.Mode&unix.S_IFMT)
	}
	if st.Size < int64(size) {
		return "", fmt.Errorf("the file holds %d bytes, size says %d", st.Size, size)
	}
	buf := make([]byte, size)
	for off := 0; off < len(buf); {
		n, err := unix.Pread(fd, buf[off:], int64(off))
		if err != nil {
			return "", fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			return "", fmt.Errorf("the file ended after %d of %d bytes", off, size)
		}
		off += n
	}
	return string(buf), nil
}

func (vk *virtualKeyboard) Key(r *virtualkeyboard.VirtualKeyboardV1, ms, key, state uint32) error {
	if vk.keymap == nil {
		return protocol.NewError(r, virtualkeyboard.VirtualKeyboardV1ErrorNoKeymap, "key before a keymap")
	}
	if state > wl.KeyboardKeyStatePressed {
		return nil
	}
	pressed := state == wl.KeyboardKeyStatePressed
	i := slices.Index(vk.held, key)
	switch {
	case pressed && i >= 0, !pressed && i < 0:
		// No change, as a held key's autorepeat from the kernel is none.
		return nil
	case pressed && len(vk.held) >= maxHeldKeys:
		return protocol.NewError(r, protocol.ErrNoMemory, "more than %d keys held at once", maxHeldKeys)
	case pressed:
		vk.held = append(vk.held, key)
	default:
		vk.held = slices.Delete(vk.held, i, i+1)
	}
	vk.c.useKeyboard(vk)
	vk.c.deliverKey(key, pressed, ms, false)
	return nil
}

func (vk *virtualKeyboard) Modifiers(r *virtualkeyboard.VirtualKeyboardV1, depressed, latched, locked, group uint32) error {
	if vk.keymap == nil {
		return protocol.NewError(r, virtualkeyboard.VirtualKeyboardV1ErrorNoKeymap, "modifiers before a keymap")
	}
	m := xkb.ModState{Depressed: depressed, Latched: latched, Locked: locked, Group: group}
	if m == vk.mods && vk.c.in.vkActive == vk {
		return nil
	}
	vk.mods = m
	vk.c.useKeyboard(vk)
	vk.c.sendModifiers()
	return nil
}

func (vk *virtualKeyboard) Destroy(*virtualkeyboard.VirtualKeyboardV1) error { return nil }

// gone releases what the keyboard held, as unplugging a keyboard does,
// and gives clients the seat's keymap back.
func (vk *virtualKeyboard) gone() {
	c := vk.c
	if c.in.vkActive != vk {
		return
	}
	ms := uint32(eventloop.Now().Milliseconds())
	for len(vk.held) > 0 {
		key := vk.held[len(vk.held)-1]
		vk.held = vk.held[:len(vk.held)-1]
		c.deliverKey(key, false, ms, false)
	}
	vk.mods = xkb.ModState{}
	c.useKeyboard(nil)
}
