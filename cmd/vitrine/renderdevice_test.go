package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRenderDeviceMustBeADRMNode: a --render-device that is no DRM node
// stops vitrine with one line naming the flag, the path and what to give.
func TestRenderDeviceMustBeADRMNode(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", testRuntimeDir(t))
	var stderr bytes.Buffer
	code := run([]string{"--backend", "headless", "--output", "64x48", "--render-device", "/dev/null", "--", "true"}, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	want := "vitrine: --render-device /dev/null: /dev/null is not a DRM device node (want /dev/dri/renderDN or /dev/dri/cardN)"
	if !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr:\n%s\nwant the line %q", stderr.String(), want)
	}
}
