package main

import (
	"image"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// wlrRandr runs wlr-randr against c and returns what it printed and
// whether it exited 0.
func (c *compositor) wlrRandr(args ...string) (string, bool) {
	c.t.Helper()
	cmd := exec.Command("wlr-randr", args...)
	cmd.Env = append(cmd.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
	out, err := cmd.CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		c.t.Fatalf("wlr-randr %v: %v", args, err)
	}
	return string(out), err == nil
}

// wantListing checks that wlr-randr's listing has every line of want.
func wantListing(t *testing.T, listing string, want ...string) {
	t.Helper()
	lines := map[string]bool{}
	for _, l := range strings.Split(listing, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("wlr-randr lacks the line %q", w)
		}
	}
	if t.Failed() {
		t.Fatalf("wlr-randr said:\n%s", listing)
	}
}

// TestWlrRandrListsAndChangesTheOutput: wlr-randr lists the headless
// output, a dry run changes nothing, a transform and a mode are applied
// (the fullscreen client follows, grim shows it upright at the new
// size), a scale of 2 halves the logical size and keeps grim's, and a
// scale out of range fails without changing anything.
func TestWlrRandrListsAndChangesTheOutput(t *testing.T) {
	need(t, "grim", "wlr-randr", "wayland-info")
	c := startVitrine(t, "--output", "640x480", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	c.stdout.wait(t, `^first-frame 640x480$`, 10*time.Second)
	out, ok := c.wlrRandr()
	if !ok {
		t.Fatalf("wlr-randr failed:\n%s", out)
	}
	wantListing(t, out, `HEADLESS-1 "vitrine headless output 640x480"`, "Enabled: yes",
		"640x480 px, 60.000000 Hz (preferred, current)", "800x600 px, 60.000000 Hz",
		"Position: 0,0", "Transform: normal", "Scale: 1.000000")

	if out, ok := c.wlrRandr("--output", "HEADLESS-1", "--dryrun", "--transform", "180"); !ok {
		t.Fatalf("dry run of --transform 180 failed:\n%s", out)
	}
	out, _ = c.wlrRandr()
	wantListing(t, out, "Transform: normal")

	if out, ok := c.wlrRandr("--output", "HEADLESS-1", "--transform", "90"); !ok {
		t.Fatalf("--transform 90 failed:\n%s", out)
	}
	c.stdout.wait(t, `^resized 480x640$`, 10*time.Second)
	img := c.screenshot()
	if img.Bounds().Size() != image.Pt(480, 640) {
		t.Fatalf("screenshot after --transform 90 is %v, want 480x640", img.Bounds().Size())
	}
	checkQuadrants(t, img)
	out, _ = c.wlrRandr()
	wantListing(t, out, "Transform: 90")

	if out, ok := c.wlrRandr("--output", "HEADLESS-1", "--mode", "800x600"); !ok {
		t.Fatalf("--mode 800x600 failed:\n%s", out)
	}
	c.stdout.wait(t, `^resized 600x800$`, 10*time.Second)
	img = c.screenshot()
	if img.Bounds().Size() != image.Pt(600, 800) {
		t.Fatalf("screenshot after --mode 800x600 is %v, want 600x800", img.Bounds().Size())
	}
	checkQuadrants(t, img)
	out, _ = c.wlrRandr()
	wantListing(t, out, "800x600 px, 60.000000 Hz (current)", "640x480 px, 60.000000 Hz (preferred)", "Transform: 90")

	// Scale 2: the fullscreen client is told the logical 300x400 and
	// its pixels doubled fill grim's image, which keeps the panel's
	// size; xdg_output tells the new logical size.
	if out, ok := c.wlrRandr("--output", "HEADLESS-1", "--scale", "2"); !ok {
		t.Fatalf("--scale 2 failed:\n%s", out)
	}
	c.stdout.wait(t, `^resized 300x400$`, 10*time.Second)
	img = c.screenshot()
	if img.Bounds().Size() != image.Pt(600, 800) {
		t.Fatalf("screenshot after --scale 2 is %v, want still 600x800", img.Bounds().Size())
	}
	checkQuadrants(t, img)
	out, _ = c.wlrRandr()
	wantListing(t, out, "800x600 px, 60.000000 Hz (current)", "Transform: 90", "Scale: 2.000000")
	if info := c.run("wayland-info"); !strings.Contains(info, "logical_width: 300, logical_height: 400") {
		t.Fatalf("wayland-info shows no 300x400 logical size after --scale 2:\n%s", info)
	}
	// A scale vitrine refuses fails without changing anything.
	if out, ok := c.wlrRandr("--output", "HEADLESS-1", "--scale", "20"); ok {
		t.Fatalf("--scale 20 succeeded:\n%s", out)
	}
	waitLog(t, c, "scale 20: want a number")
	out, _ = c.wlrRandr()
	wantListing(t, out, "Scale: 2.000000")
}

// TestPrivilegedClientsOnly: with --privileged-clients grim, grim still
// captures the screen, wlr-randr (not named) finds no output
// management and wayland-info no data control.
func TestPrivilegedClientsOnly(t *testing.T) {
	need(t, "grim", "wlr-randr", "wayland-info")
	c := startVitrine(t, "--output", "320x240", "--privileged-clients", "grim", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	c.stdout.wait(t, `^first-frame 320x240$`, 10*time.Second)
	checkQuadrants(t, c.screenshot())
	out, ok := c.wlrRandr()
	if ok || !strings.Contains(out, "doesn't support wlr-output-management") {
		t.Fatalf("wlr-randr, not a privileged client, exited ok=%v with:\n%s", ok, out)
	}
	if info := c.run("wayland-info"); strings.Contains(info, "zwlr_data_control_manager_v1") || !strings.Contains(info, "wl_data_device_manager") {
		t.Fatalf("wayland-info, not a privileged client, is offered data control (or no data device):\n%s", info)
	}
}
