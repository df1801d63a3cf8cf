package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPrivilegedDefaultIsChildTree: with a command and no
// --privileged-clients, wayland-info run by the command (a grandchild of
// vitrine, through sh) lists screencopy and output management, and grim
// there captures the screen; wayland-info run from outside lists neither,
// and grim from outside fails saying screencopy is missing.
func TestPrivilegedDefaultIsChildTree(t *testing.T) {
	need(t, "wayland-info", "grim")
	shot := filepath.Join(t.TempDir(), "inside.png")
	c := startVitrineAsIs(t, "--output", "320x240", "--", "sh", "-c",
		"wayland-info; grim "+shot+" && echo inside-grim-ok; exec sleep 60")
	c.stdout.wait(t, `interface: 'zwlr_screencopy_manager_v1'`, 10*time.Second)
	c.stdout.wait(t, `interface: 'zwlr_output_manager_v1'`, 5*time.Second)
	c.stdout.wait(t, `^inside-grim-ok$`, 10*time.Second)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("grim inside the tree wrote no screenshot: %v", err)
	}

	out := c.run("wayland-info")
	if !strings.Contains(out, "interface: 'wl_compositor'") {
		t.Fatalf("wayland-info from outside did not list the ordinary globals:\n%s", out)
	}
	for _, hidden := range []string{"zwlr_screencopy_manager_v1", "zwlr_output_manager_v1"} {
		if strings.Contains(out, hidden) {
			t.Errorf("wayland-info outside the command's tree sees %s:\n%s", hidden, out)
		}
	}

	cmd := exec.Command("grim", filepath.Join(t.TempDir(), "outside.png"))
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
	gout, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(gout), "doesn't support wlr-screencopy-unstable-v1") {
		t.Fatalf("grim from outside the tree: err=%v, output:\n%s\nwant a failure naming wlr-screencopy", err, gout)
	}
}

// runVitrineOnce runs vitrine with env until it exits (it is expected to
// refuse to start) and returns its status and output.
func runVitrineOnce(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binaries(t), "vitrine"), append([]string{"--backend", "headless"}, args...)...)
	cmd.Env = env
	out, _ := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("vitrine did not exit within 10 s:\n%s", out)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

func envWith(kv ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "XDG_RUNTIME_DIR=") && !strings.HasPrefix(e, "TMPDIR=") && !strings.HasPrefix(e, "WAYLAND_DISPLAY=") {
			env = append(env, e)
		}
	}
	return append(env, kv...)
}

// TestRuntimeDirMustBePrivate: vitrine refuses an XDG_RUNTIME_DIR others
// can enter, one owned by another user, and one that is not a
// directory, each with one line saying why and how to fix it, and
// creates no socket there.
func TestRuntimeDirMustBePrivate(t *testing.T) {
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	cases := []struct {
		name, dir, want string
	}{
		{"mode 0755", open, "has mode 0755, want 0700: other users could reach or replace the Wayland socket; fix with chmod 700 " + open},
		{"not a directory", file, "is not a directory"},
		{"missing", filepath.Join(open, "missing"), "no such file or directory (create it: mkdir -m 700"},
	}
	if os.Geteuid() == 0 {
		other := testRuntimeDir(t)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct{ name, dir, want string }{"owned by uid 65534", other, "is owned by uid 65534, not by this user (uid 0)"})
	} else {
		t.Log("not root: the wrong-owner case needs chown and is skipped")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out := runVitrineOnce(t, envWith("XDG_RUNTIME_DIR="+tc.dir), "--socket", "wl-sec")
			if status != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("status %d, output:\n%s\nwant status 1 and %q", status, out, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(out), "\n") + 1; lines != 1 {
				t.Errorf("the refusal is %d lines, want one:\n%s", lines, out)
			}
			if _, err := os.Lstat(filepath.Join(tc.dir, "wl-sec")); err == nil {
				t.Errorf("a socket was created in the refused directory")
			}
		})
	}
}

// TestPrivateRuntimeDirNotReused: without XDG_RUNTIME_DIR, vitrine
// makes $TMPDIR/vitrine-runtime-UID; when that name is already taken by
// a directory it did not make private (another owner, or a mode others
// can enter) it uses a fresh directory instead, and the command it
// starts gets that one.
func TestPrivateRuntimeDirNotReused(t *testing.T) {
	binaries(t)
	tmp := t.TempDir()
	usual := filepath.Join(tmp, "vitrine-runtime-"+strconv.Itoa(os.Geteuid()))
	run := func() string {
		t.Helper()
		status, out := runVitrineOnce(t, envWith("TMPDIR="+tmp), "--", "sh", "-c", `echo "child-runtime=$XDG_RUNTIME_DIR"`)
		if status != 0 {
			t.Fatalf("vitrine exited %d:\n%s", status, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, "child-runtime="); ok {
				return v
			}
		}
		t.Fatalf("the command printed no runtime directory:\n%s", out)
		return ""
	}
	if got := run(); got != usual {
		t.Fatalf("fresh TMPDIR: the command got %s, want %s", got, usual)
	}
	if fi, err := os.Lstat(usual); err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
		t.Fatalf("%s: %v, mode %v; want a 0700 directory", usual, err, fi.Mode())
	}

	// Someone else's, or one others can enter: not reused.
	os.Chmod(usual, 0o755)
	if got := run(); got == usual || !strings.HasPrefix(got, usual+"-") {
		t.Fatalf("with %s at mode 0755 the command got %s, want a fresh %s-* directory", usual, got, usual)
	}
	if os.Geteuid() == 0 {
		os.Chmod(usual, 0o700)
		os.Chown(usual, 65534, 65534)
		if got := run(); got == usual {
			t.Fatalf("a directory owned by uid 65534 was reused")
		}
		entries, _ := os.ReadDir(usual)
		if len(entries) != 0 {
			t.Fatalf("vitrine wrote into another user's directory: %v", entries)
		}
	}
}
