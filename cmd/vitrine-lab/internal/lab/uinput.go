package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// uinput ioctls (include/uapi/linux/uinput.h), with the generic _IOC
// layout of x86, ARM and RISC-V: nr bits 0-7, type 8-15, size 16-29,
// direction 30-31 (1 write, 2 read).
const (
	uiDevCreate  = 'U'<<8 | 1
	uiDevDestroy = 'U'<<8 | 2
	// struct uinput_setup: struct input_id (4 × u16), char name[80],
	// u32 ff_effects_max.
	uinputSetupSize = 8 + 80 + 4
	uiDevSetup      = 1<<30 | uinputSetupSize<<16 | 'U'<<8 | 3
	// struct uinput_abs_setup: u16 code, 2 bytes of padding, struct
	// input_absinfo (6 × s32: value, minimum, maximum, fuzz, flat,
	// resolution).
	uinputAbsSetupSize = 4 + 6*4
	uiAbsSetup         = 1<<30 | uinputAbsSetupSize<<16 | 'U'<<8 | 4
	uiSetEvBit         = 1<<30 | 4<<16 | 'U'<<8 | 100
	uiSetKeyBit        = 1<<30 | 4<<16 | 'U'<<8 | 101
	uiSetAbsBit        = 1<<30 | 4<<16 | 'U'<<8 | 103
	uiSetPropBit       = 1<<30 | 4<<16 | 'U'<<8 | 110
)

// uiGetSysname is UI_GET_SYSNAME(len): the device's name under
// /sys/devices/virtual/input.
func uiGetSysname(n int) uintptr { return 2<<30 | uintptr(n)<<16 | 'U'<<8 | 44 }

// Touchscreen is a multi-touch (protocol B) touchscreen made through
// /dev/uinput; it exists until Close.
type Touchscreen struct {
	f *os.File
	// Node is its event device, /dev/input/eventN.
	Node string
}

func uinputIoctl(f *os.File, req, arg uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), req, arg); errno != 0 {
		return errno
	}
	return nil
}

// NewTouchscreen creates the lab's touchscreen: INPUT_PROP_DIRECT,
// BTN_TOUCH, ABS_X/ABS_Y and the protocol B axes ABS_MT_SLOT (10
// slots), ABS_MT_TRACKING_ID and ABS_MT_POSITION_X/Y, positions
// 0..TouchMax.
func NewTouchscreen() (*Touchscreen, error) {
	f, err := os.OpenFile("/dev/uinput", os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/uinput (is the uinput module loaded, and may this user write it?): %w", err)
	}
	t := &Touchscreen{f: f}
	if err := t.setup(); err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

func (t *Touchscreen) setup() error {
	bits := []struct {
		req  uintptr
		what string
		v    uintptr
	}{
		{uiSetEvBit, "EV_KEY", evKey},
		{uiSetEvBit, "EV_ABS", evAbs},
		{uiSetKeyBit, "BTN_TOUCH", btnTouch},
		{uiSetPropBit, "INPUT_PROP_DIRECT", inputPropDirect},
	}
	for _, b := range bits {
		if err := uinputIoctl(t.f, b.req, b.v); err != nil {
			return fmt.Errorf("uinput: set %s: %w", b.what, err)
		}
	}
	axes := []struct {
		code     uint16
		what     string
		min, max int32
	}{
		{absX, "ABS_X", 0, TouchMax},
		{absY, "ABS_Y", 0, TouchMax},
		{absMTSlot, "ABS_MT_SLOT", 0, touchSlots - 1},
		{absMTTrackingID, "ABS_MT_TRACKING_ID", 0, touchTrackingMax},
		{absMTPositionX, "ABS_MT_POSITION_X", 0, TouchMax},
		{absMTPositionY, "ABS_MT_POSITION_Y", 0, TouchMax},
	}
	for _, a := range axes {
		if err := uinputIoctl(t.f, uiSetAbsBit, uintptr(a.code)); err != nil {
			return fmt.Errorf("uinput: set %s: %w", a.what, err)
		}
		var buf [uinputAbsSetupSize]byte
		binary.NativeEndian.PutUint16(buf[0:], a.code)
		binary.NativeEndian.PutUint32(buf[8:], uint32(a.min))
		binary.NativeEndian.PutUint32(buf[12:], uint32(a.max))
		if err := uinputIoctl(t.f, uiAbsSetup, uintptr(unsafe.Pointer(&buf[0]))); err != nil {
			return fmt.Errorf("uinput: UI_ABS_SETUP %s: %w", a.what, err)
		}
	}
	var setup [uinputSetupSize]byte
	binary.NativeEndian.PutUint16(setup[0:], busVirtual)
	binary.NativeEndian.PutUint16(setup[2:], 0x1d6b) // Linux Foundation
	binary.NativeEndian.PutUint16(setup[4:], 0x7674) // "vt"
	binary.NativeEndian.PutUint16(setup[6:], 1)
	copy(setup[8:8+79], touchName)
	if err := uinputIoctl(t.f, uiDevSetup, uintptr(unsafe.Pointer(&setup[0]))); err != nil {
		return fmt.Errorf("uinput: UI_DEV_SETUP: %w", err)
	}
	if err := uinputIoctl(t.f, uiDevCreate, 0); err != nil {
		return fmt.Errorf("uinput: UI_DEV_CREATE: %w", err)
	}
	var name [64]byte
	if err := uinputIoctl(t.f, uiGetSysname(len(name)), uintptr(unsafe.Pointer(&name[0]))); err != nil {
		return fmt.Errorf("uinput: UI_GET_SYSNAME: %w", err)
	}
	sys := filepath.Join("/sys/devices/virtual/input", strings.TrimRight(string(name[:]), "\x00"))
	// The event node appears once the evdev handler has bound.
	for deadline := time.Now().Add(5 * time.Second); ; {
		evs, _ := filepath.Glob(filepath.Join(sys, "event*"))
		if len(evs) > 0 {
			t.Node = "/dev/input/" + filepath.Base(evs[0])
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("uinput: %s has no event node after 5s (is evdev loaded?)", sys)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// inputEventSize is sizeof(struct input_event): a struct timeval, then
// u16 type, u16 code, s32 value.
const inputEventSize = int(unsafe.Sizeof(unix.Timeval{})) + 8

// Write sends events; the kernel stamps its own time on them.
func (t *Touchscreen) Write(evs []inputEvent) error {
	buf := make([]byte, len(evs)*inputEventSize)
	for i, e := range evs {
		b := buf[i*inputEventSize+inputEventSize-8:]
		binary.NativeEndian.PutUint16(b[0:], e.typ)
		binary.NativeEndian.PutUint16(b[2:], e.code)
		binary.NativeEndian.PutUint32(b[4:], uint32(e.value))
	}
	if _, err := t.f.Write(buf); err != nil {
		return fmt.Errorf("uinput: write events: %w", err)
	}
	return nil
}

// Close destroys the device. Events its readers have not read yet are
// lost (evdev refuses reads once the device is gone).
func (t *Touchscreen) Close() error {
	err := uinputIoctl(t.f, uiDevDestroy, 0)
	if cerr := t.f.Close(); err == nil && cerr != nil {
		return fmt.Errorf("close /dev/uinput: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("uinput: UI_DEV_DESTROY: %w", err)
	}
	return nil
}

// openedBy reports whether a process named name (its comm) other than
// this one has node open.
func openedBy(node, name string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	self := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if filepath.Base(p) == self {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != name {
			continue
		}
		fds, _ := filepath.Glob(filepath.Join(p, "fd", "*"))
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && target == node {
				return true
			}
		}
	}
	return false
}

// GuestTouch plays a touch script (see parseTouchScript) on a fresh
// touchscreen, then destroys it. It runs inside the guest (vitrine-lab
// guest-touch, lab-touch) and reports the device and each wait on log.
func GuestTouch(script string, log io.Writer) error {
	steps, err := parseTouchScript(script)
	if err != nil {
		return err
	}
	// Check the whole script before a device exists.
	enc := newTouchEncoder()
	frames := make([][]inputEvent, len(steps))
	for i, s := range steps {
		if s.actions == nil {
			continue
		}
		if frames[i], err = enc.frame(s.actions); err != nil {
			return fmt.Errorf("touch script: %w", err)
		}
	}
	ts, err := NewTouchscreen()
	if err != nil {
		return err
	}
	// A signal ends a hold; at any other step it still destroys the
	// device on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Registered before the device exists, so a SIGUSR1 sent early is
	// kept for the wait-signal step rather than killing the process.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	fmt.Fprintf(log, "touchscreen %s %q 0..%d\n", ts.Node, touchName, TouchMax)
	err = playTouch(ctx, usr1, ts, steps, frames, log)
	if cerr := ts.Close(); err == nil {
		err = cerr
	}
	return err
}

func playTouch(ctx context.Context, usr1 <-chan os.Signal, ts *Touchscreen, steps []touchStep, frames [][]inputEvent, log io.Writer) error {
	for i, s := range steps {
		if !s.hold && ctx.Err() != nil {
			return errors.New("touch script interrupted by a signal")
		}
		switch {
		case s.actions != nil:
			if err := ts.Write(frames[i]); err != nil {
				return err
			}
		case s.waitOpen != "":
			start := time.Now()
			for !openedBy(ts.Node, s.waitOpen) {
				if time.Since(start) > s.limit {
					return fmt.Errorf("no process named %s opened %s within %v", s.waitOpen, ts.Node, s.limit)
				}
				time.Sleep(20 * time.Millisecond)
			}
			fmt.Fprintf(log, "touchscreen opened by %s after %dms\n", s.waitOpen, time.Since(start).Milliseconds())
		case s.waitUsr1:
			timer := time.NewTimer(s.limit)
			select {
			case <-usr1:
				timer.Stop()
			case <-ctx.Done():
				timer.Stop()
				return errors.New("touch script interrupted by a signal")
			case <-timer.C:
				return errors.New("wait-signal: no SIGUSR1 within " + s.limit.String())
			}
		case s.hold:
			timer := time.NewTimer(s.limit)
			select {
			case <-ctx.Done():
				timer.Stop()
			case <-timer.C:
				return errors.New("hold: no SIGTERM or SIGINT within " + s.limit.String())
			}
		default:
			select {
			case <-ctx.Done():
			case <-time.After(s.pause):
			}
		}
	}
	return nil
}
