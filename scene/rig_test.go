package scene_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// rig is an in-process compositor on one headless output, running its
// loop on a goroutine, with its log kept for tests to read.
type rig struct {
	srv    *protocol.Server
	comp   *scene.Compositor
	out    *headless.Output
	socket string
	log    *syncBuffer
}

// syncBuffer is a log sink the loop writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRig starts a compositor with a w×h output refreshing at mhz
// (millihertz), turned by rot.
func startRig(tb testing.TB, w, h, mhz int, rot render.Transform, opts protocol.Options, configs ...func(*scene.Config)) *rig {
	tb.Helper()
	return startRigConfig(tb, w, h, mhz, rot, opts, func(c *scene.Config) {
		for _, f := range configs {
			f(c)
		}
	})
}

// startRigConfig is startRig with the compositor's Config adjusted by
// configure (nil: as startRig).
func startRigConfig(tb testing.TB, w, h, mhz int, rot render.Transform, opts protocol.Options, configure func(*scene.Config)) *rig {
	tb.Helper()
	dir := tb.TempDir()
	tb.Setenv("XDG_RUNTIME_DIR", dir)
	r := &rig{log: &syncBuffer{}, socket: filepath.Join(dir, "wl-rig")}
	log := slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts.Log = log
	srv, err := protocol.NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	r.srv = srv
	cfg := scene.Config{Log: log, Server: srv}
	if configure != nil {
		configure(&cfg)
	}
	r.comp = scene.New(cfg)
	r.out, err = headless.New(srv.Loop(), "HEADLESS-1", w, h, mhz, rot, func(i present.Info) {
		r.comp.PresentDone(r.out, i)
	})
	if err != nil {
		tb.Fatal(err)
	}
	r.comp.AddOutput(r.out)
	if err := srv.Listen("wl-rig"); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.comp.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		r.out.Close()
	})
	return r
}

// onLoop runs f on the compositor's loop and waits for it, so a test
// can look at scene state without racing the loop.
func (r *rig) onLoop(tb testing.TB, f func()) {
	tb.Helper()
	done := make(chan struct{})
	r.srv.Loop().Post(func() {
		defer close(done)
		f()
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		tb.Fatal("the compositor's loop did not run a posted function within 5 s: it is stuck")
	}
}

// clients is how many clients the server has connected.
func (r *rig) clients(tb testing.TB) int {
	var n int
	r.onLoop(tb, func() { n = len(r.srv.Clients()) })
	return n
}

// dialFD connects a raw socket to the compositor.
func (r *rig) dialFD(tb testing.TB) int {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: r.socket}); err != nil {
		unix.Close(fd)
		tb.Fatal(err)
	}
	return fd
}

// dial connects a protocoltest client, closed when the test ends.
func (r *rig) dial(tb testing.TB) *protocoltest.Client {
	tb.Helper()
	c, err := protocoltest.Dial(r.socket)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// registry is a client's view of the globals.
type registry struct {
	h       *protocoltest.Client
	id      uint32
	globals map[string][2]uint32
}

func getRegistry(tb testing.TB, h *protocoltest.Client) *registry {
	tb.Helper()
	g, reg, err := h.Globals(3 * time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	return &registry{h: h, id: reg, globals: g}
}

// bind binds iface at version and returns the new object's id.
func (reg *registry) bind(tb testing.TB, iface string, version uint32) uint32 {
	tb.Helper()
	g, ok := reg.globals[iface]
	if !ok {
		tb.Fatalf("no %s global", iface)
	}
	id := reg.h.NewID()
	must(tb, reg.h.Send(reg.id, 0, g[0], iface, version, id))
	return id
}

// window is a kiosk toplevel showing one XRGB8888 wl_shm buffer.
type window struct {
	h                      *protocoltest.Client
	reg                    *registry
	compositor, shm, wm    uint32
	surface, xsurf, top    uint32
	pool, buffer           uint32
	mem                    int
	pix                    []byte
	size                   int
	configureW, configureH int32
}

// newWindow maps a size×size window on connection h.
func newWindow(tb testing.TB, h *protocoltest.Client, size int) *window {
	tb.Helper()
	w := &window{h: h, reg: getRegistry(tb, h), size: size}
	w.compositor = w.reg.bind(tb, "wl_compositor", 4)
	w.shm = w.reg.bind(tb, "wl_shm", 1)
	w.wm = w.reg.bind(tb, "xdg_wm_base", 1)
	mem, err := unix.MemfdCreate("window", unix.MFD_CLOEXEC)
	if err != nil {
		tb.Fatal(err)
	}
	w.mem = mem
	tb.Cleanup(w.closeMem)
	bytes := size * size * 4
	must(tb, unix.Ftruncate(mem, int64(bytes)))
	w.pix, err = unix.Mmap(mem, 0, bytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Munmap(w.pix) })
	w.pool, w.buffer = h.NewID(), h.NewID()
	must(tb, h.SendFDs([]int{mem}, w.shm, 0, w.pool, int32(bytes)))
	must(tb, h.Send(w.pool, 0, w.buffer, int32(0), int32(size), int32(size), int32(size*4), uint32(1))) // XRGB8888
	w.surface, w.xsurf, w.top = h.NewID(), h.NewID(), h.NewID()
	must(tb, h.Send(w.compositor, 0, w.surface))
	must(tb, h.Send(w.wm, 2, w.xsurf, w.surface))
	must(tb, h.Send(w.xsurf, 1, w.top))
	must(tb, h.Send(w.surface, 6))
	for {
		e, err := h.Read(3 * time.Second)
		if err != nil {
			tb.Fatalf("waiting for xdg_surface.configure: %v", err)
		}
		if e.Object == w.top && e.Opcode == 0 {
			w.configureW, w.configureH = int32(e.Uint(0)), int32(e.Uint(1))
		}
		if e.Object == w.xsurf && e.Opcode == 0 {
			must(tb, h.Send(w.xsurf, 4, e.Uint(0)))
			break
		}
	}
	must(tb, h.Roundtrip(3*time.Second))
	return w
}

// closeMem closes the client's end of the buffer memory.
func (w *window) closeMem() {
	if w.mem >= 0 {
		unix.Close(w.mem)
		w.mem = -1
	}
}

// draw fills the buffer with xrgb, commits it with a frame callback and
// waits for the callback: the compositor has composited and presented
// the frame when it returns.
func (w *window) draw(tb testing.TB, xrgb uint32) {
	tb.Helper()
	for i := 0; i < len(w.pix); i += 4 {
		binary.LittleEndian.PutUint32(w.pix[i:], xrgb)
	}
	cb := w.h.NewID()
	must(tb, w.h.Send(w.surface, 1, w.buffer, int32(0), int32(0)))
	must(tb, w.h.Send(w.surface, 9, int32(0), int32(0), int32(w.size), int32(w.size)))
	must(tb, w.h.Send(w.surface, 3, cb))
	must(tb, w.h.Send(w.surface, 6))
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := w.h.Read(time.Until(deadline))
		if err != nil {
			tb.Fatalf("waiting for the frame callback: %v", err)
		}
		switch {
		case e.Object == cb && e.Opcode == 0:
			return
		case e.Object == 1 && e.Opcode == 0:
			tb.Fatalf("protocol error on a well-behaved client: object %d code %d: %s", e.Uint(0), e.Uint(1), e.String(2))
		case e.Object == w.wm && e.Opcode == 0: // ping
			must(tb, w.h.Send(w.wm, 3, e.Uint(0)))
		}
	}
}

// screenshot copies the output's shadow image on the loop.
func (r *rig) screenshot(tb testing.TB) *render.Image {
	tb.Helper()
	var img render.Image
	r.onLoop(tb, func() {
		s := r.out.Shadow()
		img = *s
		img.Pix = bytes.Clone(s.Pix)
	})
	return &img
}

// checkCentred reports whether img shows a size×size square of xrgb in
// its centre on black, pixel for pixel, as the kiosk layout places a
// window smaller than its output.
func checkCentred(img *render.Image, size int, xrgb uint32) error {
	x0, y0 := (img.Width-size)/2, (img.Height-size)/2
	var bad []string
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			got := binary.LittleEndian.Uint32(img.Pix[y*img.Stride+4*x:]) & 0xffffff
			want := uint32(0)
			if x >= x0 && x < x0+size && y >= y0 && y < y0+size {
				want = xrgb & 0xffffff
			}
			if got != want && len(bad) < 5 {
				bad = append(bad, fmt.Sprintf("(%d,%d)=%06x want %06x", x, y, got, want))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("screenshot is not the %dx%d square of %06x on black: %s", size, size, xrgb&0xffffff, strings.Join(bad, ", "))
	}
	return nil
}

// openFDs lists the process's open fds, for leak checks.
func openFDs(tb testing.TB) map[int]string {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Fatal(err)
	}
	fds := map[int]string{}
	for _, e := range ents {
		var fd int
		if _, err := fmt.Sscan(e.Name(), &fd); err != nil {
			continue
		}
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds[fd] = target
	}
	return fds
}

// rawConn wraps a connected socket fd in a protocoltest client that
// shares the fd's file status.
func rawConn(tb testing.TB, fd int) *protocoltest.Client {
	tb.Helper()
	dup, err := unix.Dup(fd)
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := net.FileConn(os.NewFile(uintptr(dup), "client"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return protocoltest.New(conn.(*net.UnixConn))
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
