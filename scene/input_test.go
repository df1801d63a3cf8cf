package scene_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// inProcess runs a compositor with one headless output in the test
// process, so tests can feed it input events directly.
type inProcess struct {
	comp    *scene.Compositor
	out     *headless.Output // the first output
	runtime string
	display string
}

func startInProcess(t *testing.T, w, h int, rot render.Transform) *inProcess {
	t.Helper()
	r := startRig(t, w, h, 60000, rot, protocol.Options{})
	return &inProcess{comp: r.comp, out: r.out, runtime: filepath.Dir(r.socket), display: filepath.Base(r.socket)}
}

// echo is input-echo's output, line by line.
type echo struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
}

func (e *echo) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for _, l := range e.lines {
			if l == want {
				e.mu.Unlock()
				return
			}
		}
		e.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t.Fatalf("input-echo never printed %q; it printed:\n%s", want, strings.Join(e.lines, "\n"))
}

func startEcho(t *testing.T, p *inProcess) *echo {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "input-echo")
	build := exec.Command("go", "build", "-o", bin, "github.com/vitrine-wm/vitrine/examples/input-echo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build input-echo: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+p.runtime, "WAYLAND_DISPLAY="+p.display)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	e := &echo{cmd: cmd}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			e.mu.Lock()
			e.lines = append(e.lines, sc.Text())
			e.mu.Unlock()
		}
	}()
	return e
}

func (p *inProcess) input(evs ...inputevent.Event) {
	for _, ev := range evs {
		p.comp.Post(func() { p.comp.HandleInput(ev) })
	}
}

func TestInputReachesFocusedClient(t *testing.T) {
	p := startInProcess(t, 640, 480, render.Normal)
	p.input(
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "kbd"}, Caps: inputevent.DeviceCaps{Keyboard: true}},
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "tablet"}, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}},
		inputevent.DeviceAdded{Header: inputevent.Header{Device: "touch"}, Caps: inputevent.DeviceCaps{Touch: true}},
	)
	e := startEcho(t, p)
	e.waitFor(t, "first-frame 640x480")
	e.waitFor(t, "capabilities pointer=true keyboard=true touch=true")
	e.waitFor(t, "keymap format=1 size="+keymapSize(e))
	e.waitFor(t, "keyboard-enter keys=")

	const keyA, keyLeftShift = 30, 42
	p.input(
		inputevent.Key{Code: keyLeftShift, Pressed: true},
		inputevent.Key{Code: keyA, Pressed: true},
		inputevent.Key{Code: keyA, Pressed: false},
		inputevent.Key{Code: keyLeftShift, Pressed: false},
	)
	e.waitFor(t, "key code=42 state=pressed")
	e.waitFor(t, "modifiers depressed=1 latched=0 locked=0 group=0")
	e.waitFor(t, "key code=30 state=pressed")
	e.waitFor(t, "key code=30 state=released")
	e.waitFor(t, "modifiers depressed=0 latched=0 locked=0 group=0")

	// The pointer starts in the middle of the output, over the
	// fullscreen client; an absolute pointer at 25%/50% moves it.
	e.waitFor(t, "pointer-enter x=320.00 y=240.00")
	p.input(inputevent.PointerAbs{X: 0.25, Y: 0.5}, inputevent.Frame{}, inputevent.Button{Code: 0x110, Pressed: true}, inputevent.Frame{})
	e.waitFor(t, "pointer-motion x=160.00 y=240.00")
	e.waitFor(t, "button code=272 state=pressed")
	p.input(inputevent.PointerMotion{DX: 10, DY: -5}, inputevent.Frame{})
	e.waitFor(t, "pointer-motion x=170.00 y=235.00")

	p.input(inputevent.TouchDown{ID: 3, X: 0.5, Y: 0.25}, inputevent.TouchFrame{}, inputevent.TouchUp{ID: 3}, inputevent.TouchFrame{})
	e.waitFor(t, "touch-down id=3 x=320.00 y=120.00")
	e.waitFor(t, "touch-up id=3")
	e.waitFor(t, "touch-frame")
}

func TestInputFollowsOutputRotation(t *testing.T) {
	// A 640x480 panel shown rotated: clients see a 480x640 output. The
	// panel's top-right corner region maps into the logical image by the
	// inverse of the output transform.
	p := startInProcess(t, 640, 480, render.Rotate90)
	p.input(inputevent.DeviceAdded{Header: inputevent.Header{Device: "touch"}, Caps: inputevent.DeviceCaps{Touch: true}})
	e := startEcho(t, p)
	e.waitFor(t, "first-frame 480x640")
	// Panel point (0.75, 0.25) of 640x480 is (480, 120). Rotate90 maps
	// logical (x, y) to panel (y, lw-x) with lw = 480, so logical
	// x = 480-120 = 360, y = 480.
	p.input(inputevent.TouchDown{ID: 1, X: 0.75, Y: 0.25}, inputevent.TouchFrame{})
	e.waitFor(t, "touch-down id=1 x=360.00 y=480.00")
}

// keymapSize is whatever size input-echo saw; the line's presence is
// the check, the size is the built-in keymap's and varies with it.
func keymapSize(e *echo) string {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for _, l := range e.lines {
			if s, ok := strings.CutPrefix(l, "keymap format=1 size="); ok {
				e.mu.Unlock()
				return s
			}
		}
		e.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return "?"
}

func (e *echo) count(line string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, l := range e.lines {
		if l == line {
			n++
		}
	}
	return n
}

func TestBindingKeysStayWithVitrine(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	switched := make(chan int, 1)
	p.comp.Post(func() {
		p.comp.ConfigureInput(scene.InputConfig{SwitchVT: func(vt int) error { switched <- vt; return nil }})
	})
	p.input(inputevent.DeviceAdded{Header: inputevent.Header{Device: "kbd"}, Caps: inputevent.DeviceCaps{Keyboard: true}})
	e := startEcho(t, p)
	e.waitFor(t, "keyboard-enter keys=")
	const ctrl, alt, f2, a = 29, 56, 60, 30
	p.input(inputevent.Key{Code: ctrl, Pressed: true}, inputevent.Key{Code: alt, Pressed: true},
		inputevent.Key{Code: f2, Pressed: true}, inputevent.Key{Code: f2}, inputevent.Key{Code: alt}, inputevent.Key{Code: ctrl},
		inputevent.Key{Code: a, Pressed: true})
	e.waitFor(t, "key code=30 state=pressed")
	select {
	case vt := <-switched:
		if vt != 2 {
			t.Fatalf("Ctrl+Alt+F2 switched to VT %d", vt)
		}
	default:
		t.Fatal("Ctrl+Alt+F2 did not switch VT")
	}
	if n := e.count("key code=60 state=pressed") + e.count("key code=60 state=released"); n != 0 {
		t.Fatalf("the client saw the F2 of a binding %d times", n)
	}
	e.waitFor(t, "key code=29 state=released")
}

func TestCapabilitiesSurviveSessionPause(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	kbd := inputevent.Header{Device: "/dev/input/event0"}
	p.input(inputevent.DeviceAdded{Header: kbd, Caps: inputevent.DeviceCaps{Keyboard: true}})
	e := startEcho(t, p)
	const with, without = "capabilities pointer=false keyboard=true touch=false", "capabilities pointer=false keyboard=false touch=false"
	e.waitFor(t, with)
	// A VT switch closes and reopens the device: clients see nothing.
	p.input(inputevent.DeviceRemoved{Header: kbd, Caps: inputevent.DeviceCaps{Keyboard: true}, Paused: true},
		inputevent.DeviceAdded{Header: kbd, Caps: inputevent.DeviceCaps{Keyboard: true}}, inputevent.DevicesRescanned{})
	// Unplugging it is news.
	p.input(inputevent.DeviceRemoved{Header: kbd, Caps: inputevent.DeviceCaps{Keyboard: true}})
	e.waitFor(t, without)
	if n := e.count(with); n != 1 {
		t.Fatalf("capabilities with a keyboard announced %d times, want once", n)
	}
	// A device paused and then missing after the rescan was unplugged
	// meanwhile.
	p.input(inputevent.DeviceAdded{Header: kbd, Caps: inputevent.DeviceCaps{Keyboard: true}},
		inputevent.DeviceRemoved{Header: kbd, Caps: inputevent.DeviceCaps{Keyboard: true}, Paused: true}, inputevent.DevicesRescanned{})
	deadline := time.Now().Add(5 * time.Second)
	for e.count(without) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("a device gone after a pause still counts")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutputsComeAndGo(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	h, g, reg := p.dial(t)
	if _, ok := g["wl_output"]; !ok {
		t.Fatal("no wl_output for the first output")
	}
	second := p.addOutput(t, "HEADLESS-2", 640, 480)
	added := waitRegistry(t, h, reg, 0)
	if added.String(1) != "wl_output" {
		t.Fatalf("hotplug announced %q, want wl_output", added.String(1))
	}
	p.comp.Post(func() { p.comp.RemoveOutput(second) })
	removed := waitRegistry(t, h, reg, 1)
	if removed.Uint(0) != added.Uint(0) {
		t.Fatalf("global_remove for name %d, want the added %d", removed.Uint(0), added.Uint(0))
	}
	if err := h.Roundtrip(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// dial connects a raw client to p and reads the globals: by interface,
// and the registry's id.
func (p *inProcess) dial(t *testing.T) (*protocoltest.Client, map[string][2]uint32, uint32) {
	t.Helper()
	h, err := protocoltest.Dial(filepath.Join(p.runtime, p.display))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	g, reg, err := h.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return h, g, reg
}

// addOutput plugs another headless output into p.
func (p *inProcess) addOutput(t *testing.T, name string, w, h int) *headless.Output {
	t.Helper()
	var o *headless.Output
	o, err := headless.New(p.comp.Loop(), name, w, h, 60000, render.Normal, func(i present.Info) {
		p.comp.PresentDone(o, i)
	})
	if err != nil {
		t.Fatal(err)
	}
	p.comp.Post(func() { p.comp.AddOutput(o) })
	return o
}

// bind binds the global name as iface at version and returns the new id.
func bind(h *protocoltest.Client, reg, name uint32, iface string, version uint32) uint32 {
	id := h.NewID()
	h.Send(reg, 0, name, iface, version, id)
	return id
}

func waitRegistry(t *testing.T, h *protocoltest.Client, reg uint32, opcode uint16) protocoltest.Event {
	t.Helper()
	for {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for registry event %d: %v", opcode, err)
		}
		if e.Object == reg && e.Opcode == opcode {
			return e
		}
	}
}
