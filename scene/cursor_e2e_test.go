package scene_test

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// planeOutput is a headless output with a cursor plane that records
// what the compositor asks of it.
type planeOutput struct {
	*headless.Output
	mu       sync.Mutex
	calls    []string
	img      *render.Image
	presents int
}

func (p *planeOutput) record(s string) {
	p.mu.Lock()
	p.calls = append(p.calls, s)
	p.mu.Unlock()
}

func (p *planeOutput) SetCursor(img *render.Image, hot image.Point) bool {
	p.mu.Lock()
	p.img = img
	p.mu.Unlock()
	p.record(fmt.Sprintf("set %dx%d", img.Width, img.Height))
	return true
}

func (p *planeOutput) MoveCursor(x, y int) bool {
	p.record(fmt.Sprintf("move %d,%d", x, y))
	return true
}

func (p *planeOutput) HideCursor() { p.record("hide") }

func (p *planeOutput) Present(d []image.Rectangle) error {
	p.mu.Lock()
	p.presents++
	p.mu.Unlock()
	return p.Output.Present(d)
}

// waitCall waits for the output to record call.
func (p *planeOutput) waitCall(t *testing.T, call string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, c := range p.calls {
			if c == call {
				p.mu.Unlock()
				return
			}
		}
		p.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("no %q; the output got %q", call, p.calls)
}

func (p *planeOutput) presented() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.presents
}

// TestClientCursorOnThePlane runs input-echo --cursor on an output with
// a cursor plane: its 32x32 magenta cursor goes on the plane, follows
// the pointer there, and pointer motion presents no frame.
func TestClientCursorOnThePlane(t *testing.T) {
	runtime := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := protocol.NewServer(protocol.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	comp := scene.New(scene.Config{Log: log, Server: srv})
	out := &planeOutput{}
	h, err := headless.New(srv.Loop(), "PLANE-1", 640, 480, 60000, render.Normal, func(i present.Info) {
		comp.PresentDone(out, i)
	})
	if err != nil {
		t.Fatal(err)
	}
	out.Output = h
	comp.AddOutput(out)
	if err := srv.Listen("wl-cursor-test"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		comp.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	p := &inProcess{comp: comp, runtime: runtime, display: "wl-cursor-test"}
	p.input(inputevent.DeviceAdded{Header: inputevent.Header{Device: "mouse"}, Caps: inputevent.DeviceCaps{Pointer: true}})

	bin := filepath.Join(t.TempDir(), "input-echo")
	build := exec.Command("go", "build", "-o", bin, "github.com/vitrine-wm/vitrine/examples/input-echo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build input-echo: %v\n%s", err, b)
	}
	cmd := exec.Command(bin, "--cursor")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime, "WAYLAND_DISPLAY="+p.display)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	e := &echo{}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			e.mu.Lock()
			e.lines = append(e.lines, sc.Text())
			e.mu.Unlock()
		}
	}()
	e.waitFor(t, "first-frame 640x480")
	e.waitFor(t, "cursor-set")
	// A pointer that has not moved shows no cursor (HDMI-CEC adapters
	// claim to be pointers); its first motion does.
	time.Sleep(100 * time.Millisecond)
	out.mu.Lock()
	early := slices.Clone(out.calls)
	out.mu.Unlock()
	if len(early) != 0 {
		t.Fatalf("cursor shown before the pointer moved: %q", early)
	}
	p.input(inputevent.PointerMotion{DX: 0, DY: 0}, inputevent.Frame{})
	// The pointer starts in the middle; the hotspot is the top-left.
	out.waitCall(t, "set 32x32")
	out.waitCall(t, "move 320,240")
	out.mu.Lock()
	px := out.img.PixelARGB(16, 16)
	out.mu.Unlock()
	if px != 0xffff00ff {
		t.Fatalf("cursor image pixel = %#08x, want opaque magenta", px)
	}
	time.Sleep(100 * time.Millisecond) // let the client's frames settle
	before := out.presented()
	for i := 1; i <= 5; i++ {
		p.input(inputevent.PointerMotion{DX: 10, DY: 3}, inputevent.Frame{})
	}
	e.waitFor(t, "pointer-motion x=370.00 y=255.00")
	out.waitCall(t, "move 370,255")
	if n := out.presented() - before; n != 0 {
		t.Fatalf("pointer motion presented %d frames with the cursor on the plane", n)
	}
	// A touch hides the cursor.
	p.input(inputevent.DeviceAdded{Header: inputevent.Header{Device: "touch"}, Caps: inputevent.DeviceCaps{Touch: true}},
		inputevent.TouchDown{ID: 1, X: 0.5, Y: 0.5}, inputevent.TouchFrame{})
	out.waitCall(t, "hide")
	e.mu.Lock()
	defer e.mu.Unlock()
	if all := strings.Join(e.lines, "\n"); strings.Contains(all, "error") {
		t.Fatalf("client reported an error:\n%s", all)
	}
}
