package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neurlang/wayland/wl"

	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/westontest"
)

func TestMain(m *testing.M) {
	if os.Getenv(westontest.RunMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestEventLines(t *testing.T) {
	cases := []struct{ got, want string }{
		{formatKey(wl.KeyboardKeyEvent{Key: 30, State: 1}), "key code=30 state=pressed"},
		{formatKey(wl.KeyboardKeyEvent{Key: 30, State: 0}), "key code=30 state=released"},
		{formatKey(wl.KeyboardKeyEvent{Key: 1, State: 2}), "key code=1 state=repeated"},
		{formatModifiers(wl.KeyboardModifiersEvent{ModsDepressed: 1, ModsLatched: 2, ModsLocked: 16, Group: 1}), "modifiers depressed=1 latched=2 locked=16 group=1"},
		{formatMotion(wl.PointerMotionEvent{SurfaceX: 12.5, SurfaceY: 40}), "pointer-motion x=12.50 y=40.00"},
		{formatMotion(wl.PointerMotionEvent{SurfaceX: float32(wl.FixedToFloat(wl.FloatToFixed(1919.99609375))), SurfaceY: 0.25}), "pointer-motion x=1920.00 y=0.25"},
		{formatButton(wl.PointerButtonEvent{Button: 272, State: 1}), "button code=272 state=pressed"},
		{formatButton(wl.PointerButtonEvent{Button: 273, State: 0}), "button code=273 state=released"},
		{formatAxis(wl.PointerAxisEvent{Axis: 0, Value: 10}), "axis axis=vertical value=10.00"},
		{formatAxis(wl.PointerAxisEvent{Axis: 1, Value: -15}), "axis axis=horizontal value=-15.00"},
		{formatTouchDown(wl.TouchDownEvent{Id: 0, X: 100, Y: 50.5}), "touch-down id=0 x=100.00 y=50.50"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestHandlersPrint drives the handlers directly, as the dispatcher would.
func TestHandlersPrint(t *testing.T) {
	var buf bytes.Buffer
	e := &echo{out: report.NewLines(&buf), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.HandlePointerEnter(wl.PointerEnterEvent{SurfaceX: 1, SurfaceY: 2})
	e.HandlePointerFrame(wl.PointerFrameEvent{})
	e.HandleKeyboardEnter(wl.KeyboardEnterEvent{Keys: []int32{30, 31}})
	e.HandleKeyboardKeymap(wl.KeyboardKeymapEvent{Format: 1, Size: 4096, FdError: os.ErrInvalid})
	e.HandleTouchUp(wl.TouchUpEvent{Id: 3})
	e.HandleTouchFrame(wl.TouchFrameEvent{})
	e.HandlePointerAxisSource(wl.PointerAxisSourceEvent{AxisSource: 0})
	e.HandlePointerAxisDiscrete(wl.PointerAxisDiscreteEvent{Axis: 0, Discrete: -1})
	want := strings.Join([]string{
		"pointer-enter x=1.00 y=2.00",
		"frame",
		"keyboard-enter keys=30,31",
		"keymap format=1 size=4096",
		"touch-up id=3",
		"touch-frame",
		"axis-source source=wheel",
		"axis-discrete axis=vertical steps=-1",
	}, "\n") + "\n"
	if buf.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestFullscreenWithoutSeat runs against headless weston, which has no
// wl_seat: input-echo must say so and still show its fullscreen surface.
func TestFullscreenWithoutSeat(t *testing.T) {
	const w, h = 200, 100
	wst := westontest.Start(t, w, h)
	c := westontest.Run(t, wst.Env(), "--seconds", "2")
	c.WaitLine(t, "no-seat", 10*time.Second)
	if got := c.WaitLine(t, "first-frame", 10*time.Second); got != "first-frame 200x100" {
		t.Fatalf("got %q, want first-frame 200x100", got)
	}
	var msg string
	for try := 0; try < 10; try++ {
		img := wst.Screenshot(t)
		if msg = westontest.Mismatch(img, func(x, y int) uint32 { return background }); msg == "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if msg != "" {
		t.Fatalf("screen is not solid #%06x: %s", background, msg)
	}
	if err := c.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
