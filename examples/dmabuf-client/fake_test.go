package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/examples/internal/dmabuf"
	"github.com/vitrine-wm/vitrine/examples/internal/fakewl"
	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
)

// memfdSource hands out memfds posing as dma-bufs, so the Wayland side of
// dmabuf-client can be tested on machines without dma-buf devices. It
// counts CPU access brackets instead of issuing DMA_BUF_IOCTL_SYNC.
type memfdSource struct {
	mu     sync.Mutex
	begins int
	ends   int
	open   bool // a bracket is open
	bad    []string
}

func (s *memfdSource) Kind() string   { return "fake" }
func (s *memfdSource) Device() string { return "memfd" }
func (s *memfdSource) Close() error   { return nil }

func (s *memfdSource) sync(flags uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch flags {
	case 2: // START|WRITE
		if s.open {
			s.bad = append(s.bad, "nested START")
		}
		s.open = true
		s.begins++
	case 6: // END|WRITE
		if !s.open {
			s.bad = append(s.bad, "END without START")
		}
		s.open = false
		s.ends++
	default:
		s.bad = append(s.bad, fmt.Sprintf("unexpected sync flags %#x", flags))
	}
	return nil
}

// fakeStride pads rows so that a client confusing width and stride shows.
func fakeStride(w int) int { return w*4 + 64 }

func (s *memfdSource) Alloc(w, h int) (*dmabuf.Buf, error) {
	stride := fakeStride(w)
	size := stride * h
	fd, err := unix.MemfdCreate("fake-dmabuf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, err
	}
	pix, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return dmabuf.NewBuf(fd, w, h, stride, size, pix, s.sync, func() error {
		unix.Munmap(pix)
		return unix.Close(fd)
	}), nil
}

const (
	xr24  = 0x34325258
	ar24  = 0x34325241
	tiled = 0x0100000000000001
)

// runFake runs dmabuf-client against a fake compositor whose surface
// feedback puts a tiled-only scanout tranche first and whose linear XR24
// entry is the last of an odd number of indices.
func runFake(t *testing.T, args []string, check func(commit int, img *pattern.Image) string) (stdout string, s *fakewl.Server, src *memfdSource) {
	t.Helper()
	dir := t.TempDir()
	s = fakewl.Listen(t, dir, "wl-fake")
	s.Dmabuf = true
	s.MainDevice = unix.Mkdev(226, 0)
	s.Table = []fakewl.FormatModifier{{Format: xr24, Modifier: tiled}, {Format: xr24, Modifier: 0}, {Format: ar24, Modifier: 0}}
	s.Default = []fakewl.Tranche{{Device: unix.Mkdev(226, 0), Indices: []uint16{0, 2, 1}}}
	s.Surface = []fakewl.Tranche{
		{Device: unix.Mkdev(226, 1), Flags: 1, Indices: []uint16{0}},
		{Device: unix.Mkdev(226, 0), Indices: []uint16{2, 0, 1}},
	}
	var mismatch []string
	s.OnCommit = func(s *fakewl.Server, p *fakewl.Params) {
		if p.FD < 0 {
			mismatch = append(mismatch, "commit of a buffer without a dma-buf fd")
			return
		}
		size := int(p.Offset) + int(p.Stride)*int(p.Height)
		m, err := unix.Mmap(p.FD, 0, size, unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			mismatch = append(mismatch, fmt.Sprintf("mmap client buffer: %v", err))
			return
		}
		defer unix.Munmap(m)
		img := &pattern.Image{Pix: m[p.Offset:], Stride: int(p.Stride), Width: int(p.Width), Height: int(p.Height)}
		if msg := check(s.Commits, img); msg != "" {
			mismatch = append(mismatch, fmt.Sprintf("commit %d: %s", s.Commits, msg))
		}
	}
	s.Start()

	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("WAYLAND_DISPLAY", "wl-fake")
	src = &memfdSource{}
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runWith(args, &out, &errOut, func(string) (dmabuf.Source, error) { return src, nil })
	}()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("dmabuf-client did not finish")
	}
	s.Wait(10 * time.Second)
	if len(s.Errors) > 0 {
		t.Fatalf("fake compositor: %v", s.Errors)
	}
	if len(mismatch) > 0 {
		t.Fatalf("buffer contents wrong: %s", strings.Join(mismatch, "; "))
	}
	if len(src.bad) > 0 || src.begins != src.ends || src.begins == 0 {
		t.Fatalf("CPU access brackets: begins=%d ends=%d problems=%v", src.begins, src.ends, src.bad)
	}
	return out.String(), s, src
}

func diff(img *pattern.Image, want func(x, y int) uint32) string {
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			if got, exp := img.At(x, y), want(x, y); got != exp {
				return fmt.Sprintf("pixel (%d,%d) = %06x, want %06x", x, y, got, exp)
			}
		}
	}
	return ""
}

func TestFakeCompositorMovingBox(t *testing.T) {
	const w, h, frames = 160, 120, 25
	box := pattern.NewBox(w, h)
	stdout, s, _ := runFake(t, []string{"--alloc", "fake", "--size", fmt.Sprintf("%dx%d", w, h), "--pattern", "moving-box", "--frames", fmt.Sprint(frames)},
		func(commit int, img *pattern.Image) string {
			// Every committed buffer must hold the whole frame, however
			// stale it was when reused.
			want := pattern.NewImage(w, h)
			box.Draw(want, commit-1)
			return diff(img, want.At)
		})
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	head := []string{
		"alloc source=fake device=memfd",
		"dmabuf version=4",
		"feedback main_device=226:0 format_table_entries=3 tranches=1",
		"feedback-tranche index=0 target_device=226:0 flags=0x0 scanout=false formats=3 xr24_modifiers=2",
		"surface-feedback main_device=226:0 format_table_entries=3 tranches=2",
		"surface-feedback-tranche index=0 target_device=226:1 flags=0x1 scanout=true formats=1 xr24_modifiers=1",
		"surface-feedback-tranche index=1 target_device=226:0 flags=0x0 scanout=false formats=3 xr24_modifiers=2",
		"chosen from=surface-feedback tranche=1 format=XR24 modifier=0x0 modifier_name=linear",
	}
	if len(lines) < len(head) || strings.Join(lines[:len(head)], "\n") != strings.Join(head, "\n") {
		t.Fatalf("stdout:\n%s\nwant it to start with:\n%s", stdout, strings.Join(head, "\n"))
	}
	wantBuffer := fmt.Sprintf("buffer width=%d height=%d stride=%d bytes=%d format=XR24 modifier=0x0 create=immed", w, h, fakeStride(w), fakeStride(w)*h)
	buffers := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "buffer ") {
			buffers++
			if l != wantBuffer {
				t.Errorf("got %q, want %q", l, wantBuffer)
			}
		}
	}
	// The fake releases the previous buffer at each commit: two suffice.
	if buffers != 2 {
		t.Errorf("%d buffers allocated, want 2", buffers)
	}
	for _, want := range []string{fmt.Sprintf("first-frame %dx%d", w, h), box.FinalLine(frames)} {
		if !strings.Contains(stdout, want+"\n") {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if s.Commits != frames {
		t.Errorf("%d commits, want %d", s.Commits, frames)
	}
	for _, p := range s.Params {
		if p.Stride != uint32(fakeStride(w)) || p.Modifier != 0 || p.Format != xr24 || !p.Immed || p.Width != w || p.Height != h {
			t.Errorf("params %+v", *p)
		}
	}
}

func TestFakeCompositorAsyncQuadrants(t *testing.T) {
	const w, h = 101, 77
	stdout, s, _ := runFake(t, []string{"--alloc", "fake", "--size", fmt.Sprintf("%dx%d", w, h), "--create", "async", "--frames", "3"},
		func(_ int, img *pattern.Image) string {
			return diff(img, func(x, y int) uint32 { return pattern.QuadrantColor(w, h, x, y) })
		})
	if !strings.Contains(stdout, "create=async\n") || !strings.Contains(stdout, "done frames=3 size=101x77\n") {
		t.Fatalf("stdout:\n%s", stdout)
	}
	for _, p := range s.Params {
		if p.Immed {
			t.Errorf("create_immed used with --create async")
		}
	}
}
