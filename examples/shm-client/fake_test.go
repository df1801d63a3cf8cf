package main

import (
	"bytes"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/examples/internal/fakewl"
	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
)

// TestResizeMidAnimation lets a fake compositor change the configured size
// after a few frames: the client must switch to buffers of the new size,
// keep every committed buffer complete, destroy the old buffers and report
// the final box for the new size.
func TestResizeMidAnimation(t *testing.T) {
	const frames, resizeAt = 20, 6
	first, second := image.Pt(200, 130), image.Pt(150, 100)
	dir := t.TempDir()
	s := fakewl.Listen(t, dir, "wl-fake")
	s.Size = first
	var problems []string
	s.OnCommit = func(s *fakewl.Server, p *fakewl.Params) {
		n := s.Commits - 1 // frame number of this commit
		size := image.Pt(int(p.Width), int(p.Height))
		// The resize is acknowledged before the frame after resizeAt is
		// drawn, so frames from resizeAt on have the new size.
		want := first
		if n >= resizeAt {
			want = second
		}
		if size != want {
			problems = append(problems, fmt.Sprintf("frame %d: buffer %v, want %v", n, size, want))
			return
		}
		m, err := unix.Mmap(p.FD, 0, int(p.Offset)+int(p.Stride)*int(p.Height), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			problems = append(problems, fmt.Sprintf("mmap: %v", err))
			return
		}
		defer unix.Munmap(m)
		img := &pattern.Image{Pix: m[p.Offset:], Stride: int(p.Stride), Width: size.X, Height: size.Y}
		exp := pattern.NewImage(size.X, size.Y)
		pattern.NewBox(size.X, size.Y).Draw(exp, n)
		for y := 0; y < size.Y; y++ {
			for x := 0; x < size.X; x++ {
				if img.At(x, y) != exp.At(x, y) {
					problems = append(problems, fmt.Sprintf("frame %d: pixel (%d,%d) = %06x, want %06x", n, x, y, img.At(x, y), exp.At(x, y)))
					return
				}
			}
		}
		if n == resizeAt-1 {
			s.Configure(second)
		}
	}
	s.Start()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("WAYLAND_DISPLAY", "wl-fake")
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--pattern", "moving-box", "--frames", fmt.Sprint(frames)}, &stdout, &stderr)
	}()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("shm-client did not finish")
	}
	s.Wait(10 * time.Second)
	if len(s.Errors) > 0 {
		t.Fatalf("fake compositor: %v", s.Errors)
	}
	if len(problems) > 0 {
		t.Fatalf("%s", strings.Join(problems, "\n"))
	}
	want := fmt.Sprintf("first-frame %dx%d\nresized %dx%d\n%s\n", first.X, first.Y, second.X, second.Y, pattern.NewBox(second.X, second.Y).FinalLine(frames))
	if stdout.String() != want {
		t.Fatalf("stdout %q, want %q", stdout.String(), want)
	}
	old := 0
	for _, p := range s.Params {
		if int(p.Width) == first.X {
			old++
		}
	}
	if old == 0 || s.Destroyed < old {
		t.Fatalf("%d buffers of the old size, %d wl_buffer.destroy requests: old buffers leaked", old, s.Destroyed)
	}
}

func runAgainst(t *testing.T, s *fakewl.Server, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(args, &stdout, &stderr) }()
	select {
	case code := <-done:
		s.Wait(10 * time.Second)
		return code, stdout.String(), stderr.String()
	case <-time.After(30 * time.Second):
		t.Fatalf("shm-client did not finish")
		return 0, "", ""
	}
}

// TestAbsoluteDisplayPath: WAYLAND_DISPLAY may name a socket outside
// XDG_RUNTIME_DIR by absolute path, as libwayland allows.
func TestAbsoluteDisplayPath(t *testing.T) {
	sockDir := t.TempDir()
	s := fakewl.Listen(t, sockDir, "elsewhere")
	s.Start()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("WAYLAND_DISPLAY", sockDir+"/elsewhere")
	code, stdout, stderr := runAgainst(t, s, "--frames", "1", "--size", "64x32")
	if code != 0 || stdout != "first-frame 64x32\ndone frames=1 size=64x32\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestProtocolErrorReported: a compositor's wl_display.error ends the
// client with status 1 and the compositor's message on stderr.
func TestProtocolErrorReported(t *testing.T) {
	dir := t.TempDir()
	s := fakewl.Listen(t, dir, "wl-fake")
	s.OnCommit = func(s *fakewl.Server, p *fakewl.Params) {
		s.Disconnect(s.SurfaceID, 2, "buffer too small for its size")
	}
	s.Start()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("WAYLAND_DISPLAY", "wl-fake")
	code, _, stderr := runAgainst(t, s, "--frames", "3")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stderr, "shm-client: ") || !strings.Contains(stderr, "protocol error from compositor") ||
		!strings.Contains(stderr, "code 2: buffer too small for its size") {
		t.Fatalf("stderr %q does not carry the compositor's error", stderr)
	}
}
