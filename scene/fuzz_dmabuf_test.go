package scene_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// Ops of a FuzzDmabufParams input (first byte of each, modulo 5); the
// bytes after an op pick its arguments from the tables below.
const (
	dmaOpAdd         = iota // fd kind, plane index, offset, stride, modifier
	dmaOpCreate             // width, height, format, flags
	dmaOpCreateImmed        // width, height, format, flags
	dmaOpNewParams          // further ops go to a new params object
	dmaOpDestroy            // destroy the params (with its planes), then a new one
)

// dmaFD is a kind of fd a client may pass as a plane: memfds of some
// sizes (one sparse and huge), a pipe, /dev/null.
type dmaFD struct {
	name string
	size int64 // -1: cannot be sized (lseek fails)
}

var (
	dmaFDs = []dmaFD{
		{"memfd 0", 0}, {"memfd 1", 1}, {"memfd 4095", 4095}, {"memfd 64x64x4", 64 * 64 * 4},
		{"memfd 1 GiB", 1 << 30}, {"pipe", -1}, {"/dev/null", 0}, {"memfd 64x64 NV12", 64 * 64 * 3 / 2},
	}
	dmaPlaneIdx = []uint32{0, 1, 2, 3, 4, 5, 6, 7, 1 << 31, math.MaxUint32}
	dmaUint32s  = []uint32{0, 1, 63, 64, 256, 4096, math.MaxInt32, math.MaxUint32}
	dmaMods     = []uint64{0, 0x00ffffffffffffff, 1, 0x0100000000000001, math.MaxUint64, math.MaxUint32}
	dmaSizes    = []int32{0, -1, 1, 16, 64, 16384, 16385, math.MaxInt32, math.MinInt32}
	dmaFormats  = []uint32{uint32(render.XRGB8888), uint32(render.ARGB8888), uint32(render.RGB565),
		uint32(render.NV12), uint32(render.YUV420), uint32(render.P010), 0x12345678, 0}
	dmaFlags = []uint32{0, 1, 7, math.MaxUint32}
	// The formats the headless compositor reads from a linear dma-buf.
	dmaReadable = []uint32{uint32(render.ARGB8888), uint32(render.XRGB8888), uint32(render.ABGR8888),
		uint32(render.XBGR8888), uint32(render.RGB565), uint32(render.NV12), uint32(render.NV21),
		uint32(render.YUV420), uint32(render.YVU420), uint32(render.P010)}
)

// linux-dmabuf-unstable-v1.xml's zwp_linux_buffer_params_v1 errors, and
// dmaFailed for the failed event.
const (
	dmaAlreadyUsed = iota
	dmaPlaneIdxErr
	dmaPlaneSet
	dmaIncomplete
	dmaInvalidFormat
	dmaInvalidDimensions
	dmaOutOfBounds
	dmaInvalidWlBuffer
	dmaFailed = -1
)

// dmaOp is one request of an input.
type dmaOp struct {
	op                  int
	fd                  dmaFD
	idx, offset, stride uint32
	mod                 uint64
	w, h                int32
	format, flags       uint32
	params, buffer      uint32 // object ids
	newParams           uint32 // dmaOpNewParams, dmaOpDestroy: the params made
}

// decodeDmaInput turns an input into requests (at most 24).
func decodeDmaInput(data []byte) []dmaOp {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		c := data[0]
		data = data[1:]
		return c
	}
	pick := func(n int) int { return int(next()) % n }
	var ops []dmaOp
	params, buffer := uint32(4), uint32(0x100)
	for len(data) > 0 && len(ops) < 24 {
		o := dmaOp{op: pick(5), params: params}
		switch o.op {
		case dmaOpAdd:
			o.fd = dmaFDs[pick(len(dmaFDs))]
			o.idx = dmaPlaneIdx[pick(len(dmaPlaneIdx))]
			o.offset = dmaUint32s[pick(len(dmaUint32s))]
			o.stride = dmaUint32s[pick(len(dmaUint32s))]
			o.mod = dmaMods[pick(len(dmaMods))]
		case dmaOpCreate, dmaOpCreateImmed:
			o.w, o.h = dmaSizes[pick(len(dmaSizes))], dmaSizes[pick(len(dmaSizes))]
			o.format = dmaFormats[pick(len(dmaFormats))]
			o.flags = dmaFlags[pick(len(dmaFlags))]
			if o.op == dmaOpCreateImmed {
				o.buffer = buffer
				buffer++
			}
		case dmaOpNewParams, dmaOpDestroy:
			params++
			o.newParams = params
		}
		ops = append(ops, o)
	}
	return ops
}

// openDmaFD makes an fd of kind k; the second fd, if any, is the
// client's to close too (a pipe's other end).
func openDmaFD(t *testing.T, k dmaFD) (int, int) {
	switch k.name {
	case "pipe":
		var p [2]int
		must(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
		return p[0], p[1]
	case "/dev/null":
		fd, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
		must(t, err)
		return fd, -1
	}
	fd, err := unix.MemfdCreate("fuzz-dmabuf", unix.MFD_CLOEXEC)
	must(t, err)
	must(t, unix.Ftruncate(fd, k.size))
	return fd, -1
}

// dmaModel is what the protocol says of one params object.
type dmaModel struct {
	used   bool
	planes [4]*dmaOp
}

// addError is the error an add must raise, or -2 for none.
func (m *dmaModel) addError(o *dmaOp) int {
	switch {
	case m.used:
		return dmaAlreadyUsed
	case o.idx >= 4:
		return dmaPlaneIdxErr
	case m.planes[o.idx] != nil:
		return dmaPlaneSet
	}
	m.planes[o.idx] = o
	return -2
}

// createOutcomes is what a create (immed: create_immed) may get: the
// error codes of every rule the params break, else the bounds error if
// a plane is out of its fd's bounds, else failed (create_immed:
// invalid_wl_buffer), since no fd here is a dma-buf. A plane on an fd
// that cannot be sized (a pipe) also allows failed.
func (m *dmaModel) createOutcomes(o *dmaOp, immed bool) []int {
	if m.used {
		return []int{dmaAlreadyUsed}
	}
	m.used = true
	n := render.Format(o.format).Planes()
	var broken []int
	for i, p := range m.planes {
		if (i < n) != (p != nil) {
			broken = append(broken, dmaIncomplete)
			break
		}
	}
	// Beyond the XML: vitrine's own limits, 16384 pixels a side and a
	// 1 MiB stride (what the renderer takes).
	if o.w <= 0 || o.h <= 0 || o.w > 16384 || o.h > 16384 {
		broken = append(broken, dmaInvalidDimensions)
	}
	fmtBad := !slices.Contains(dmaReadable, o.format)
	if p := m.planes[0]; p != nil && p.mod != 0 && p.mod != 0x00ffffffffffffff {
		fmtBad = true
	}
	for i := 1; i < n; i++ {
		if m.planes[0] != nil && m.planes[i] != nil && m.planes[i].mod != m.planes[0].mod {
			fmtBad = true
		}
	}
	if fmtBad {
		broken = append(broken, dmaInvalidFormat)
	}
	if len(broken) > 0 {
		return broken
	}
	oob, unsized := false, false
	for i := range n {
		p := m.planes[i]
		if p.fd.size < 0 {
			unsized = true
			continue
		}
		row, rows := render.Format(o.format).PlaneSize(i, int(o.w), int(o.h))
		off, stride, size := int64(p.offset), int64(p.stride), p.fd.size
		if off >= size || stride == 0 || stride > 1<<20 || stride < int64(row) || off+stride*int64(rows-1)+int64(row) > size {
			oob = true
		}
	}
	var out []int
	if oob {
		out = append(out, dmaOutOfBounds)
	}
	if unsized || !oob {
		if immed {
			out = append(out, dmaInvalidWlBuffer)
		} else {
			out = append(out, dmaFailed)
		}
	}
	return out
}

// dmaEvent is what the client saw: a params event or the error.
type dmaEvent struct {
	object uint32
	kind   string // "failed", "created", "error"
	code   int
	msg    string
}

func (e dmaEvent) String() string {
	if e.kind == "error" {
		return fmt.Sprintf("error on %d code %d %q", e.object, e.code, e.msg)
	}
	return fmt.Sprintf("%s on %d", e.kind, e.object)
}

// FuzzDmabufParams feeds a live compositor zwp_linux_buffer_params_v1
// request sequences: adds with plane indexes in and out of range,
// repeated planes, offsets, strides and modifiers at 0, 1, odd values,
// 2^31-1 and 2^32-1, on memfds of several sizes, a pipe and /dev/null;
// create and create_immed of sizes 0, negative, huge, known and unknown
// formats, any flags. What the client gets must be what
// linux-dmabuf-unstable-v1.xml says (dmaModel): the error code of a rule
// the params break, or failed (create_immed: invalid_wl_buffer) for fds
// that are no dma-buf; never created, as this machine has no udmabuf or
// other dma-buf exporter, so a successful import is not tested here. The
// compositor stays up, and once the client is gone no fd it passed is
// left open.
func FuzzDmabufParams(f *testing.F) {
	r := startRig(f, 64, 64, 1000000, render.Normal, protocol.Options{})
	probe := r.dial(f)
	dmabufName := getRegistry(f, probe).globals["zwp_linux_dmabuf_v1"][0]
	probe.Close()
	preamble := slices.Concat(
		protocoltest.Message(1, 1, uint32(2)), // get_registry
		protocoltest.Message(2, 0, dmabufName, "zwp_linux_dmabuf_v1", uint32(4), uint32(3)),
		protocoltest.Message(3, 1, uint32(4)), // create_params
	)

	xrgb64 := []byte{dmaOpAdd, 3, 0, 0, 4, 0} // memfd 64x64x4, plane 0, offset 0, stride 256, linear
	create64 := []byte{dmaOpCreate, 4, 4, 0, 0}
	f.Add(slices.Concat(xrgb64, create64))                                                        // failed: not a dma-buf
	f.Add(slices.Concat(xrgb64, []byte{dmaOpCreateImmed, 4, 4, 0, 0}))                            // invalid_wl_buffer
	f.Add([]byte{dmaOpAdd, 3, 4, 0, 4, 0})                                                        // plane_idx
	f.Add([]byte{dmaOpAdd, 3, 9, 0, 4, 0})                                                        // plane_idx 2^32-1
	f.Add(slices.Concat(xrgb64, xrgb64))                                                          // plane_set
	f.Add(slices.Concat(xrgb64, create64, create64))                                              // failed, already_used
	f.Add(slices.Concat(xrgb64, create64, []byte{dmaOpAdd, 3, 1, 0, 4, 0}))                       // failed, already_used
	f.Add([]byte{dmaOpAdd, 7, 0, 0, 3, 0, dmaOpCreate, 4, 4, 3, 0})                               // NV12 without chroma: incomplete
	f.Add([]byte{dmaOpAdd, 7, 0, 0, 3, 0, dmaOpAdd, 7, 1, 5, 3, 0, dmaOpCreate, 4, 4, 3, 0})      // NV12: failed
	f.Add([]byte{dmaOpAdd, 7, 0, 0, 3, 0, dmaOpAdd, 7, 1, 5, 3, 1, dmaOpCreate, 4, 4, 3, 0})      // NV12 mixed modifiers
	f.Add(slices.Concat(xrgb64, []byte{dmaOpCreate, 0, 4, 0, 0}))                                 // invalid_dimensions
	f.Add(slices.Concat(xrgb64, []byte{dmaOpCreate, 8, 7, 0, 3}))                                 // invalid_dimensions, min/max
	f.Add(slices.Concat(xrgb64, []byte{dmaOpCreate, 4, 4, 6, 0}))                                 // invalid_format
	f.Add(slices.Concat([]byte{dmaOpAdd, 3, 0, 0, 4, 2}, create64))                               // unsupported modifier
	f.Add(slices.Concat([]byte{dmaOpAdd, 3, 0, 7, 4, 0}, create64))                               // offset 2^32-1
	f.Add(slices.Concat([]byte{dmaOpAdd, 3, 0, 0, 0, 0}, create64))                               // stride 0
	f.Add(slices.Concat([]byte{dmaOpAdd, 4, 0, 6, 6, 0}, create64))                               // stride 2^31-1
	f.Add(slices.Concat([]byte{dmaOpAdd, 5, 0, 0, 4, 0}, create64))                               // pipe: failed
	f.Add(slices.Concat([]byte{dmaOpAdd, 6, 0, 0, 4, 0}, create64))                               // /dev/null: out_of_bounds
	f.Add(slices.Concat(xrgb64, []byte{dmaOpAdd, 3, 1, 0, 4, 0, dmaOpDestroy}, xrgb64, create64)) // destroy with planes
	f.Add(slices.Concat(xrgb64, create64, []byte{dmaOpNewParams}, xrgb64, create64))              // failed twice

	// The fds the rig itself has open once the probe is gone: the
	// compositor's own must come back to this after every input.
	for deadline := time.Now().Add(3 * time.Second); r.clients(f) != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			f.Fatal("the probe client is still connected after 3 s")
		}
	}
	base := openFDs(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := decodeDmaInput(data)
		h, err := protocoltest.Dial(r.socket)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		h.Conn().SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := h.Write(preamble); err != nil {
			t.Fatal(err)
		}
	send:
		for i := range ops {
			o := &ops[i]
			var err error
			switch o.op {
			case dmaOpAdd:
				fd, other := openDmaFD(t, o.fd)
				err = h.SendFDs([]int{fd}, o.params, 1, o.idx, o.offset, o.stride, uint32(o.mod>>32), uint32(o.mod))
				unix.Close(fd)
				if other >= 0 {
					unix.Close(other)
				}
			case dmaOpCreate:
				err = h.Send(o.params, 2, o.w, o.h, o.format, o.flags)
			case dmaOpCreateImmed:
				err = h.Send(o.params, 3, o.buffer, o.w, o.h, o.format, o.flags)
			case dmaOpNewParams:
				err = h.Send(3, 1, o.newParams)
			case dmaOpDestroy:
				if err = h.Send(o.params, 0); err == nil {
					err = h.Send(3, 1, o.newParams)
				}
			}
			if err != nil {
				break send // disconnected: what was read tells why
			}
		}
		h.Send(1, 0, uint32(fuzzSyncID))
		events, synced := readDmaEvents(t, h)
		checkDmaOutcomes(t, ops, events, synced)
		h.Close()

		// The compositor is still running, and once it has dropped the
		// client no fd the client passed is open.
		r.onLoop(t, func() {})
		deadline := time.Now().Add(3 * time.Second)
		for {
			var leaked []string
			for fd, target := range openFDs(t) {
				if _, ok := base[fd]; !ok {
					leaked = append(leaked, fmt.Sprintf("%d %s", fd, target))
				}
			}
			n := r.clients(t)
			if len(leaked) == 0 && n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the client left: %d clients, %d fds left open: %v", n, len(leaked), leaked)
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// readDmaEvents reads until the final sync (true) or the end of the
// connection, keeping params events and the error.
func readDmaEvents(t *testing.T, h *protocoltest.Client) (events []dmaEvent, synced bool) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := h.Read(time.Until(deadline))
		if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) {
			return events, false
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the compositor neither answered a sync nor disconnected the client within 5 s")
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Object == fuzzSyncID:
			return events, true
		case e.Object == 1 && e.Opcode == 0:
			events = append(events, dmaEvent{object: e.Uint(0), kind: "error", code: int(e.Uint(1)), msg: e.String(2)})
		case e.Object >= 4 && e.Object < 0x100 && e.Opcode == 0:
			events = append(events, dmaEvent{object: e.Object, kind: "created"})
		case e.Object >= 4 && e.Object < 0x100 && e.Opcode == 1:
			events = append(events, dmaEvent{object: e.Object, kind: "failed"})
		}
	}
}

// checkDmaOutcomes walks the requests with the model beside what the
// client saw.
func checkDmaOutcomes(t *testing.T, ops []dmaOp, events []dmaEvent, synced bool) {
	t.Helper()
	models := map[uint32]*dmaModel{4: {}}
	k := 0
	nextEvent := func() (dmaEvent, bool) {
		if k == len(events) {
			return dmaEvent{}, false
		}
		k++
		return events[k-1], true
	}
	// wantError checks that the connection ended with one of codes on
	// the params object.
	wantError := func(i int, o *dmaOp, codes []int) {
		t.Helper()
		e, ok := nextEvent()
		if !ok || e.kind != "error" || e.object != o.params || !slices.Contains(codes, e.code) {
			t.Fatalf("request %d (%+v): got %v (ok %v), want an error on %d with code in %v; all events %v", i, *o, e, ok, o.params, codes, events)
		}
		t.Logf("request %d: %v", i, e)
	}
	for i := range ops {
		o := &ops[i]
		m := models[o.params]
		switch o.op {
		case dmaOpAdd:
			if code := m.addError(o); code != -2 {
				wantError(i, o, []int{code})
				return
			}
		case dmaOpCreate, dmaOpCreateImmed:
			want := m.createOutcomes(o, o.op == dmaOpCreateImmed)
			if slices.Contains(want, dmaFailed) && k < len(events) && events[k].kind == "failed" && events[k].object == o.params {
				k++
				continue
			}
			want = slices.DeleteFunc(want, func(c int) bool { return c == dmaFailed })
			if len(want) == 0 {
				t.Fatalf("request %d (%+v): want a failed event, got %v; all events %v", i, *o, events[k:], events)
			}
			wantError(i, o, want)
			return
		case dmaOpNewParams, dmaOpDestroy:
			models[o.newParams] = &dmaModel{}
		}
	}
	if k != len(events) || !synced {
		t.Fatalf("the params were all valid as far as the protocol goes, but the client got %v (synced %v)", events[k:], synced)
	}
}
