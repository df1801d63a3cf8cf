package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil, // --alloc is required
		{"--alloc", "udmabuf", "--pattern", "plasma"},
		{"--alloc", "udmabuf", "--create", "later"},
		{"--alloc", "udmabuf", "--size", "0x0"},
		{"--alloc", "udmabuf", "stray"},
		{"--alloc", "udmabuf", "--format", "yuyv"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
		if !strings.HasPrefix(stderr.String(), "dmabuf-client: ") && !strings.Contains(stderr.String(), "flag") {
			t.Errorf("%v: stderr %q does not name the program", args, stderr.String())
		}
	}
}

// TestMissingDeviceFailsBeforeConnecting: the allocator is opened first, so
// a missing device is reported as such even without a compositor.
func TestMissingDeviceFailsBeforeConnecting(t *testing.T) {
	t.Setenv("WAYLAND_DISPLAY", "no-such-display")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	var stdout, stderr bytes.Buffer
	code := run([]string{"--alloc", "dumb:/nonexistent/card9"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if got := stderr.String(); !strings.Contains(got, "--alloc dumb:/nonexistent/card9: open /nonexistent/card9") {
		t.Fatalf("stderr %q does not name the device", got)
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout %q, want nothing", stdout.String())
	}
}
