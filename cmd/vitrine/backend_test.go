package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutoBackendFollowsWaylandDisplay: auto picks wayland only when a
// compositor listens on WAYLAND_DISPLAY's socket, and says why; an
// explicit --backend always wins.
func TestAutoBackendFollowsWaylandDisplay(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	l, err := net.Listen("unix", filepath.Join(dir, "parent"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	t.Setenv("WAYLAND_DISPLAY", "parent")
	if b, why := chooseBackend(&options{backend: "auto"}); b != "wayland" || !strings.Contains(why, "WAYLAND_DISPLAY") {
		t.Fatalf("auto with a listening WAYLAND_DISPLAY chose %s (%s)", b, why)
	}
	if b, _ := chooseBackend(&options{backend: "headless"}); b != "headless" {
		t.Fatalf("--backend headless with WAYLAND_DISPLAY set chose %s", b)
	}
	for _, stale := range []string{"missing", "/nonexistent/socket"} {
		t.Setenv("WAYLAND_DISPLAY", stale)
		if b, why := chooseBackend(&options{backend: "auto"}); b == "wayland" {
			t.Fatalf("auto with WAYLAND_DISPLAY=%s (no compositor) chose wayland (%s)", stale, why)
		}
	}
}
