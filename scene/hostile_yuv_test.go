package scene_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	linuxdmabuf "github.com/vitrine-wm/vitrine/protocol/dmabuf"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// Multi-plane (YUV) linux-dmabuf params: every plane is checked against
// its own fd, whatever the client claims.

// yuvPlane is one zwp_linux_buffer_params_v1.add.
type yuvPlane struct {
	fd             int
	idx            uint32
	offset, stride uint32
	modifier       uint64
}

// sendYUV adds planes and asks for a w×h buffer of format with
// create_immed; it returns the params object, which errors name.
func sendYUV(t *testing.T, h *protocoltest.Client, w, hgt int32, format render.Format, planes []yuvPlane) uint32 {
	t.Helper()
	dm := getRegistry(t, h).bind(t, "zwp_linux_dmabuf_v1", 4)
	params := h.NewID()
	must(t, h.Send(dm, 1, params))
	for _, p := range planes {
		must(t, h.SendFDs([]int{p.fd}, params, 1, p.idx, p.offset, p.stride, uint32(p.modifier>>32), uint32(p.modifier)))
	}
	must(t, h.Send(params, 3, h.NewID(), w, hgt, uint32(format), uint32(0)))
	return params
}

// nv12 is a well-formed 64x64 NV12 layout in one memfd: luma at 0,
// chroma at 64*64.
func nv12(t *testing.T, hs *hostileRig) []yuvPlane {
	fd := hs.memfd(t, 64*64*3/2)
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	must(t, err)
	hs.hold(dup)
	return []yuvPlane{{fd: fd, idx: 0, stride: 64}, {fd: dup, idx: 1, offset: 64 * 64, stride: 64}}
}

// TestHostileNV12Memfd: a correct NV12 layout passes every bounds check
// and is refused only because a memfd is not a dma-buf, which shows the
// checks below refuse what they refuse for their own reasons.
func TestHostileNV12Memfd(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorInvalidWlBuffer, msg: "not a dma-buf"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		return sendYUV(t, h, 64, 64, render.NV12, nv12(t, hs))
	})
}

func TestHostileNV12WithoutChromaPlane(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorIncomplete, msg: "needs 2 planes, plane 1 missing"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		return sendYUV(t, h, 64, 64, render.NV12, nv12(t, hs)[:1])
	})
}

func TestHostileYUV420WithFourPlanes(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorIncomplete, msg: "has 3 planes, plane 3 given"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		fd := hs.memfd(t, 64*64*2)
		var planes []yuvPlane
		for i := uint32(0); i < 4; i++ {
			dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
			must(t, err)
			hs.hold(dup)
			planes = append(planes, yuvPlane{fd: dup, idx: i, stride: 64})
		}
		return sendYUV(t, h, 64, 64, render.YUV420, planes)
	})
}

// TestHostileNV12ChromaPastTheEnd: the chroma plane's rows run past the
// buffer although its offset is inside it.
func TestHostileNV12ChromaPastTheEnd(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, msg: "plane 1: 32 rows of 64 bytes"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := nv12(t, hs)
		p[1].offset = 64*64 + 64
		return sendYUV(t, h, 64, 64, render.NV12, p)
	})
}

// TestHostileNV12DisjointShortChroma: planes in separate fds are each
// checked against their own size: a chroma fd too small for its plane
// is refused although the luma fd is large.
func TestHostileNV12DisjointShortChroma(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, msg: "plane 1: 32 rows of 64 bytes at offset 0, stride 64 need more than the 1024-byte buffer"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		luma, chroma := hs.memfd(t, 1<<20), hs.memfd(t, 1024)
		return sendYUV(t, h, 64, 64, render.NV12, []yuvPlane{{fd: luma, idx: 0, stride: 64}, {fd: chroma, idx: 1, stride: 64}})
	})
}

func TestHostileNV12ZeroChromaStride(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, msg: "plane 1: stride 0 is not between"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := nv12(t, hs)
		p[1].stride = 0
		return sendYUV(t, h, 64, 64, render.NV12, p)
	})
}

// TestHostileNV12HugeStride: a stride whose product with the height
// overflows 32 bits must not wrap into a small number.
func TestHostileNV12HugeStride(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, msg: "plane 0: stride 4294967232 is not between"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := nv12(t, hs)
		p[0].stride = 0xffffffc0
		return sendYUV(t, h, 64, 64, render.NV12, p)
	})
}

func TestHostileNV12ShortLumaStride(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, msg: "plane 0: stride 63 is shorter than a row of 64 pixels"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := nv12(t, hs)
		p[0].stride = 63
		return sendYUV(t, h, 64, 64, render.NV12, p)
	})
}

func TestHostileNV12MixedModifiers(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorInvalidFormat, msg: "different modifiers"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		p := nv12(t, hs)
		p[1].modifier = 0x0100000000000001
		return sendYUV(t, h, 64, 64, render.NV12, p)
	})
}

// TestHostileYUV420ThirdPlaneOffsetPastEnd: the last plane of a
// three-plane layout starts past its fd.
func TestHostileYUV420ThirdPlaneOffsetPastEnd(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: linuxdmabuf.LinuxBufferParamsV1ErrorOutOfBounds, msg: "plane 2: offset 4294967295 is past"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		fd := hs.memfd(t, 64*64*3/2)
		var planes []yuvPlane
		for i, off := range []uint32{0, 64 * 64, 0xffffffff} {
			dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
			must(t, err)
			hs.hold(dup)
			stride := uint32(32)
			if i == 0 {
				stride = 64
			}
			planes = append(planes, yuvPlane{fd: dup, idx: uint32(i), offset: off, stride: stride})
		}
		return sendYUV(t, h, 64, 64, render.YUV420, planes)
	})
}
