package kms

import (
	"fmt"
	"image"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
)

// PlaneTest is one cell of the plane matrix: a buffer of Format from
// Allocator, imported into a display device, made a framebuffer and put
// on one of its planes in an atomic TEST_ONLY commit (with the mode set
// on a connected connector, as a compositor's first frame would be).
// Each step holds "ok", an errno name or "" when it was not reached.
type PlaneTest struct {
	Device    string `json:"device"`
	Driver    string `json:"driver"`
	Plane     uint32 `json:"plane"`
	PlaneType string `json:"plane_type"`
	// Allocator is dumb:/dev/dri/cardN (exported from that card),
	// udmabuf or dma-heap:NAME.
	Allocator string `json:"allocator"`
	Format    string `json:"format"`
	Size      string `json:"size"`
	Alloc     string `json:"alloc"`
	Import    string `json:"import"`
	AddFB2    string `json:"addfb2"`
	TestOnly  string `json:"test_only"`
}

// Outcome is the first step that failed, or "ok".
func (t PlaneTest) Outcome() string {
	for _, s := range []string{t.Alloc, t.Import, t.AddFB2, t.TestOnly} {
		if s != "ok" {
			if s == "" {
				return "skipped"
			}
			return s
		}
	}
	return "ok"
}

// planeTestFormats are what the matrix tries, where a plane lists them.
var planeTestFormats = []uint32{FormatXRGB8888, FormatARGB8888, FormatNV12}

// FormatNV12 is DRM_FORMAT_NV12: a luma plane, then interleaved chroma.
const FormatNV12 = 'N' | 'V'<<8 | '1'<<16 | '2'<<24

// planeTestBuffer is one allocated test buffer.
type planeTestBuffer struct {
	fd      int
	planes  []FBPlane // Handle filled in by the importer
	release func()
}

// testPlanes fills the plane matrix of display device to. cards are the
// primary nodes whose dumb buffers are tried (to among them).
func testPlanes(to *Device, cards []*Device) []PlaneTest {
	if !to.Atomic() {
		return nil
	}
	setup, err := newPlaneTestSetup(to)
	if err != nil {
		return []PlaneTest{{Device: to.Path(), Driver: to.Driver(), TestOnly: errnoName(err)}}
	}
	defer setup.close()
	type allocator struct {
		name  string
		alloc func(format uint32, w, h int) (*planeTestBuffer, error)
	}
	var allocs []allocator
	for _, c := range cards {
		c := c
		allocs = append(allocs, allocator{"dumb:" + c.Path(), func(f uint32, w, h int) (*planeTestBuffer, error) { return dumbTestBuffer(c, f, w, h) }})
	}
	allocs = append(allocs, allocator{"udmabuf", func(f uint32, w, h int) (*planeTestBuffer, error) {
		return memTestBuffer(f, w, h, func(size int) (int, error) {
			fd, memfd, err := dmabuf.Udmabuf(size)
			if err == nil {
				unix.Close(memfd)
			}
			return fd, err
		})
	}})
	for _, heap := range dmabuf.Heaps() {
		allocs = append(allocs, allocator{"dma-heap:" + heap, func(f uint32, w, h int) (*planeTestBuffer, error) {
			return memTestBuffer(f, w, h, func(size int) (int, error) { return dmabuf.HeapAlloc(heap, size) })
		}})
	}
	var out []PlaneTest
	for _, p := range setup.planes {
		dst := setup.planeRect(p)
		for _, f := range planeTestFormats {
			if !slices.Contains(p.Formats, f) {
				continue
			}
			for _, a := range allocs {
				t := PlaneTest{Device: to.Path(), Driver: to.Driver(), Plane: p.ID, PlaneType: planeTypeName(p.Type()),
					Allocator: a.name, Format: FourCC(f), Size: fmt.Sprintf("%dx%d", dst.Dx(), dst.Dy())}
				setup.try(&t, p, f, dst, a.alloc, a.name == "dumb:"+to.Path())
				out = append(out, t)
			}
		}
	}
	return out
}

// planeTestSetup is the modeset state every test commit carries: a
// connected connector's preferred mode on a CRTC it can drive, with the
// primary plane showing a dumb buffer of the device's own.
type planeTestSetup struct {
	dev       *Device
	connID    uint32
	connProps Props
	crtcID    uint32
	crtcProps Props
	mode      Mode
	modeBlob  uint32
	primary   *Plane
	base      *DumbBuffer
	baseFB    uint32
	planes    []*Plane
	cursorW   int
	cursorH   int
}

func newPlaneTestSetup(d *Device) (*planeTestSetup, error) {
	res, err := d.Resources()
	if err != nil {
		return nil, err
	}
	s := &planeTestSetup{dev: d, cursorW: 64, cursorH: 64}
	crtcIdx := -1
	for _, id := range res.Connectors {
		c, err := d.Connector(id)
		if err != nil || c.Connection != Connected || len(c.Modes) == 0 {
			continue
		}
		for _, eid := range c.Encoders {
			e, err := d.Encoder(eid)
			if err != nil {
				continue
			}
			for i := range res.CRTCs {
				if e.PossibleCrtcs&(1<<i) != 0 {
					crtcIdx = i
					break
				}
			}
			if crtcIdx >= 0 {
				break
			}
		}
		if crtcIdx < 0 {
			continue
		}
		s.connID, s.mode = id, c.Modes[0]
		for _, m := range c.Modes {
			if m.Preferred {
				s.mode = m
				break
			}
		}
		break
	}
	if crtcIdx < 0 {
		return nil, fmt.Errorf("no connected connector with a CRTC")
	}
	s.crtcID = res.CRTCs[crtcIdx]
	if s.connProps, err = d.ObjectProps(s.connID, ObjectConnector); err != nil {
		return nil, err
	}
	if s.crtcProps, err = d.ObjectProps(s.crtcID, ObjectCRTC); err != nil {
		return nil, err
	}
	planes, err := d.Planes()
	if err != nil {
		return nil, err
	}
	for _, p := range planes {
		if p.PossibleCrtcs&(1<<crtcIdx) == 0 {
			continue
		}
		s.planes = append(s.planes, p)
		if p.Type() == PlanePrimary && s.primary == nil {
			s.primary = p
		}
	}
	if s.primary == nil {
		return nil, fmt.Errorf("no primary plane for CRTC %d", s.crtcID)
	}
	if v, err := d.Cap(CapCursorWidth); err == nil && v > 0 && v <= 512 {
		s.cursorW = int(v)
	}
	if v, err := d.Cap(CapCursorHeight); err == nil && v > 0 && v <= 512 {
		s.cursorH = int(v)
	}
	if s.modeBlob, err = d.CreateBlob(s.mode.blob()); err != nil {
		return nil, err
	}
	if s.base, err = d.CreateDumb(s.mode.Width, s.mode.Height, 32); err != nil {
		s.close()
		return nil, err
	}
	if s.baseFB, err = d.AddFB2(s.mode.Width, s.mode.Height, FormatXRGB8888, ModifierInvalid, []FBPlane{{Handle: s.base.Handle, Pitch: uint32(s.base.Pitch)}}); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *planeTestSetup) close() {
	if s.baseFB != 0 {
		s.dev.RmFB(s.baseFB)
	}
	if s.base != nil {
		s.dev.DestroyDumb(s.base)
	}
	if s.modeBlob != 0 {
		s.dev.DestroyBlob(s.modeBlob)
	}
}

// planeRect is where a test buffer goes on p: the whole mode on the
// primary plane, the cursor size on a cursor plane, a 256x256 square at
// the top left on an overlay.
func (s *planeTestSetup) planeRect(p *Plane) image.Rectangle {
	switch p.Type() {
	case PlanePrimary:
		return image.Rect(0, 0, s.mode.Width, s.mode.Height)
	case PlaneCursor:
		return image.Rect(0, 0, s.cursorW, s.cursorH)
	}
	return image.Rect(0, 0, min(256, s.mode.Width), min(256, s.mode.Height))
}

// try runs one test into t. own: the buffer is a dumb buffer of s.dev
// itself, whose import gives back the buffer's own handle.
func (s *planeTestSetup) try(t *PlaneTest, p *Plane, format uint32, dst image.Rectangle, alloc func(uint32, int, int) (*planeTestBuffer, error), own bool) {
	w, h := dst.Dx(), dst.Dy()
	buf, err := alloc(format, w, h)
	if err != nil {
		t.Alloc = errnoName(err)
		return
	}
	defer buf.release()
	t.Alloc = "ok"
	handle, err := s.dev.ImportDMABUF(buf.fd)
	if err != nil {
		t.Import = errnoName(err)
		return
	}
	t.Import = "ok"
	if !own {
		defer s.dev.CloseHandle(handle)
	}
	planes := slices.Clone(buf.planes)
	for i := range planes {
		planes[i].Handle = handle
	}
	fb, err := s.dev.AddFB2(w, h, format, ModifierInvalid, planes)
	if err != nil {
		t.AddFB2 = errnoName(err)
		return
	}
	defer s.dev.RmFB(fb)
	t.AddFB2 = "ok"
	req := &AtomicRequest{}
	req.Add(s.connID, s.connProps.ID("CRTC_ID"), uint64(s.crtcID))
	req.Add(s.crtcID, s.crtcProps.ID("MODE_ID"), uint64(s.modeBlob))
	req.Add(s.crtcID, s.crtcProps.ID("ACTIVE"), 1)
	full := image.Rect(0, 0, s.mode.Width, s.mode.Height)
	if p != s.primary {
		planeOn(req, s.primary, s.crtcID, s.baseFB, full, full)
	}
	planeOn(req, p, s.crtcID, fb, image.Rect(0, 0, w, h), dst)
	if err := s.dev.Commit(req, AtomicTestOnly|AtomicAllowModeset, 0); err != nil {
		t.TestOnly = errnoName(err)
		return
	}
	t.TestOnly = "ok"
}

// planeOn adds plane p showing src of framebuffer fb at dst on crtc.
func planeOn(req *AtomicRequest, p *Plane, crtc, fb uint32, src, dst image.Rectangle) {
	req.Add(p.ID, p.Props.ID("FB_ID"), uint64(fb))
	req.Add(p.ID, p.Props.ID("CRTC_ID"), uint64(crtc))
	req.Add(p.ID, p.Props.ID("SRC_X"), uint64(src.Min.X)<<16)
	req.Add(p.ID, p.Props.ID("SRC_Y"), uint64(src.Min.Y)<<16)
	req.Add(p.ID, p.Props.ID("SRC_W"), uint64(src.Dx())<<16)
	req.Add(p.ID, p.Props.ID("SRC_H"), uint64(src.Dy())<<16)
	req.Add(p.ID, p.Props.ID("CRTC_X"), uint64(dst.Min.X))
	req.Add(p.ID, p.Props.ID("CRTC_Y"), uint64(dst.Min.Y))
	req.Add(p.ID, p.Props.ID("CRTC_W"), uint64(dst.Dx()))
	req.Add(p.ID, p.Props.ID("CRTC_H"), uint64(dst.Dy()))
}

// testLayout is the planes of a w×h buffer of format in memory of the
// given row alignment: offsets and pitches, and the bytes needed.
func testLayout(format uint32, w, h, align int) ([]FBPlane, int) {
	if format == FormatNV12 {
		stride := (w + align - 1) / align * align
		return []FBPlane{{Pitch: uint32(stride)}, {Pitch: uint32(stride), Offset: uint32(stride * h)}}, stride * (h + (h+1)/2)
	}
	stride := (w*4 + align - 1) / align * align
	return []FBPlane{{Pitch: uint32(stride)}}, stride * h
}

// dumbTestBuffer is a dumb buffer of card exported as a dma-buf: 32 bpp
// for RGB, an 8-bit buffer of 1.5 times the height for NV12.
func dumbTestBuffer(card *Device, format uint32, w, h int) (*planeTestBuffer, error) {
	bpp, rows := 32, h
	if format == FormatNV12 {
		bpp, rows = 8, h+(h+1)/2
	}
	db, err := card.CreateDumb(w, rows, bpp)
	if err != nil {
		return nil, err
	}
	fd, err := card.ExportDMABUF(db.Handle)
	if err != nil {
		card.DestroyDumb(db)
		return nil, err
	}
	planes := []FBPlane{{Pitch: uint32(db.Pitch)}}
	if format == FormatNV12 {
		planes = append(planes, FBPlane{Pitch: uint32(db.Pitch), Offset: uint32(db.Pitch * h)})
	}
	return &planeTestBuffer{fd: fd, planes: planes, release: func() {
		unix.Close(fd)
		card.DestroyDumb(db)
	}}, nil
}

// memTestBuffer is system memory from a dma-buf allocator (udmabuf, a
// dma-heap), in whole pages.
func memTestBuffer(format uint32, w, h int, alloc func(size int) (int, error)) (*planeTestBuffer, error) {
	planes, size := testLayout(format, w, h, 256)
	size = (size + 4095) &^ 4095
	fd, err := alloc(size)
	if err != nil {
		return nil, err
	}
	return &planeTestBuffer{fd: fd, planes: planes, release: func() { unix.Close(fd) }}, nil
}
