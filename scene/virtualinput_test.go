package scene_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
)

// Requests of virtual-keyboard and wlr-virtual-pointer, spoken raw.
const (
	vkManagerCreate = 0
	vkKeymap        = 0
	vkKey           = 1
	vkModifiers     = 2

	vpManagerCreate = 0
	vpMotionAbs     = 1
	vpButton        = 2
	vpAxis          = 3
	vpFrame         = 4
	vpAxisSource    = 5
)

// Events of wl_seat, wl_keyboard and wl_pointer the tests read.
const (
	seatCapabilities = 0
	keyboardKeymap   = 0
	keyboardEnter    = 1
	keyboardKey      = 3
	keyboardMods     = 4
	pointerEnter     = 0
	pointerButton    = 3
)

// A keymap in wtype's style: keycode 9 (evdev 1) is "x", 10 is Tab.
const tinyKeymap = `xkb_keymap {
xkb_keycodes "(unnamed)" { minimum = 8; maximum = 11; <K1> = 9; <K2> = 10; };
xkb_types "(unnamed)" { include "complete" };
xkb_compatibility "(unnamed)" { include "complete" };
xkb_symbols "(unnamed)" { key <K1> {[x]}; key <K2> {[Tab]}; };
};
`

// keymapFD is a memfd holding text and its NUL, and its size.
func keymapFD(t *testing.T, hs *hostileRig, text string) (int, uint32) {
	t.Helper()
	fd := hs.memfd(t, 0)
	b := append([]byte(text), 0)
	if _, err := unix.Pwrite(fd, b, 0); err != nil {
		t.Fatal(err)
	}
	return fd, uint32(len(b))
}

// virtualKeyboard binds the manager and a seat and makes a keyboard.
func virtualKeyboard(t *testing.T, h *protocoltest.Client) uint32 {
	t.Helper()
	reg := getRegistry(t, h)
	mgr := reg.bind(t, "zwp_virtual_keyboard_manager_v1", 1)
	seat := reg.bind(t, "wl_seat", 7)
	kb := h.NewID()
	must(t, h.Send(mgr, vkManagerCreate, seat, kb))
	return kb
}

func virtualPointer(t *testing.T, h *protocoltest.Client) uint32 {
	t.Helper()
	reg := getRegistry(t, h)
	mgr := reg.bind(t, "zwlr_virtual_pointer_manager_v1", 2)
	p := h.NewID()
	must(t, h.Send(mgr, vpManagerCreate, uint32(0), p))
	return p
}

func TestHostileVirtualKeyboardKeymapPipe(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "not a file"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		var p [2]int
		must(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
		hs.hold(p[0], p[1])
		must(t, h.SendFDs([]int{p[0]}, kb, vkKeymap, uint32(1), uint32(100)))
		return kb
	})
}

func TestHostileVirtualKeyboardKeymapSizePastItsFile(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "size says"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		fd, size := keymapFD(t, hs, tinyKeymap)
		// Mapping this much of a shorter file would fault on access.
		must(t, h.SendFDs([]int{fd}, kb, vkKeymap, uint32(1), size+1<<20))
		return kb
	})
}

func TestHostileVirtualKeyboardKeymapHuge(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "not between 1 and"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		fd := hs.memfd(t, 1<<30)
		must(t, h.SendFDs([]int{fd}, kb, vkKeymap, uint32(1), uint32(1<<30)))
		return kb
	})
}

func TestHostileVirtualKeyboardKeymapFormat(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "only xkb_v1"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		fd, size := keymapFD(t, hs, tinyKeymap)
		must(t, h.SendFDs([]int{fd}, kb, vkKeymap, uint32(7), size))
		return kb
	})
}

func TestHostileVirtualKeyboardKeymapGarbage(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "not a compiled XKB keymap"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		fd, size := keymapFD(t, hs, strings.Repeat("\xff garbage {", 1000))
		must(t, h.SendFDs([]int{fd}, kb, vkKeymap, uint32(1), size))
		return kb
	})
}

func TestHostileVirtualKeyboardKeyBeforeKeymap(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "key before a keymap"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		must(t, h.Send(kb, vkKey, uint32(0), uint32(1), uint32(1)))
		return kb
	})
}

func TestHostileVirtualKeyboardModifiersBeforeKeymap(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "modifiers before a keymap"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		must(t, h.Send(kb, vkModifiers, uint32(4), uint32(0), uint32(0), uint32(0)))
		return kb
	})
}

func TestHostileVirtualKeyboardHoldsEveryKey(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrNoMemory, msg: "keys held at once"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		fd, size := keymapFD(t, hs, tinyKeymap)
		must(t, h.SendFDs([]int{fd}, kb, vkKeymap, uint32(1), size))
		var batch []byte
		for key := range uint32(1000) {
			batch = append(batch, protocoltest.Message(kb, vkKey, uint32(0), key, uint32(1))...)
		}
		h.Write(batch)
		return kb
	})
}

func TestHostileVirtualKeyboardBadKeyStateAndDisconnectWhileHolding(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		kb := virtualKeyboard(t, h)
		fd, size := keymapFD(t, hs, tinyKeymap)
		must(t, h.SendFDs([]int{fd}, kb, vkKeymap, uint32(1), size))
		// Not a key state: dropped, not forwarded.
		must(t, h.Send(kb, vkKey, uint32(0), uint32(1), uint32(7)))
		// Held when the client goes: released for whoever had them.
		must(t, h.Send(kb, vkKey, uint32(0), uint32(2), uint32(1)))
		return 0
	})
}

func TestHostileVirtualPointerInvalidAxis(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 0, msg: "neither vertical"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := virtualPointer(t, h)
		must(t, h.Send(p, vpAxis, uint32(0), uint32(5), int32(10*256)))
		return p
	})
}

func TestHostileVirtualPointerInvalidAxisSource(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "not a wl_pointer.axis_source"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := virtualPointer(t, h)
		must(t, h.Send(p, vpAxisSource, uint32(99)))
		return p
	})
}

func TestHostileVirtualPointerZeroExtentAndStuckButton(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := virtualPointer(t, h)
		// A zero extent would divide by zero; huge coordinates land on
		// the edge.
		must(t, h.Send(p, vpMotionAbs, uint32(0), uint32(5), uint32(5), uint32(0), uint32(0)))
		must(t, h.Send(p, vpMotionAbs, uint32(0), ^uint32(0), ^uint32(0), uint32(1), uint32(1)))
		// A press that is never released, twice, and a state that is
		// none: the client leaves holding the button.
		must(t, h.Send(p, vpButton, uint32(0), uint32(0x110), uint32(1)))
		must(t, h.Send(p, vpButton, uint32(0), uint32(0x110), uint32(1)))
		must(t, h.Send(p, vpButton, uint32(0), uint32(0x111), uint32(9)))
		must(t, h.Send(p, vpFrame))
		return 0
	})
}

// TestVirtualInputOnlyForPrivilegedClients: the globals that let a
// client type into others are hidden from the rest.
func TestVirtualInputOnlyForPrivilegedClients(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	srv, err := protocol.NewServer(protocol.Options{})
	if err != nil {
		t.Fatal(err)
	}
	comp := scene.New(scene.Config{Server: srv, Privileged: func(*protocol.Client) bool { return false }})
	if err := srv.Listen("wl-unpriv"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); comp.Run(ctx) }()
	defer func() { cancel(); <-done; srv.Close() }()
	h, err := protocoltest.Dial(dir + "/wl-unpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	g, _, err := h.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g["wl_seat"]; !ok {
		t.Fatalf("no wl_seat among %v: the listing is wrong, not the filter", g)
	}
	for _, iface := range []string{"zwp_virtual_keyboard_manager_v1", "zwlr_virtual_pointer_manager_v1"} {
		if _, ok := g[iface]; ok {
			t.Errorf("%s offered to an unprivileged client", iface)
		}
	}
}

// TestVirtualInputReachesFocusedClient: keys of a virtual keyboard come
// with its own keymap, which clients get before the keys and lose again
// (for the seat's) when it goes, releasing what it held; a virtual
// pointer's absolute motion and buttons reach the window under it.
func TestVirtualInputReachesFocusedClient(t *testing.T) {
	p := startInProcess(t, 640, 480, render.Normal)
	e := startEcho(t, p)
	e.waitFor(t, "first-frame 640x480")

	hs := &hostileRig{}
	h, err := protocoltest.Dial(filepath.Join(p.runtime, p.display))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	kb := virtualKeyboard(t, h)
	ptr := virtualPointer(t, h)
	must(t, h.Roundtrip(3*time.Second))
	e.waitFor(t, "capabilities pointer=true keyboard=true touch=false")
	usSize := keymapSize(e)
	e.waitFor(t, "keyboard-enter keys=")

	fd, size := keymapFD(t, hs, tinyKeymap)
	defer unix.Close(fd)
	must(t, h.SendFDs([]int{fd}, kb, vkKeymap, uint32(1), size))
	must(t, h.Send(kb, vkModifiers, uint32(1), uint32(0), uint32(0), uint32(0)))
	must(t, h.Send(kb, vkKey, uint32(5), uint32(1), uint32(1)))
	must(t, h.Send(ptr, vpMotionAbs, uint32(6), uint32(1), uint32(3), uint32(4), uint32(4)))
	must(t, h.Send(ptr, vpFrame))
	must(t, h.Send(ptr, vpButton, uint32(7), uint32(0x110), uint32(1)))
	must(t, h.Send(ptr, vpFrame))
	must(t, h.Roundtrip(3*time.Second))
	e.waitFor(t, fmt.Sprintf("keymap format=1 size=%d", size))
	e.waitFor(t, "modifiers depressed=1 latched=0 locked=0 group=0")
	e.waitFor(t, "key code=1 state=pressed")
	e.waitFor(t, "pointer-motion x=160.00 y=360.00")
	e.waitFor(t, "button code=272 state=pressed")
	e.waitFor(t, "repeat-info rate=25 delay=600")

	// Scrolling: a touchpad's (finger) source and a wheel detent's
	// high-resolution value come through.
	const vpAxisDiscrete = 7
	must(t, h.Send(ptr, vpAxisSource, uint32(1)))
	must(t, h.Send(ptr, vpAxis, uint32(8), uint32(0), int32(640))) // 2.5 in fixed
	must(t, h.Send(ptr, vpFrame))
	must(t, h.Send(ptr, vpAxisDiscrete, uint32(9), uint32(1), int32(15*256), int32(-2)))
	must(t, h.Send(ptr, vpFrame))
	must(t, h.Roundtrip(3*time.Second))
	e.waitFor(t, "axis-source source=finger")
	e.waitFor(t, "axis axis=vertical value=2.50")
	e.waitFor(t, "axis-value120 axis=horizontal value120=-240")

	h.Close()
	e.waitFor(t, "key code=1 state=released")
	e.waitFor(t, "modifiers depressed=0 latched=0 locked=0 group=0")
	e.waitForCount(t, "keymap format=1 size="+usSize, 2)
}

// waitForCount waits until input-echo printed want n times.
func (e *echo) waitForCount(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		e.mu.Lock()
		got = 0
		for _, l := range e.lines {
			if l == want {
				got++
			}
		}
		e.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("input-echo printed %q %d times, want %d", want, got, n)
}
