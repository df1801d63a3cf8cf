package evdev

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
)

// Bitmap is a capability bitmap as the kernel prints it in sysfs.
type Bitmap struct{ bits big.Int }

// Has reports whether bit i is set.
func (b *Bitmap) Has(i int) bool { return b != nil && b.bits.Bit(i) == 1 }

// Set sets bit i (tests and ioctl results).
func (b *Bitmap) Set(i int) { b.bits.SetBit(&b.bits, i, 1) }

// ParseBitmap parses sysfs capability text: hexadecimal longs separated by
// spaces, most significant first, each without leading zeros.
func ParseBitmap(s string, wordSize int) (*Bitmap, error) {
	words := strings.Fields(s)
	var b Bitmap
	for i, w := range words {
		var v big.Int
		if _, ok := v.SetString(w, 16); !ok {
			return nil, fmt.Errorf("bad capability word %q", w)
		}
		shift := uint((len(words) - 1 - i) * wordSize * 8)
		v.Lsh(&v, shift)
		b.bits.Or(&b.bits, &v)
	}
	return &b, nil
}

// Caps is what a device can report, and what vitrine makes of it.
type Caps struct {
	Ev, Key, Rel, Abs *Bitmap
}

// Keyboard: reports letter keys, so a power button or a lid switch that
// happens to send EV_KEY does not count as a keyboard for wl_seat.
func (c Caps) Keyboard() bool {
	return c.Ev.Has(EvKey) && c.Key.Has(KeyA) && c.Key.Has(KeyZ) && c.Key.Has(KeySpace)
}

// RelativePointer: a mouse or touchpad in relative mode.
func (c Caps) RelativePointer() bool {
	return c.Ev.Has(EvRel) && c.Rel.Has(RelX) && c.Rel.Has(RelY) && c.Key.Has(BtnLeft)
}

// Touch: a multi-touch device speaking protocol B (slots).
func (c Caps) Touch() bool {
	return c.Ev.Has(EvAbs) && c.Abs.Has(AbsMTSlot) && c.Abs.Has(AbsMTPositionX) && c.Abs.Has(AbsMTPositionY)
}

// AbsolutePointer: a tablet (virtio-tablet, QEMU usb-tablet, a pen) or a
// single-touch screen: absolute X/Y that is not multi-touch.
func (c Caps) AbsolutePointer() bool {
	return c.Ev.Has(EvAbs) && c.Abs.Has(AbsX) && c.Abs.Has(AbsY) && !c.Touch() &&
		(c.Key.Has(BtnLeft) || c.Key.Has(BtnTouch) || c.Key.Has(BtnToolPen))
}

// Pointer reports either kind of pointer.
func (c Caps) Pointer() bool { return c.RelativePointer() || c.AbsolutePointer() }

// Useful reports whether vitrine has a use for the device at all.
func (c Caps) Useful() bool { return c.Keyboard() || c.Pointer() || c.Touch() }

func (c Caps) String() string {
	var s []string
	if c.Keyboard() {
		s = append(s, "keyboard")
	}
	if c.RelativePointer() {
		s = append(s, "pointer")
	}
	if c.AbsolutePointer() {
		s = append(s, "tablet")
	}
	if c.Touch() {
		s = append(s, "touch")
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

// SysfsInfo is what sysfs says about an event node.
type SysfsInfo struct {
	Name string // e.g. event3
	Dev  string // the device's name, e.g. "QEMU Virtio Keyboard"
	// Number is the node's MAJOR:MINOR (its sysfs dev file), which names
	// the device in udev's database; "" when sysfs has none.
	Number string
	Caps   Caps
}

// ReadSysfs reads /sys/class/input/NAME/device/{name,capabilities/*}
// under classDir (normally /sys/class/input).
func ReadSysfs(classDir, name string) (SysfsInfo, error) {
	dev := filepath.Join(classDir, name, "device")
	info := SysfsInfo{Name: name}
	if b, err := os.ReadFile(filepath.Join(classDir, name, "dev")); err == nil {
		info.Number = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(filepath.Join(dev, "name")); err == nil {
		info.Dev = strings.TrimSpace(string(b))
	}
	read := func(what string) (*Bitmap, error) {
		b, err := os.ReadFile(filepath.Join(dev, "capabilities", what))
		if err != nil {
			if os.IsNotExist(err) {
				return &Bitmap{}, nil
			}
			return nil, fmt.Errorf("read capabilities of %s: %w", name, err)
		}
		bm, err := ParseBitmap(string(b), WordSize)
		if err != nil {
			return nil, fmt.Errorf("capabilities/%s of %s: %w", what, name, err)
		}
		return bm, nil
	}
	var err error
	if info.Caps.Ev, err = read("ev"); err != nil {
		return info, err
	}
	if info.Caps.Key, err = read("key"); err != nil {
		return info, err
	}
	if info.Caps.Rel, err = read("rel"); err != nil {
		return info, err
	}
	if info.Caps.Abs, err = read("abs"); err != nil {
		return info, err
	}
	return info, nil
}
