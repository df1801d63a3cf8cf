package scene_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// keyA is KEY_A, the key these tests press through the compositor.
const idleKey = 30

// press injects one key press and release through the compositor, as
// a keyboard would.
func (r *rig) press(t *testing.T) {
	t.Helper()
	r.onLoop(t, func() {
		r.comp.HandleInput(inputevent.Key{Code: idleKey, Pressed: true})
		r.comp.HandleInput(inputevent.Key{Code: idleKey, Pressed: false})
	})
}

// lines streams a command's stdout lines.
func startLines(t *testing.T, cmd *exec.Cmd) <-chan string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ch := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

// expectLine waits for want on ch; any other line fails.
func expectLine(t *testing.T, ch <-chan string, want string, within time.Duration) {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("the client exited before printing %q", want)
		}
		if l != want {
			t.Fatalf("the client printed %q, want %q", l, want)
		}
	case <-time.After(within):
		t.Fatalf("no %q within %v", want, within)
	}
}

// noLine fails if ch delivers a line within d.
func noLine(t *testing.T, ch <-chan string, d time.Duration, why string) {
	t.Helper()
	select {
	case l := <-ch:
		t.Fatalf("%s: the client printed %q", why, l)
	case <-time.After(d):
	}
}

// TestSwayidle runs Debian's swayidle on the rig: after a second without
// input it must run its timeout command, and after a key pressed through
// the compositor its resume command. A visible surface with an idle
// inhibitor keeps it from idling; once the inhibitor is destroyed it
// idles again.
func TestSwayidle(t *testing.T) {
	bin, err := exec.LookPath("swayidle")
	if err != nil {
		t.Skip("swayidle is not installed (Debian: swayidle; .ci/install installs it)")
	}
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	cmd := exec.Command(bin, "-w", "timeout", "1", "echo idle", "resume", "echo resumed")
	cmd.Env = append(os.Environ(), "WAYLAND_DISPLAY="+r.socket)
	lines := startLines(t, cmd)
	expectLine(t, lines, "idle", 5*time.Second)
	r.press(t)
	expectLine(t, lines, "resumed", 5*time.Second)

	// A window shown with an inhibitor: no idle while it stays.
	h := r.dial(t)
	w := newWindow(t, h, 64)
	w.draw(t, 0x336699)
	inhibitMgr := w.reg.bind(t, "zwp_idle_inhibit_manager_v1", 1)
	inhibitor := h.NewID()
	must(t, h.Send(inhibitMgr, 1, inhibitor, w.surface))
	must(t, h.Roundtrip(3*time.Second))
	r.press(t) // restart swayidle's second from now
	noLine(t, lines, 2500*time.Millisecond, "an inhibitor on a visible surface")
	must(t, h.Send(inhibitor, 0)) // destroy
	expectLine(t, lines, "idle", 5*time.Second)
	r.press(t)
	expectLine(t, lines, "resumed", 5*time.Second)
}

// idleClient binds ext_idle_notifier_v1 and asks for a notification
// after timeout ms.
func idleClient(t *testing.T, h *protocoltest.Client, timeout uint32) (reg *registry, notification uint32) {
	t.Helper()
	reg = getRegistry(t, h)
	notifier := reg.bind(t, "ext_idle_notifier_v1", 1)
	seat := reg.bind(t, "wl_seat", 1)
	notification = h.NewID()
	must(t, h.Send(notifier, 1, notification, timeout, seat))
	return reg, notification
}

// waitEvent reads until object's event opcode, failing on a protocol
// error or on any event of forbid (0: none).
func waitEvent(t *testing.T, h *protocoltest.Client, object uint32, opcode uint16, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		e, err := h.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for event %d of object %d: %v", opcode, object, err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == object && e.Opcode == opcode {
			return
		}
	}
}

// ext_idle_notification_v1 events.
const (
	idledEvent   = 0
	resumedEvent = 1
)

// TestIdleInhibitorNeedsAVisibleSurface: an inhibitor on a surface that
// is not shown (never mapped, here) does not keep the seat from idling.
func TestIdleInhibitorNeedsAVisibleSurface(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	h := r.dial(t)
	reg := getRegistry(t, h)
	comp := reg.bind(t, "wl_compositor", 4)
	mgr := reg.bind(t, "zwp_idle_inhibit_manager_v1", 1)
	surf := h.NewID()
	must(t, h.Send(comp, 0, surf))
	must(t, h.Send(mgr, 1, h.NewID(), surf))
	_, n := idleClient(t, h, 200)
	waitEvent(t, h, n, idledEvent, 3*time.Second)
}

// TestIdleTimeoutBlanksOutputs: with Config.IdleTimeout the output is
// switched off after that long without input (frames stop: a frame
// callback is not answered), and the next input switches it on again
// (the callback is answered, the window is repainted).
func TestIdleTimeoutBlanksOutputs(t *testing.T) {
	r := startRigConfig(t, 64, 64, 60000, render.Normal, protocol.Options{}, func(c *scene.Config) { c.IdleTimeout = 300 * time.Millisecond })
	h := r.dial(t)
	w := newWindow(t, h, 32)
	w.draw(t, 0x204060)
	waitLog(t, r, `msg="idle: outputs off"`)
	waitLog(t, r, `msg="output power" output=HEADLESS-1 on=false`)
	cb := h.NewID()
	must(t, h.Send(w.surface, 3, cb))
	must(t, h.Send(w.surface, 2, int32(0), int32(0), int32(32), int32(32)))
	must(t, h.Send(w.surface, 6))
	for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); {
		e, err := h.Read(time.Until(deadline))
		if err != nil {
			break
		}
		if e.Object == cb {
			t.Fatal("a frame callback was answered while the output was off")
		}
	}
	r.press(t)
	waitLog(t, r, `msg="output power" output=HEADLESS-1 on=true`)
	waitEvent(t, h, cb, 0, 3*time.Second)
	if err := checkCentred(r.screenshot(t), 32, 0x204060); err != nil {
		t.Fatalf("after waking: %v", err)
	}
	if n := strings.Count(r.log.String(), `msg="idle: outputs off"`); n != 1 {
		t.Fatalf("blanked %d times right after the key, want 1", n)
	}
}

// zwlr_output_power_v1 events and requests.
const (
	powerEvMode   = 0
	powerEvFailed = 1
	powerSetMode  = 0
)

// TestOutputPowerManager switches the output off and on as wlopm does:
// each change is answered with a mode event, and frames stop while the
// output is off.
func TestOutputPowerManager(t *testing.T) {
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
	h := r.dial(t)
	w := newWindow(t, h, 32)
	w.draw(t, 0x405060)
	mgr := w.reg.bind(t, "zwlr_output_power_manager_v1", 1)
	out := w.reg.bind(t, "wl_output", 4)
	power := h.NewID()
	must(t, h.Send(mgr, 0, power, out))
	mode := func(want uint32) {
		t.Helper()
		for {
			e, err := h.Read(3 * time.Second)
			if err != nil {
				t.Fatalf("waiting for mode %d: %v", want, err)
			}
			if e.Object == 1 && e.Opcode == 0 {
				t.Fatalf("protocol error: %s", e.String(2))
			}
			if e.Object == power && e.Opcode == powerEvMode {
				if e.Uint(0) != want {
					t.Fatalf("mode %d, want %d", e.Uint(0), want)
				}
				return
			}
			if e.Object == power && e.Opcode == powerEvFailed {
				t.Fatal("failed")
			}
		}
	}
	mode(1)
	must(t, h.Send(power, powerSetMode, uint32(0)))
	mode(0)
	waitLog(t, r, `msg="output power" output=HEADLESS-1 on=false`)
	// Input does not undo a client's off (swayidle's resume command
	// does, through the same request).
	r.press(t)
	must(t, h.Send(power, powerSetMode, uint32(1)))
	mode(1)
	w.draw(t, 0x605040)
	if err := checkCentred(r.screenshot(t), 32, 0x605040); err != nil {
		t.Fatalf("after switching on: %v", err)
	}
}

// TestOutputPowerPrivileged: zwlr_output_power_manager_v1 blanks every
// screen, so only privileged clients see it.
func TestOutputPowerPrivileged(t *testing.T) {
	r := startRigConfig(t, 64, 64, 60000, render.Normal, protocol.Options{}, func(c *scene.Config) {
		c.Privileged = func(*protocol.Client) bool { return false }
	})
	reg := getRegistry(t, r.dial(t))
	if _, ok := reg.globals["zwlr_output_power_manager_v1"]; ok {
		t.Fatal("an unprivileged client sees zwlr_output_power_manager_v1")
	}
	for _, g := range []string{"ext_idle_notifier_v1", "zwp_idle_inhibit_manager_v1"} {
		if _, ok := reg.globals[g]; !ok {
			t.Errorf("no %s for an ordinary client", g)
		}
	}
}
