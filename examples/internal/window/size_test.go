package window

import (
	"image"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := map[string]image.Point{"640x480": {640, 480}, "1X1": {1, 1}, "1920x1080": {1920, 1080}}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "640", "0x480", "640x-1", "axb", "640x480x2", "99999x1"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %v, want an error", in, got)
		}
	}
}

func TestSocketPath(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/7")
	t.Setenv("WAYLAND_DISPLAY", "wl-env")
	cases := map[string]string{
		"":            "/run/user/7/wl-env",
		"wayland-1":   "/run/user/7/wayland-1",
		"/tmp/x/sock": "/tmp/x/sock",
	}
	for in, want := range cases {
		got, err := socketPath(in)
		if err != nil || got != want {
			t.Errorf("socketPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	t.Setenv("WAYLAND_DISPLAY", "")
	if got, _ := socketPath(""); got != "/run/user/7/wayland-0" {
		t.Errorf("default display = %q, want /run/user/7/wayland-0", got)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if _, err := socketPath("wayland-0"); err == nil {
		t.Errorf("relative display without XDG_RUNTIME_DIR: no error")
	}
}
