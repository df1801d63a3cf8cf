package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// debugClient starts a client with WAYLAND_DEBUG=1, so a test can wait
// for what it sent and was sent (wl_keyboard bound, enter received).
func (c *compositor) debugClient(name string, args ...string) (*exec.Cmd, *lineWaiter) {
	c.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display, "WAYLAND_DEBUG=1")
	out := newLineWaiter()
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

// TestWtypeTypesIntoFoot: wtype's virtual keyboard, with its own
// keymap, types a line into the shell of a focused foot. It fails if
// the keymap is not passed on (foot types other characters or none),
// if the keys do not reach the focused client, or if the seat never
// gets a keyboard.
func TestWtypeTypesIntoFoot(t *testing.T) {
	need(t, "foot", "wtype")
	c := startVitrine(t, "--output", "640x480")
	out := filepath.Join(t.TempDir(), "typed")
	_, foot := c.debugClient("foot", "--", "sh", "-c", `read line; printf '%s' "$line" > `+out)
	foot.wait(t, `xdg_toplevel@\d+\.configure`, 10*time.Second)
	// Until a virtual keyboard exists the seat has no keyboard; this
	// first one makes it appear, and foot binds one.
	c.run("wtype", "-k", "Shift_L")
	foot.wait(t, `wl_keyboard@\d+\.enter`, 5*time.Second)
	c.run("wtype", "héllo wörld")
	c.run("wtype", "-k", "Return")
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(out)
		if err == nil && len(b) > 0 {
			if got := string(b); got != "héllo wörld" {
				t.Fatalf("foot's shell read %q, want %q", got, "héllo wörld")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing typed reached foot's shell within 5 s; vitrine log:\n%s", lastLines(c.log(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
