package nested

import (
	"context"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// parent is a real vitrine (scene on a headless output) running on a
// loop of its own, the compositor the backend under test is a window of.
type parent struct {
	comp *scene.Compositor
	out  *headless.Output
	path string
	done chan error
}

func startParent(t *testing.T, w, h int) *parent {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	ready := make(chan *parent)
	p := &parent{path: filepath.Join(dir, "parent"), done: make(chan error, 1)}
	go func() {
		runtime.LockOSThread()
		loop, err := eventloop.New()
		if err != nil {
			t.Error(err)
			close(ready)
			return
		}
		defer loop.Close()
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		srv, err := protocol.NewServer(protocol.Options{Log: log, Loop: loop})
		if err != nil {
			t.Error(err)
			close(ready)
			return
		}
		p.comp = scene.New(scene.Config{Log: log, Server: srv})
		// Turned 180°: a headless output shows an upright fullscreen
		// buffer by reference, and the test wants the parent to
		// composite it into the shadow it reads (logical orientation).
		p.out, err = headless.New(loop, "HEADLESS-1", w, h, 60000, render.Rotate180, func(i present.Info) { p.comp.PresentDone(p.out, i) })
		if err != nil {
			t.Error(err)
			close(ready)
			return
		}
		p.comp.AddOutput(p.out)
		p.comp.HandleInput(inputevent.DeviceAdded{Header: inputevent.Header{Device: "kbd"}, Caps: inputevent.DeviceCaps{Keyboard: true}})
		p.comp.HandleInput(inputevent.DeviceAdded{Header: inputevent.Header{Device: "tablet"}, Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}})
		if err := srv.Listen(p.path); err != nil {
			t.Error(err)
			close(ready)
			return
		}
		defer srv.Close()
		ready <- p
		p.done <- p.comp.Run(context.Background())
	}()
	if <-ready == nil {
		t.FailNow()
	}
	t.Cleanup(func() { p.stop() })
	return p
}

// do runs f on the parent's loop and waits for it.
func (p *parent) do(f func()) {
	ran := make(chan struct{})
	p.comp.Post(func() { f(); close(ran) })
	<-ran
}

func (p *parent) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.comp.Post(func() { p.comp.Stop(nil) })
	<-p.done
	p.done <- nil
}

// nestedRig is the backend under test with what it reported.
type nestedRig struct {
	loop    *eventloop.Loop
	b       *Backend
	input   []inputevent.Event
	frames  int
	resized int
	closed  []error
}

func connectNested(t *testing.T, p *parent, w, h int) *nestedRig {
	t.Helper()
	loop, err := eventloop.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loop.Close() })
	r := &nestedRig{loop: loop}
	r.b, err = Connect(Config{
		Loop: loop, Display: p.path, Width: w, Height: h,
		PresentDone: func(*Output, present.Info) { r.frames++ },
		Resized:     func(*Output) { r.resized++ },
		Input:       func(ev inputevent.Event) { r.input = append(r.input, ev) },
		Closed:      func(err error) { r.closed = append(r.closed, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.b.Close() })
	return r
}

// until dispatches the nested loop until ok holds.
func (r *nestedRig) until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if err := r.loop.Dispatch(50 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

// has reports whether an input event like want arrived (time stamps
// aside).
func (r *nestedRig) has(want inputevent.Event) bool {
	for _, ev := range r.input {
		if sameEvent(ev, want) {
			return true
		}
	}
	return false
}

func sameEvent(a, b inputevent.Event) bool {
	switch a := a.(type) {
	case inputevent.PointerAbs:
		b, ok := b.(inputevent.PointerAbs)
		return ok && a.Output == b.Output && abs(a.X-b.X) < 0.01 && abs(a.Y-b.Y) < 0.01
	case inputevent.Button:
		b, ok := b.(inputevent.Button)
		return ok && a.Code == b.Code && a.Pressed == b.Pressed
	case inputevent.Key:
		b, ok := b.(inputevent.Key)
		return ok && a.Code == b.Code && a.Pressed == b.Pressed
	case inputevent.DeviceAdded:
		b, ok := b.(inputevent.DeviceAdded)
		return ok && a.Caps == b.Caps
	}
	return false
}

func abs(x float64) float64 { return max(x, -x) }

// TestWindowFollowsParent: the parent's kiosk layout makes the window
// fill its 640x480 output, so the output is resized from 320x240; the
// parent's input on the window arrives as vitrine's input; a frame
// presented reaches the parent's screen pixel for pixel and completes
// with the parent's frame callback; the parent going away closes the
// backend with an error.
func TestWindowFollowsParent(t *testing.T) {
	p := startParent(t, 640, 480)
	r := connectNested(t, p, 320, 240)
	o := r.b.Outputs()[0]
	// The first configure came during Connect: the output starts at the
	// size the parent gave, not the one asked for.
	if w, h, _ := o.Mode(); w != 640 || h != 480 || o.Shadow().Width != 640 || o.Shadow().Height != 480 {
		t.Fatalf("output is %dx%d (shadow %dx%d) after the parent configured 640x480", w, h, o.Shadow().Width, o.Shadow().Height)
	}
	r.until(t, "the parent's keyboard and pointer", func() bool {
		return r.has(inputevent.DeviceAdded{Caps: inputevent.DeviceCaps{Keyboard: true}}) &&
			r.has(inputevent.DeviceAdded{Caps: inputevent.DeviceCaps{Pointer: true, Tablet: true}})
	})

	// Paint the shadow in four colours and present it whole.
	sh := o.Shadow()
	colours := [4]uint32{0xffff0000, 0xff00ff00, 0xff0000ff, 0xffffffff}
	for i, c := range colours {
		x, y := (i%2)*320, (i/2)*240
		render.Fill(sh, image.Rect(x, y, x+320, y+240), c, image.Rect(0, 0, 640, 480))
	}
	if err := o.Present([]image.Rectangle{image.Rect(0, 0, 640, 480)}); err != nil {
		t.Fatal(err)
	}
	r.until(t, "the parent's frame callback", func() bool { return r.frames == 1 })
	// The parent showed it by the time its callback came; read its
	// screen on its loop.
	var got [4]uint32
	p.do(func() {
		img := p.out.Shadow()
		for i := range colours {
			x, y := (i%2)*320+160, (i/2)*240+120
			off := y*img.Stride + x*4
			got[i] = uint32(img.Pix[off]) | uint32(img.Pix[off+1])<<8 | uint32(img.Pix[off+2])<<16 | 0xff000000
		}
	})
	if got != colours {
		t.Fatalf("parent shows %08x, want %08x", got, colours)
	}
	if n := o.CopiedBytes(); n != 640*480*4 {
		t.Fatalf("copied %d bytes for one full frame, want %d", n, 640*480*4)
	}
	// A small damage copies only itself into the next buffer, plus what
	// that buffer missed: it is new, so the whole frame.
	render.Fill(sh, image.Rect(0, 0, 10, 10), 0xff123456, image.Rect(0, 0, 640, 480))
	if err := o.Present([]image.Rectangle{image.Rect(0, 0, 10, 10)}); err != nil {
		t.Fatal(err)
	}
	r.until(t, "the second frame callback", func() bool { return r.frames == 2 })
	render.Fill(sh, image.Rect(0, 0, 10, 10), 0xff654321, image.Rect(0, 0, 640, 480))
	before := o.CopiedBytes()
	if err := o.Present([]image.Rectangle{image.Rect(0, 0, 10, 10)}); err != nil {
		t.Fatal(err)
	}
	r.until(t, "the third frame callback", func() bool { return r.frames == 3 })
	if n := o.CopiedBytes() - before; n > 2*10*10*4 {
		t.Fatalf("a 10x10 damage copied %d bytes into a buffer that had missed one 10x10 frame", n)
	}

	// Pointer: the parent's tablet at (0.25, 0.75) of its panel, turned
	// 180°, is (0.75, 0.25) of its output and of the window filling it.
	p.do(func() {
		h := inputevent.Header{Device: "tablet"}
		p.comp.HandleInput(inputevent.PointerAbs{Header: h, X: 0.25, Y: 0.75})
		p.comp.HandleInput(inputevent.Frame{Header: h})
		p.comp.HandleInput(inputevent.Button{Header: h, Code: 0x110, Pressed: true})
		p.comp.HandleInput(inputevent.Frame{Header: h})
		p.comp.HandleInput(inputevent.Key{Header: inputevent.Header{Device: "kbd"}, Code: 30, Pressed: true})
	})
	r.until(t, "pointer motion, button and key", func() bool {
		return r.has(inputevent.PointerAbs{X: 0.75, Y: 0.25, Output: "WL-1"}) &&
			r.has(inputevent.Button{Code: 0x110, Pressed: true}) && r.has(inputevent.Key{Code: 30, Pressed: true})
	})

	// The parent's output grows: its layout configures the window, and
	// the output follows.
	p.do(func() {
		if err := p.out.SetMode(scene.Mode{Width: 800, Height: 600}); err != nil {
			t.Error(err)
		}
		p.comp.OutputResized(p.out)
	})
	r.until(t, "the window to be resized with the parent's output", func() bool { return r.resized > 0 })
	if w, h, _ := o.Mode(); w != 800 || h != 600 || o.Shadow().Width != 800 || o.Shadow().Height != 600 {
		t.Fatalf("output is %dx%d (shadow %dx%d) after the parent configured 800x600", w, h, o.Shadow().Width, o.Shadow().Height)
	}
	if err := o.Present([]image.Rectangle{image.Rect(0, 0, 800, 600)}); err != nil {
		t.Fatal(err)
	}
	r.until(t, "a frame at the new size", func() bool { return r.frames == 4 })

	p.stop()
	r.until(t, "the backend to see its parent go", func() bool { return len(r.closed) > 0 })
	if r.closed[0] == nil {
		t.Fatal("the parent going away closed the backend without an error")
	}
	t.Logf("closed: %v", r.closed[0])
}

// TestConnOfFindsTheSocket guards the one reach into the library's
// internals: a version of github.com/neurlang/wayland without the field
// fails here, not at a user's first start.
func TestConnOfFindsTheSocket(t *testing.T) {
	p := startParent(t, 64, 64)
	r := connectNested(t, p, 64, 64)
	c, err := connOf(r.b.ctx)
	if err != nil || c == nil {
		t.Fatalf("connOf: %v", err)
	}
	if r.b.fd <= 2 {
		t.Fatalf("parent connection fd %d", r.b.fd)
	}
}

func TestSocketPath(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_RUNTIME_DIR": dir}
	get := func(k string) string { return env[k] }
	if _, err := SocketPath("", get); err == nil {
		t.Fatal("no WAYLAND_DISPLAY: want an error")
	}
	if _, err := SocketPath("nope", get); err == nil {
		t.Fatal("missing socket: want an error")
	}
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o600)
	if _, err := SocketPath("file", get); err == nil {
		t.Fatal("a regular file: want an error")
	}
	env["XDG_RUNTIME_DIR"] = ""
	if _, err := SocketPath("wayland-0", get); err == nil {
		t.Fatal("no XDG_RUNTIME_DIR: want an error")
	}
}
