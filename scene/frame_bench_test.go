package scene_test

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/layershell"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// frameClient is an in-process client whose steady state allocates
// nothing: each frame is one write of pre-encoded requests and reads
// into a fixed buffer, so what the benchmark counts is the compositor's.
type frameClient struct {
	fd       int
	frame    []byte // attach, damage_buffer, frame, commit
	callback uint32
	buf      [4096]byte
	have     int
}

// BenchmarkFrame drives one client's frames through the real code:
// wl_surface.commit over a socket, the loop reading and dispatching it,
// the composite into the shadow, the headless output's present, its
// vblank timer, and wl_callback.done written back. Its allocs/op is the
// compositor's allocation per frame in steady state; the goal is 0.
//
// composite: a 32x32 window centred on a 64x64 output, copied into the
// shadow every frame; direct: a fullscreen buffer shown by reference.
func BenchmarkFrame(b *testing.B) {
	for _, bc := range frameCases {
		b.Run(bc.name, func(b *testing.B) {
			fc := startFrameClient(b, 64, 64, bc.buffer, bc.layer, bc.scale)
			for range 10 { // warm up: buffers, slices and maps reach their size
				fc.drawFrame(b)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fc.drawFrame(b)
			}
		})
	}
}

var frameCases = []struct {
	name   string
	buffer int // square buffer size on the 64x64 output
	// layer adds an on-screen keyboard (a layer surface reserving the
	// bottom 8 rows) beside the window.
	layer bool
	// scale is the output scale (0: 1): at 2 the window fills the
	// 32x32 layout and each pixel is doubled, at 1.5 it is centred in
	// a 43x43 layout and scaled by 1.5.
	scale float64
}{{"composite", 32, false, 0}, {"direct", 64, false, 0}, {"composite-with-keyboard", 32, true, 0},
	{"composite-scale2", 32, false, 2}, {"composite-scale1.5", 32, false, 1.5}}

// TestFrameAllocatesNothing is BenchmarkFrame's goal as a check, so a
// change that brings allocations back to the frame path fails.
func TestFrameAllocatesNothing(t *testing.T) {
	for _, bc := range frameCases {
		t.Run(bc.name, func(t *testing.T) {
			fc := startFrameClient(t, 64, 64, bc.buffer, bc.layer, bc.scale)
			for range 10 {
				fc.drawFrame(t)
			}
			allocs := testing.AllocsPerRun(50, func() { fc.drawFrame(t) })
			t.Logf("%.2f allocations per frame", allocs)
			if allocs > maxFrameAllocs {
				t.Fatalf("a steady-state frame allocates %.2f times, want at most %d", allocs, maxFrameAllocs)
			}
		})
	}
}

// maxFrameAllocs is what a frame may allocate: nothing (the wl_callback
// of each frame reuses the previous one's memory).
const maxFrameAllocs = 0

func startFrameClient(tb testing.TB, w, h, bufSize int, layer bool, scale float64) *frameClient {
	tb.Helper()
	// 1 kHz: the repaint deadline never holds a frame back, so the
	// benchmark is not paced by a 60 Hz clock.
	r := startRig(tb, w, h, 1000000, render.Normal, protocol.Options{}, withScale(scale))
	if layer {
		lc := newLayerClient(tb, r)
		lc.newLayer(tb, layershell.LayerShellV1LayerTop, bottomBar(lc.h, 8)).show(tb, 0x0000ff)
	}
	fd := r.dialFD(tb)
	tb.Cleanup(func() { unix.Close(fd) })
	h0 := rawConn(tb, fd)
	win := newWindow(tb, h0, bufSize)

	// The setup connection shared the socket's file status: make it
	// blocking again for the frame loop's plain reads.
	must(tb, unix.SetNonblock(fd, false))
	fc := &frameClient{fd: fd, callback: h0.NewID()}
	fc.frame = append(fc.frame, protocoltest.Message(win.surface, 1, win.buffer, int32(0), int32(0))...)
	fc.frame = append(fc.frame, protocoltest.Message(win.surface, 9, int32(0), int32(0), int32(bufSize), int32(bufSize))...)
	fc.frame = append(fc.frame, protocoltest.Message(win.surface, 3, fc.callback)...)
	fc.frame = append(fc.frame, protocoltest.Message(win.surface, 6)...)
	return fc
}

// drawFrame commits one frame and reads until its callback is done and
// its id released, so the next frame can reuse the id.
func (fc *frameClient) drawFrame(tb testing.TB) {
	if _, err := unix.Write(fc.fd, fc.frame); err != nil {
		tb.Fatal(err)
	}
	done, deleted := false, false
	for !done || !deleted {
		for fc.have >= 8 {
			size := int(binary.LittleEndian.Uint32(fc.buf[4:]) >> 16)
			if size < 8 || fc.have < size {
				break
			}
			obj := binary.LittleEndian.Uint32(fc.buf[0:])
			op := binary.LittleEndian.Uint32(fc.buf[4:]) & 0xffff
			switch {
			case obj == fc.callback && op == 0:
				done = true
			case obj == 1 && op == 1 && binary.LittleEndian.Uint32(fc.buf[8:]) == fc.callback:
				deleted = true
			case obj == 1 && op == 0:
				tb.Fatalf("protocol error: object %d code %d", binary.LittleEndian.Uint32(fc.buf[8:]), binary.LittleEndian.Uint32(fc.buf[12:]))
			}
			copy(fc.buf[:], fc.buf[size:fc.have])
			fc.have -= size
		}
		if done && deleted {
			return
		}
		n, err := unix.Read(fc.fd, fc.buf[fc.have:])
		if err != nil || n == 0 {
			tb.Fatalf("read: %d %v", n, err)
		}
		fc.have += n
	}
}
