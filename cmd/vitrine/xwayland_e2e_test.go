package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

// The X11 tests run real xterm through vitrine's Xwayland (Debian's
// Xwayland 22) and judge grim's pixels, vitrine's log and /proc.

// needXwayland skips without Xwayland or xterm on a developer machine
// (CI installs them).
func needXwayland(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"Xwayland", "xterm", "grim"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (CI must install it: see .ci/install)", tool)
			}
			t.Skipf("%s is not installed: apt-get install xwayland xterm grim", tool)
		}
	}
}

// waitLog waits until vitrine's log has a line matching re.
func (c *compositor) waitLog(t *testing.T, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		if m := rx.FindStringSubmatch(c.log()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line matching %q in vitrine's log within %v:\n%s", re, timeout, c.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// xDisplay is the DISPLAY vitrine logged.
func (c *compositor) xDisplay(t *testing.T) string {
	t.Helper()
	return c.waitLog(t, `X11 display ready.* DISPLAY=(:\d+)`, 5*time.Second)[1]
}

// xClient starts an X11 client on vitrine's display.
func (c *compositor) xClient(t *testing.T, display, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "XDG_RUNTIME_DIR="+c.runtime)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// xwaylandPIDs lists the Xwayland processes serving display (from
// /proc, not from vitrine's word).
func xwaylandPIDs(display string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 1 && filepath.Base(args[0]) == "Xwayland" && args[1] == display {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
				if st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil && !strings.Contains(string(st), ") Z ") {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}

// waitXwayland waits until the number of Xwayland processes for display
// is want (0 or 1) and returns their pids.
func waitXwayland(t *testing.T, display string, running bool, timeout time.Duration) []int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		pids := xwaylandPIDs(display)
		if (len(pids) > 0) == running {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("Xwayland for %s: running=%v after %v, want %v (pids %v)", display, len(pids) > 0, timeout, running, pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redShare is the fraction of img that is pure red.
func redShare(img image.Image) float64 {
	b := img.Bounds()
	red := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if rgb(img.At(x, y)) == [3]uint8{0xff, 0, 0} {
				red++
			}
		}
	}
	return float64(red) / float64(b.Dx()*b.Dy())
}

// waitRed takes screenshots until more than share of the output is red.
func (c *compositor) waitRed(t *testing.T, share float64, timeout time.Duration) float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := redShare(c.screenshot())
		if got > share {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("red covers %.1f %% of the output after %v, want more than %.0f %%", 100*got, timeout, 100*share)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// redXterm is an xterm with a red background whose shell sets the
// window title at run time (OSC 2), as shells and editors do.
func redXterm(t *testing.T, c *compositor, display, title string) *exec.Cmd {
	return c.xClient(t, display, "xterm", "-bg", "#ff0000", "-fg", "#ff0000", "-e", "sh", "-c", fmt.Sprintf(`printf '\033]2;%s\007'; exec sleep 60`, title))
}

// TestXwaylandKioskXterm: no Xwayland until the first X client; xterm
// fills the kiosk output; its run-time title reaches vitrine; once it
// exits Xwayland goes away. Fails if Xwayland starts eagerly, the
// window is not shown or not fullscreen (red under 95 %), the title is
// not read, or Xwayland outlives its last client.
func TestXwaylandKioskXterm(t *testing.T) {
	needXwayland(t)
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	time.Sleep(200 * time.Millisecond)
	if pids := xwaylandPIDs(display); len(pids) > 0 {
		t.Fatalf("Xwayland runs (pids %v) before any X client connected", pids)
	}
	xterm := redXterm(t, c, display, "vitrine-x11-title")
	waitXwayland(t, display, true, 5*time.Second)
	c.waitLog(t, `X11 window shown`, 10*time.Second)
	share := c.waitRed(t, 0.95, 10*time.Second)
	t.Logf("red covers %.1f %% of the output", 100*share)
	c.waitLog(t, `X11 window title.* title=vitrine-x11-title`, 5*time.Second)

	xterm.Process.Kill()
	xterm.Wait()
	waitXwayland(t, display, false, 10*time.Second)
	c.waitLog(t, `no X11 clients left; stopping Xwayland`, time.Second)
	if strings.Contains(c.log(), "panic") {
		t.Fatalf("vitrine panicked:\n%s", c.log())
	}
}

// TestXwaylandCrashRestarts: killing Xwayland mid-session leaves vitrine
// and a Wayland client running (the client's pattern is on screen
// again), and the next X client gets a new Xwayland. Fails if vitrine
// exits, the Wayland client dies or stops being drawn, or no second
// Xwayland serves the second xterm.
func TestXwaylandCrashRestarts(t *testing.T) {
	needXwayland(t)
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	wl, _ := c.client("shm-client", "--pattern", "quadrants", "--fullscreen")
	redXterm(t, c, display, "first")
	first := waitXwayland(t, display, true, 5*time.Second)
	c.waitRed(t, 0.95, 10*time.Second)

	if err := syscall.Kill(first[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.waitLog(t, `Xwayland stopped`, 5*time.Second)
	waitXwayland(t, display, false, 5*time.Second)
	select {
	case <-c.done:
		t.Fatalf("vitrine exited when Xwayland was killed:\n%s", c.log())
	default:
	}
	// The Wayland client is alive and drawn where xterm was.
	deadline := time.Now().Add(5 * time.Second)
	for redShare(c.screenshot()) > 0.5 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	checkQuadrants(t, c.screenshot())
	if wl.ProcessState != nil || syscall.Kill(wl.Process.Pid, 0) != nil {
		t.Fatal("the Wayland client died with Xwayland")
	}

	redXterm(t, c, display, "second")
	second := waitXwayland(t, display, true, 5*time.Second)
	if second[0] == first[0] {
		t.Fatalf("the second X client got the killed Xwayland's pid %d", first[0])
	}
	c.waitLog(t, `Xwayland started.* start=2`, 5*time.Second)
	c.waitRed(t, 0.95, 10*time.Second)
}

// TestHostileXwaylandSurfaceID: an X client forges WL_SURFACE_ID client
// messages (any X client can send them to the root): for a window that
// does not exist, for xterm's window, which already has its surface, and
// for an unmapped window of its own, with every small id (no object,
// objects that are not surfaces, surfaces of other windows). vitrine
// must refuse each, stay up, keep xterm on screen and keep serving a
// second client (grim still gets frames). The scene's own checks (a
// surface with a role, an object that is no surface) are
// TestHostileX11SurfaceID in package scene.
func TestHostileXwaylandSurfaceID(t *testing.T) {
	needXwayland(t)
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	redXterm(t, c, display, "victim")
	m := c.waitLog(t, `X11 window shown.* window=(\d+)`, 10*time.Second)
	victim, _ := strconv.Atoi(m[1])
	c.waitRed(t, 0.95, 10*time.Second)

	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("connect to %s: %v", display, err)
	}
	defer x.Close()
	atom, err := xproto.InternAtom(x, false, uint16(len("WL_SURFACE_ID")), "WL_SURFACE_ID").Reply()
	if err != nil {
		t.Fatal(err)
	}
	screen := xproto.Setup(x).DefaultScreen(x)
	own, _ := xproto.NewWindowId(x)
	// Unmapped: Xwayland gives it no surface of its own.
	xproto.CreateWindow(x, 0, own, screen.Root, 0, 0, 50, 50, 0, xproto.WindowClassInputOutput, screen.RootVisual, 0, nil)
	forge := func(win xproto.Window, id uint32) {
		ev := xproto.ClientMessageEvent{Format: 32, Window: win, Type: atom.Atom, Data: xproto.ClientMessageDataUnionData32New([]uint32{id, 0, 0, 0, 0})}
		xproto.SendEvent(x, false, screen.Root, xproto.EventMaskSubstructureRedirect, string(ev.Bytes()))
	}
	forge(0x7fffffff, 5)
	for id := uint32(0); id < 300; id++ {
		forge(xproto.Window(victim), id)
		forge(own, id)
	}
	forge(own, 0xffffffff)
	if _, err := xproto.GetInputFocus(x).Reply(); err != nil { // all delivered
		t.Fatal(err)
	}
	c.waitLog(t, `WL_SURFACE_ID for an unknown X window`, 5*time.Second)
	c.waitLog(t, `WL_SURFACE_ID for a window that already has a surface`, 5*time.Second)
	c.waitLog(t, `WL_SURFACE_ID for a window that is not mapped`, 5*time.Second)
	select {
	case <-c.done:
		t.Fatalf("vitrine exited:\n%s", c.log())
	default:
	}
	// Still up, xterm still shown, and grim (a second client) still
	// gets frames.
	c.waitRed(t, 0.95, 5*time.Second)
	if n := strings.Count(c.log(), "WL_SURFACE_ID"); n > 10 {
		t.Errorf("%d log lines about forged WL_SURFACE_IDs: a forger can flood the log", n)
	}
	if strings.Contains(c.log(), "panic") {
		t.Fatalf("vitrine panicked:\n%s", c.log())
	}
}

// xConn connects the test itself as an X client.
func xConn(t *testing.T, display string) (*xgb.Conn, *xproto.ScreenInfo) {
	t.Helper()
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("connect to %s: %v", display, err)
	}
	t.Cleanup(x.Close)
	return x, xproto.Setup(x).DefaultScreen(x)
}

func internAtom(t *testing.T, x *xgb.Conn, name string) xproto.Atom {
	t.Helper()
	r, err := xproto.InternAtom(x, false, uint16(len(name)), name).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return r.Atom
}

// netCloseWindow sends EWMH's _NET_CLOSE_WINDOW for win, as a pager or
// taskbar does.
func netCloseWindow(t *testing.T, x *xgb.Conn, root, win xproto.Window) {
	t.Helper()
	ev := xproto.ClientMessageEvent{Format: 32, Window: win, Type: internAtom(t, x, "_NET_CLOSE_WINDOW"),
		Data: xproto.ClientMessageDataUnionData32New([]uint32{0, 2, 0, 0, 0})}
	xproto.SendEvent(x, false, root, xproto.EventMaskSubstructureRedirect|xproto.EventMaskSubstructureNotify, string(ev.Bytes()))
	xproto.GetInputFocus(x).Reply() // delivered
}

// TestXwaylandOverrideRedirectAndClose: an override-redirect window (a
// menu) is shown at its X position above xterm; _NET_CLOSE_WINDOW closes
// xterm through WM_DELETE_WINDOW, and kills the client of a window that
// does not speak it. Fails if the menu is missing, misplaced or below
// xterm, if xterm does not exit, or if the other client is not killed.
func TestXwaylandOverrideRedirectAndClose(t *testing.T) {
	needXwayland(t)
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	xterm := redXterm(t, c, display, "closable")
	m := c.waitLog(t, `X11 window shown.* window=(\d+)`, 10*time.Second)
	xtermWin, _ := strconv.Atoi(m[1])
	c.waitRed(t, 0.95, 10*time.Second)

	x, screen := xConn(t, display)
	menu, _ := xproto.NewWindowId(x)
	menuAt := image.Rect(100, 80, 160, 120)
	green := [3]uint8{0, 0xff, 0}
	xproto.CreateWindow(x, screen.RootDepth, menu, screen.Root, int16(menuAt.Min.X), int16(menuAt.Min.Y), uint16(menuAt.Dx()), uint16(menuAt.Dy()), 0,
		xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect, []uint32{0x00ff00, 1})
	xproto.MapWindow(x, menu)
	deadline := time.Now().Add(5 * time.Second)
	for {
		img := c.screenshot()
		inside, outside := rgb(img.At(menuAt.Min.X+5, menuAt.Min.Y+5)), rgb(img.At(menuAt.Max.X+5, menuAt.Min.Y+5))
		corner, past := rgb(img.At(menuAt.Max.X-1, menuAt.Max.Y-1)), rgb(img.At(menuAt.Max.X, menuAt.Max.Y))
		if inside == green && corner == green && outside == [3]uint8{0xff, 0, 0} && past == [3]uint8{0xff, 0, 0} {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("override-redirect window at %v: inside %v corner %v, beside %v past %v; want green inside, red beside", menuAt, inside, corner, outside, past)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// xterm speaks WM_DELETE_WINDOW and exits.
	exited := make(chan struct{})
	go func() { xterm.Wait(); close(exited) }()
	netCloseWindow(t, x, screen.Root, xproto.Window(xtermWin))
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("xterm did not close on _NET_CLOSE_WINDOW:\n%s", c.log())
	}

	// A window without WM_DELETE_WINDOW in WM_PROTOCOLS: its client is
	// killed.
	plain, _ := xproto.NewWindowId(x)
	xproto.CreateWindow(x, screen.RootDepth, plain, screen.Root, 0, 0, 100, 100, 0, xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixel, []uint32{0x0000ff})
	xproto.MapWindow(x, plain)
	c.waitLog(t, fmt.Sprintf(`X11 window shown.* window=%d `, plain), 5*time.Second)
	killed := make(chan struct{})
	go func() {
		for {
			if ev, err := x.WaitForEvent(); ev == nil && err == nil {
				close(killed)
				return
			}
		}
	}()
	netCloseWindow(t, x, screen.Root, plain)
	select {
	case <-killed:
	case <-time.After(5 * time.Second):
		t.Fatal("the client of a window without WM_DELETE_WINDOW was not killed on _NET_CLOSE_WINDOW")
	}
}

// TestXwaylandSelections: text an X client owns as CLIPBOARD or PRIMARY
// pastes in Wayland (wl-paste, both selections), and text copied in
// Wayland (wl-copy) converts for an X client. Fails if either direction
// gives anything but the exact text.
func TestXwaylandSelections(t *testing.T) {
	needXwayland(t)
	need(t, "wl-copy", "wl-paste")
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	x, screen := xConn(t, display)
	utf8 := internAtom(t, x, "UTF8_STRING")
	targets := internAtom(t, x, "TARGETS")
	clipboard := internAtom(t, x, "CLIPBOARD")
	prop := internAtom(t, x, "VITRINE_TEST")
	win, _ := xproto.NewWindowId(x)
	xproto.CreateWindow(x, 0, win, screen.Root, 0, 0, 1, 1, 0, xproto.WindowClassInputOnly, screen.RootVisual, 0, nil)

	// The X side: owns both selections and converts them on request.
	texts := map[xproto.Atom]string{clipboard: "copied in X11: ünïcode ✓", xproto.AtomPrimary: "primary from X11"}
	notified := make(chan xproto.SelectionNotifyEvent, 4)
	go func() {
		for {
			ev, err := x.WaitForEvent()
			if ev == nil && err == nil {
				return
			}
			switch e := ev.(type) {
			case xproto.SelectionRequestEvent:
				reply := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: e.Property}
				switch e.Target {
				case utf8:
					s := texts[e.Selection]
					xproto.ChangeProperty(x, xproto.PropModeReplace, e.Requestor, e.Property, utf8, 8, uint32(len(s)), []byte(s))
				case targets:
					buf := make([]byte, 8)
					xgb.Put32(buf, uint32(targets))
					xgb.Put32(buf[4:], uint32(utf8))
					xproto.ChangeProperty(x, xproto.PropModeReplace, e.Requestor, e.Property, xproto.AtomAtom, 32, 2, buf)
				default:
					reply.Property = 0
				}
				xproto.SendEvent(x, false, e.Requestor, xproto.EventMaskNoEvent, string(reply.Bytes()))
			case xproto.SelectionNotifyEvent:
				notified <- e
			}
		}
	}()
	xproto.SetSelectionOwner(x, win, clipboard, xproto.TimeCurrentTime)
	xproto.SetSelectionOwner(x, win, xproto.AtomPrimary, xproto.TimeCurrentTime)
	xproto.GetInputFocus(x).Reply()

	paste := func(args ...string) string {
		deadline := time.Now().Add(5 * time.Second)
		for {
			cmd := exec.Command("wl-paste", append([]string{"--no-newline"}, args...)...)
			cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
			cmd.WaitDelay = time.Second
			out, err := cmd.Output()
			if err == nil && len(out) > 0 || time.Now().After(deadline) {
				return string(out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if got := paste(); got != texts[clipboard] {
		t.Errorf("wl-paste of X11's CLIPBOARD = %q, want %q", got, texts[clipboard])
	}
	if got := paste("--primary"); got != texts[xproto.AtomPrimary] {
		t.Errorf("wl-paste --primary of X11's PRIMARY = %q, want %q", got, texts[xproto.AtomPrimary])
	}

	// The Wayland side copies; X converts.
	const fromWayland = "copied in Wayland: ✓ ok"
	// In the foreground, so that it is this test's child to stop.
	cp := exec.Command("wl-copy", "--foreground", fromWayland)
	cp.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
	if err := cp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cp.Process.Kill(); cp.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := xproto.GetSelectionOwner(x, clipboard).Reply()
		if err == nil && r.Owner != win && r.Owner != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("X11's CLIPBOARD did not change owner after wl-copy:\n%s", c.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	xproto.ConvertSelection(x, win, clipboard, utf8, prop, xproto.TimeCurrentTime)
	select {
	case e := <-notified:
		if e.Property == 0 {
			t.Fatalf("the conversion of the Wayland clipboard was refused:\n%s", c.log())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no SelectionNotify for the Wayland clipboard:\n%s", c.log())
	}
	r, err := xproto.GetProperty(x, true, win, prop, xproto.GetPropertyTypeAny, 0, 1<<16).Reply()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Value); got != fromWayland {
		t.Errorf("X11 conversion of the Wayland clipboard = %q, want %q", got, fromWayland)
	}
}

// TestXtermClipboardBothWays: text xterm copies (OSC 52, which xterm
// turns into owning CLIPBOARD) pastes in Wayland (wl-paste), and text
// copied in Wayland (wl-copy) is what xterm pastes (an OSC 52 query
// answered from CLIPBOARD, read by a script in a second xterm). Fails if
// either direction gives anything but the exact text.
func TestXtermClipboardBothWays(t *testing.T) {
	needXwayland(t)
	need(t, "wl-copy", "wl-paste", "python3")
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	const fromXterm, toXterm = "copied in xterm ✓", "pasted in xterm ✓"
	set := base64.StdEncoding.EncodeToString([]byte(fromXterm))
	c.xClient(t, display, "xterm", "-xrm", "XTerm*allowWindowOps: true", "-e", "sh", "-c", `printf '\033]52;c;`+set+`\007'; exec sleep 60`)
	c.waitLog(t, `X11 window shown`, 10*time.Second)
	wlEnv := append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
	paste := func(want string) string {
		deadline := time.Now().Add(5 * time.Second)
		for {
			cmd := exec.Command("wl-paste", "--no-newline")
			cmd.Env, cmd.WaitDelay = wlEnv, time.Second
			out, _ := cmd.Output()
			if string(out) == want || time.Now().After(deadline) {
				return string(out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if got := paste(fromXterm); got != fromXterm {
		t.Fatalf("wl-paste after xterm copied = %q, want %q", got, fromXterm)
	}

	cp := exec.Command("wl-copy", "--foreground", toXterm)
	cp.Env = wlEnv
	if err := cp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cp.Process.Kill(); cp.Wait() }()
	if got := paste(toXterm); got != toXterm {
		t.Fatalf("wl-paste after wl-copy = %q, want %q", got, toXterm)
	}
	out := filepath.Join(t.TempDir(), "pasted")
	script, _ := filepath.Abs("testdata/osc52-read.py")
	reader := c.xClient(t, display, "xterm", "-xrm", "XTerm*allowWindowOps: true", "-e", "python3", script, out)
	exited := make(chan error, 1)
	go func() { exited <- reader.Wait() }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("xterm's OSC 52 query got no answer within 10 s:\n%s", c.log())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("xterm's clipboard reader wrote nothing: %v", err)
	}
	if got := string(b); got != toXterm {
		t.Fatalf("xterm pasted %q, want %q", got, toXterm)
	}
}

// TestXwaylandKioskSplashCentred: in the kiosk layout an ordinary X
// window fills the output, and a splash screen (_NET_WM_WINDOW_TYPE)
// keeps its own size, centred above it. Fails if the splash is
// stretched or misplaced, or the ordinary window does not fill.
func TestXwaylandKioskSplashCentred(t *testing.T) {
	needXwayland(t)
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	x, screen := xConn(t, display)
	window := func(pixel uint32, w, h int, types ...xproto.Atom) xproto.Window {
		id, _ := xproto.NewWindowId(x)
		xproto.CreateWindow(x, screen.RootDepth, id, screen.Root, 0, 0, uint16(w), uint16(h), 0, xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixel, []uint32{pixel})
		if len(types) > 0 {
			buf := make([]byte, 4*len(types))
			for i, a := range types {
				xgb.Put32(buf[4*i:], uint32(a))
			}
			xproto.ChangeProperty(x, xproto.PropModeReplace, id, internAtom(t, x, "_NET_WM_WINDOW_TYPE"), xproto.AtomAtom, 32, uint32(len(types)), buf)
		}
		xproto.MapWindow(x, id)
		return id
	}
	green, blue := [3]uint8{0, 0xff, 0}, [3]uint8{0, 0, 0xff}
	main := window(0x00ff00, 300, 200)
	c.waitLog(t, fmt.Sprintf(`X11 window shown.* window=%d `, main), 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		img := c.screenshot()
		if rgb(img.At(0, 0)) == green && rgb(img.At(639, 479)) == green {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ordinary X window does not fill the output: corners %v %v", rgb(img.At(0, 0)), rgb(img.At(639, 479)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	window(0x0000ff, 200, 100, internAtom(t, x, "_NET_WM_WINDOW_TYPE_SPLASH"))
	want := image.Rect(220, 190, 420, 290) // 200x100 centred on 640x480
	deadline = time.Now().Add(5 * time.Second)
	for {
		img := c.screenshot()
		ok := rgb(img.At(want.Min.X, want.Min.Y)) == blue && rgb(img.At(want.Max.X-1, want.Max.Y-1)) == blue &&
			rgb(img.At(want.Min.X-1, want.Min.Y)) == green && rgb(img.At(want.Max.X, want.Max.Y-1)) == green &&
			rgb(img.At(want.Min.X, want.Min.Y-1)) == green && rgb(img.At(want.Min.X, want.Max.Y)) == green
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("splash not shown at %v over the filling window: corners %v %v, outside %v %v\n%s", want,
				rgb(img.At(want.Min.X, want.Min.Y)), rgb(img.At(want.Max.X-1, want.Max.Y-1)), rgb(img.At(want.Min.X-1, want.Min.Y)), rgb(img.At(want.Max.X, want.Max.Y-1)), c.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestXtermPointerSelectsPrimary: a virtual pointer's double-click
// reaches xterm through Xwayland's wl_pointer at the right place (the X
// window's position agrees with where vitrine shows it), xterm selects
// the word under it as PRIMARY, and a Wayland client pastes it. Fails
// if pointer events do not reach X, land elsewhere (another word or
// none), or the selection does not cross.
func TestXtermPointerSelectsPrimary(t *testing.T) {
	needXwayland(t)
	need(t, "wl-paste")
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	// Word two starts at column 9; xterm's default font here is the
	// 6x13 "fixed", with a 2 pixel border.
	c.xClient(t, display, "xterm", "-bg", "#ff0000", "-e", "sh", "-c", `printf 'firstword SELECTED last\n'; exec sleep 60`)
	c.waitLog(t, `X11 window shown`, 10*time.Second)
	c.waitRed(t, 0.9, 10*time.Second)

	h, err := protocoltest.Dial(c.socketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	g, reg, err := h.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mgr := bind(h, g, reg, "zwlr_virtual_pointer_manager_v1", 2)
	ptr := h.NewID()
	h.Send(mgr, 0, uint32(0), ptr) // create_virtual_pointer(seat: null)
	const motionAbsolute, button, frame = 1, 2, 4
	const btnLeft = 0x110
	x, y := 2+12*6+3, 2+6 // inside "SELECTED"
	ms := uint32(1000)
	doubleClick := func() {
		for _, at := range [][2]int{{300, 300}, {x, y}} {
			ms += 20
			h.Send(ptr, motionAbsolute, ms, uint32(at[0]), uint32(at[1]), uint32(640), uint32(480))
			h.Send(ptr, frame)
		}
		for range 2 {
			ms += 40
			h.Send(ptr, button, ms, uint32(btnLeft), uint32(1))
			h.Send(ptr, frame)
			ms += 40
			h.Send(ptr, button, ms, uint32(btnLeft), uint32(0))
			h.Send(ptr, frame)
		}
		if err := h.Roundtrip(3 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// The first virtual pointer gives the seat a pointer, which
	// Xwayland binds once it hears of it: until then clicks are lost,
	// so the double-click is repeated (it selects the same word).
	deadline := time.Now().Add(10 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		doubleClick()
		for range 5 {
			cmd := exec.Command("wl-paste", "--primary", "--no-newline")
			cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
			cmd.WaitDelay = time.Second
			out, _ := cmd.Output()
			if got = string(out); got == "SELECTED" {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Fatalf("wl-paste --primary after a double-click on xterm's word = %q, want %q\n%s", got, "SELECTED", c.log())
}

// TestXwaylandKioskTransientDialog: an X window with WM_TRANSIENT_FOR
// is a dialog: its own size, centred above the window it belongs to,
// which fills the output. Fails if the dialog fills, is misplaced, or
// is hidden below its parent.
func TestXwaylandKioskTransientDialog(t *testing.T) {
	needXwayland(t)
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	x, screen := xConn(t, display)
	create := func(pixel uint32, w, h int) xproto.Window {
		id, _ := xproto.NewWindowId(x)
		xproto.CreateWindow(x, screen.RootDepth, id, screen.Root, 0, 0, uint16(w), uint16(h), 0, xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixel, []uint32{pixel})
		return id
	}
	parent := create(0x00ff00, 300, 200)
	xproto.MapWindow(x, parent)
	c.waitLog(t, fmt.Sprintf(`X11 window shown.* window=%d `, parent), 5*time.Second)
	dialog := create(0xff00ff, 120, 80)
	buf := make([]byte, 4)
	xgb.Put32(buf, uint32(parent))
	xproto.ChangeProperty(x, xproto.PropModeReplace, dialog, xproto.AtomWmTransientFor, xproto.AtomWindow, 32, 1, buf)
	xproto.MapWindow(x, dialog)
	green, magenta := [3]uint8{0, 0xff, 0}, [3]uint8{0xff, 0, 0xff}
	want := image.Rect(260, 200, 380, 280)
	deadline := time.Now().Add(5 * time.Second)
	for {
		img := c.screenshot()
		in1, in2 := rgb(img.At(want.Min.X, want.Min.Y)), rgb(img.At(want.Max.X-1, want.Max.Y-1))
		out1, out2, corner := rgb(img.At(want.Min.X-1, want.Min.Y)), rgb(img.At(want.Max.X, want.Max.Y)), rgb(img.At(0, 0))
		if in1 == magenta && in2 == magenta && out1 == green && out2 == green && corner == green {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dialog not at %v above its filling parent: inside %v %v, outside %v %v, corner %v\n%s", want, in1, in2, out1, out2, corner, c.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestXtermMenuBesidePointer: Ctrl and a left click (a virtual keyboard
// with vitrine's US keymap and a virtual pointer) open xterm's Main
// Options menu, an override-redirect window, which must show where X
// put it: beside the pointer, above xterm. Fails if the modifier or the
// click does not reach X, or the menu is missing or far from the
// pointer.
func TestXtermMenuBesidePointer(t *testing.T) {
	for _, layout := range []string{"kiosk", "desktop"} {
		t.Run(layout, func(t *testing.T) { xtermMenuBesidePointer(t, layout) })
	}
}

func xtermMenuBesidePointer(t *testing.T, layout string) {
	needXwayland(t)
	c := startVitrine(t, "--layout", layout, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	// Red text on red for the terminal only: its menus keep their
	// own colours.
	c.xClient(t, display, "xterm", "-xrm", "XTerm*VT100.background: #ff0000", "-xrm", "XTerm*VT100.foreground: #ff0000", "-e", "sleep", "60")
	c.waitLog(t, `X11 window shown`, 10*time.Second)
	share := 0.95
	if layout == "desktop" {
		share = 0.45 // xterm's own 484x316, centred
	}
	c.waitRed(t, share, 10*time.Second)
	before := c.screenshot()

	h, kb, ptr := virtualInput(t, c)
	const keyLeftCtrl, btnLeft, ctrlMask = 29, 0x110, 4
	at := image.Pt(300, 250)
	ms := uint32(1000)
	press := func(down bool) {
		state := uint32(0)
		if down {
			state = 1
		}
		ms += 30
		if down {
			h.Send(kb, vkKey, ms, uint32(keyLeftCtrl), state)
			h.Send(kb, vkModifiers, uint32(ctrlMask), uint32(0), uint32(0), uint32(0))
			h.Send(ptr, vpMotionAbsolute, ms, uint32(at.X-50), uint32(at.Y-50), uint32(640), uint32(480))
			h.Send(ptr, vpFrame)
			h.Send(ptr, vpMotionAbsolute, ms+10, uint32(at.X), uint32(at.Y), uint32(640), uint32(480))
			h.Send(ptr, vpFrame)
		}
		h.Send(ptr, vpButton, ms+20, uint32(btnLeft), state)
		h.Send(ptr, vpFrame)
		if !down {
			h.Send(kb, vkModifiers, uint32(0), uint32(0), uint32(0), uint32(0))
			h.Send(kb, vkKey, ms+30, uint32(keyLeftCtrl), state)
		}
		if err := h.Roundtrip(3 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Xwayland binds the seat's new keyboard and pointer once it hears
	// of them; presses before that are lost, so they are repeated.
	deadline := time.Now().Add(15 * time.Second)
	for {
		press(true)
		var menu image.Rectangle
		for range 5 {
			time.Sleep(100 * time.Millisecond)
			// The pointer's cursor changes pixels too; a menu is larger.
			menu = changed(before, c.screenshot(), image.Rect(0, 30, 640, 480))
			if menu.Dx() >= 40 && menu.Dy() >= 40 {
				break
			}
		}
		press(false)
		if menu.Dx() >= 40 && menu.Dy() >= 40 {
			t.Logf("menu at %v, pointer at %v", menu, at)
			near := menu.Inset(-24)
			if !at.In(near) || menu.Dx() > 400 {
				t.Fatalf("xterm's menu at %v, want a menu-sized window beside the pointer at %v", menu, at)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no menu appeared on Ctrl+click within 15 s:\n%s", c.log())
		}
	}
}

// Requests of the virtual keyboard and pointer the tests send raw.
const (
	vkKey, vkModifiers                  = 1, 2
	vpMotionAbsolute, vpButton, vpFrame = 1, 2, 4
)

// virtualInput connects a client with a virtual keyboard that has
// vitrine's full US keymap (a minimal one, as wtype's, makes xterm fail
// in GetKeyboardMapping) and a virtual pointer.
func virtualInput(t *testing.T, c *compositor) (h *protocoltest.Client, kb, ptr uint32) {
	t.Helper()
	h, err := protocoltest.Dial(c.socketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	g, reg, err := h.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seat := bind(h, g, reg, "wl_seat", 1)
	kb = h.NewID()
	h.Send(bind(h, g, reg, "zwp_virtual_keyboard_manager_v1", 1), 0, seat, kb)
	f, size, err := xkb.USKeymap().File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h.SendFDs([]int{int(f.Fd())}, kb, 0, uint32(1), uint32(size))
	ptr = h.NewID()
	h.Send(bind(h, g, reg, "zwlr_virtual_pointer_manager_v1", 2), 0, seat, ptr)
	if err := h.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	return h, kb, ptr
}

// changed is the bounding box of the pixels within r that differ
// between two screenshots.
func changed(before, after image.Image, r image.Rectangle) image.Rectangle {
	var box image.Rectangle
	r = r.Intersect(after.Bounds()).Intersect(before.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgb(after.At(x, y)) != rgb(before.At(x, y)) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

// TestXwaylandDesktopSuperDragMovesXterm: Super+drag in the desktop
// layout moves an X window like a Wayland one, and the X window moves
// with it (X's geometry follows the screen). Fails if the grab ends at
// once for a window without an xdg_toplevel, or X is not told.
func TestXwaylandDesktopSuperDragMovesXterm(t *testing.T) {
	needXwayland(t)
	c := startVitrine(t, "--layout", "desktop", "--output", "1280x720@60", "--xwayland", "on")
	display := c.xDisplay(t)
	c.xClient(t, display, "xterm", "-bg", "#ff0000", "-fg", "#ff0000", "-e", "sleep", "60")
	m := c.waitLog(t, `X11 window shown.* window=(\d+)`, 10*time.Second)
	win, _ := strconv.Atoi(m[1])
	x, _ := xConn(t, display)
	geometry := func() image.Point {
		g, err := xproto.GetGeometry(x, xproto.Drawable(win)).Reply()
		if err != nil {
			t.Fatal(err)
		}
		return image.Pt(int(g.X), int(g.Y))
	}
	deadline := time.Now().Add(5 * time.Second)
	for redShare(c.screenshot()) < 0.1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	start := geometry()
	h, kb, ptr := virtualInput(t, c)
	const keySuperL, btnLeft, superMask = 125, 0x110, 64 // Mod4
	ms := uint32(1000)
	move := func(p image.Point) {
		ms += 20
		h.Send(ptr, vpMotionAbsolute, ms, uint32(p.X), uint32(p.Y), uint32(1280), uint32(720))
		h.Send(ptr, vpFrame)
	}
	from := start.Add(image.Pt(100, 100))
	move(from)
	h.Send(kb, vkKey, ms, uint32(keySuperL), uint32(1))
	h.Send(kb, vkModifiers, uint32(superMask), uint32(0), uint32(0), uint32(0))
	h.Send(ptr, vpButton, ms, uint32(btnLeft), uint32(1))
	h.Send(ptr, vpFrame)
	for i := 1; i <= 5; i++ {
		move(from.Add(image.Pt(20*i, 10*i)))
	}
	h.Send(ptr, vpButton, ms+20, uint32(btnLeft), uint32(0))
	h.Send(ptr, vpFrame)
	h.Send(kb, vkModifiers, uint32(0), uint32(0), uint32(0), uint32(0))
	h.Send(kb, vkKey, ms+30, uint32(keySuperL), uint32(0))
	if err := h.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := start.Add(image.Pt(100, 50))
	deadline = time.Now().Add(5 * time.Second)
	for geometry() != want {
		if time.Now().After(deadline) {
			t.Fatalf("X puts xterm at %v after a Super+drag by (100,50) from %v, want %v\n%s", geometry(), start, want, c.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	img := c.screenshot()
	if rgb(img.At(want.X+5, want.Y+5)) != [3]uint8{0xff, 0, 0} || rgb(img.At(start.X+5, start.Y+5)) == [3]uint8{0xff, 0, 0} {
		t.Fatalf("the screen does not show xterm moved to %v from %v", want, start)
	}
}

// TestXwaylandDesktopBesideFoot: in the desktop layout xterm and foot
// are floating windows, both visible, and the X window's position (as X
// clients see it) is where vitrine draws it. Fails if either window is
// hidden, xterm is stretched to the output, or X's idea of its place
// differs from the screen.
func TestXwaylandDesktopBesideFoot(t *testing.T) {
	needXwayland(t)
	need(t, "foot")
	c := startVitrine(t, "--layout", "desktop", "--output", "1280x720@60", "--xwayland", "on")
	display := c.xDisplay(t)
	c.xClient(t, display, "xterm", "-bg", "#ff0000", "-fg", "#ff0000", "-e", "sleep", "60")
	m := c.waitLog(t, `X11 window shown.* window=(\d+)`, 10*time.Second)
	win, _ := strconv.Atoi(m[1])
	c.client("foot", "-o", "colors.background=0000ff", "sleep", "60")
	blue := [3]uint8{0, 0, 0xff}
	var red, blues int
	var redBox image.Rectangle
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := c.screenshot()
		red, blues, redBox = 0, 0, image.Rectangle{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				switch rgb(img.At(x, y)) {
				case [3]uint8{0xff, 0, 0}:
					red++
					redBox = redBox.Union(image.Rect(x, y, x+1, y+1))
				case blue:
					blues++
				}
			}
		}
		if red > 5000 && blues > 50000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %d red (xterm) and %d blue (foot) pixels, want both windows visible\n%s", red, blues, c.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("xterm's red at %v (%d px), foot's blue %d px", redBox, red, blues)
	if redBox.Dx() >= 1280 || redBox.Dy() >= 720 {
		t.Fatalf("xterm covers %v: stretched to the output in the desktop layout", redBox)
	}
	x, _ := xConn(t, display)
	g, err := xproto.GetGeometry(x, xproto.Drawable(win)).Reply()
	if err != nil {
		t.Fatal(err)
	}
	if at := image.Pt(int(g.X), int(g.Y)); at != redBox.Min {
		t.Fatalf("X puts xterm at %v, the screen shows it at %v", at, redBox.Min)
	}
}

// TestXtermCopyPastesInFoot: text xterm puts on the X CLIPBOARD (with
// OSC 52, as a program in it would) is pasted into foot with
// Ctrl+Shift+V; foot's shell reads exactly that line. Fails if the X
// selection does not reach the Wayland clipboard, or foot, which gets
// the selection when it takes the keyboard, is not offered it.
func TestXtermCopyPastesInFoot(t *testing.T) {
	needXwayland(t)
	need(t, "foot", "wl-paste")
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	const text = "copied in xterm, pasted in foot"
	set := base64.StdEncoding.EncodeToString([]byte(text))
	c.xClient(t, display, "xterm", "-xrm", "XTerm*allowWindowOps: true", "-e", "sh", "-c", `printf '\033]52;c;`+set+`\007'; exec sleep 60`)
	c.waitLog(t, `X11 window shown`, 10*time.Second)
	// The bridge takes the selection from X asynchronously: wait until
	// a Wayland client can read it before starting foot.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd := exec.Command("wl-paste", "--no-newline")
		cmd.Env, cmd.WaitDelay = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display), time.Second
		if out, _ := cmd.Output(); string(out) == text {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("xterm's copy never reached the Wayland clipboard; vitrine log:\n%s", lastLines(c.log(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The terminal in raw mode and head reading exactly the text's
	// bytes: the paste arrives whenever the bridge has fetched it from X,
	// and no Return may race it (a line read would end empty).
	out := filepath.Join(t.TempDir(), "pasted")
	script := fmt.Sprintf("stty raw -echo; head -c %d > %s", len(text), out)
	_, foot := c.debugClient("foot", "--", "sh", "-c", script)
	foot.wait(t, `xdg_toplevel@\d+\.configure`, 10*time.Second)
	// Keys through a virtual keyboard with vitrine's own full keymap, not
	// wtype's: Xwayland takes the keymap of the keys it is sent, and
	// xterm dies (BadValue in GetKeyboardMapping) on wtype's tiny one.
	h, kb, _ := virtualInput(t, c)
	foot.wait(t, `wl_keyboard@\d+\.enter`, 5*time.Second)
	const keyLeftCtrl, keyLeftShift, keyV = 29, 42, 47
	const shiftMask, ctrlMask = 1, 4
	ms := uint32(1000)
	key := func(code, state uint32) {
		ms += 10
		h.Send(kb, vkKey, ms, code, state)
	}
	key(keyLeftCtrl, 1)
	key(keyLeftShift, 1)
	h.Send(kb, vkModifiers, uint32(ctrlMask|shiftMask), uint32(0), uint32(0), uint32(0))
	key(keyV, 1)
	key(keyV, 0)
	key(keyLeftShift, 0)
	key(keyLeftCtrl, 0)
	h.Send(kb, vkModifiers, uint32(0), uint32(0), uint32(0), uint32(0))
	if err := h.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if len(b) >= len(text) {
			if got := string(b); got != text {
				t.Fatalf("foot's shell read %q, want %q", got, text)
			}
			return
		}
		if time.Now().After(deadline) {
			var offers []string
			foot.mu.Lock()
			lines := slices.Clone(foot.lines)
			foot.mu.Unlock()
			for _, l := range lines {
				if strings.Contains(l, "data_offer") || strings.Contains(l, "data_device") || strings.Contains(l, "keyboard") {
					offers = append(offers, l)
				}
			}
			t.Fatalf("foot's shell read %q within 10 s, want %q; foot's data device:\n%s\nvitrine log:\n%s", b, text, strings.Join(offers, "\n"), lastLines(c.log(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestXtermSurvivesWtypeIntoFoot: wtype types into foot while an xterm
// waits behind it. wtype's keymap is tiny; sent to every client, it
// reached Xwayland, which re-mapped the X keyboard, and xterm died
// (BadValue in GetKeyboardMapping). Only the client the keys go to
// gets a virtual keyboard's keymap, so xterm lives on.
func TestXtermSurvivesWtypeIntoFoot(t *testing.T) {
	needXwayland(t)
	need(t, "foot", "wtype")
	c := startVitrine(t, "--output", "640x480@60", "--xwayland", "on")
	display := c.xDisplay(t)
	xterm := c.xClient(t, display, "xterm", "-e", "sleep", "60")
	c.waitLog(t, `X11 window shown`, 10*time.Second)
	_, foot := c.debugClient("foot", "--", "sleep", "60")
	foot.wait(t, `xdg_toplevel@\d+\.configure`, 10*time.Second)
	// Typed before foot has mapped (it is slow to under load), the keys
	// and wtype's keymap go to xterm, which has the focus until then:
	// wait for foot's surface to be shown, which gives it the focus.
	foot.wait(t, `wl_surface@\d+\.enter\(wl_output`, 10*time.Second)
	for range 3 {
		c.run("wtype", "-M", "ctrl", "-k", "v", "-m", "ctrl")
	}
	foot.wait(t, `wl_keyboard@\d+\.key`, 5*time.Second)
	time.Sleep(time.Second) // xterm died within a few ms of the keymap
	if err := xterm.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("xterm is gone after wtype typed into foot: %v\n%s", err, lastLines(c.log(), 20))
	}
	if strings.Contains(c.log(), "no X11 clients left") {
		t.Fatalf("Xwayland was stopped (its X client died) after wtype typed into foot:\n%s", lastLines(c.log(), 20))
	}
}
