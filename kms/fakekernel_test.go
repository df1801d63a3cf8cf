package kms

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// fakeKernel answers the ioctls an Output issues per frame the way the
// DRM core does (one GEM handle per dma-buf and file, framebuffers that
// must exist, one flip in flight per CRTC) and records what the output
// asked for, so flip, scanout and free ordering can be checked without a
// device.
type fakeKernel struct {
	objects map[int32]int   // dma-buf fd → the buffer object behind it
	handles map[uint32]int  // open GEM handle → object
	fbs     map[uint32]bool // live framebuffers
	nextID  uint32          // handles, framebuffers and blobs
	screen  uint32          // framebuffer on the plane
	pending uint32          // framebuffer of a flip not yet completed
	// userData is what the event of the commit in flight carries.
	userData uint64
	last     map[uint32]uint64 // property values of the last real atomic commit

	refuseImport, refuseTest, refuseFlip bool // for client framebuffers
	// notMaster: master-only ioctls fail with EACCES, as after the
	// session manager took DRM master away.
	notMaster bool

	// The cursor plane: property values of the last commit that carried
	// it, whether a cursor-only commit is in flight, and whether TEST_ONLY
	// refuses it.
	cursor        map[uint32]uint64
	cursorPending bool
	refuseCursor  bool

	// Dumb buffers (withDumbMemory): where the next one is mapped in
	// the memfd standing in for the device file, and each one's offset.
	dumbOffset  uint64
	dumbOffsets map[uint32]uint64
	// refuseModeset: ALLOW_MODESET tests and SETCRTC fail (a mode the
	// display cannot take).
	refuseModeset bool
	// late holds the events of flips that a blocking commit waited for:
	// they are still queued on the fd, as in the kernel.
	late []FlipEvent

	calls        []string
	shownRemoved []uint32 // RMFB of a framebuffer on screen or pending

	// Overlay planes (withOverlays): how many, the plane state that the
	// real commits built up (committed, landed: what a flip in flight
	// has not replaced yet), and whether TEST_ONLY refuses any overlay.
	overlays       int
	committed      map[uint32]uint64
	landed         map[uint32]uint64
	refuseOverlays bool
	overlayTests   int

	// parsed is the request being checked; last and cursor are copied
	// from it, so that a steady frame allocates nothing in the fake either
	// (the allocation tests measure the frame path, not the fake).
	parsed map[uint32]uint64
}

// Dumb framebuffers are numbered below firstClientFB by the tests; the
// fake numbers everything it creates from there.
const firstClientFB = 50

// Property ids of the fake plane and CRTC.
var fakePlaneProps = []string{"FB_ID", "CRTC_ID", "SRC_X", "SRC_Y", "SRC_W", "SRC_H", "CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H", "FB_DAMAGE_CLIPS"}

func fakePropID(name string) uint32 { return uint32(100 + slices.Index(fakePlaneProps, name)) }

func newFakeKernel() *fakeKernel {
	return &fakeKernel{
		objects: map[int32]int{}, handles: map[uint32]int{}, fbs: map[uint32]bool{},
		nextID: firstClientFB,
		parsed: map[uint32]uint64{}, last: map[uint32]uint64{}, cursor: map[uint32]uint64{},
		committed: map[uint32]uint64{}, landed: map[uint32]uint64{},
	}
}

func (k *fakeKernel) count(call string) int {
	n := 0
	for _, c := range k.calls {
		if c == call {
			n++
		}
	}
	return n
}

// field reads a pointer the output stored in a __u64 field of an ioctl
// argument (the memory is pinned for the duration of the call).
func field[T any](p *uint64, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(*(*unsafe.Pointer)(unsafe.Pointer(p))), n)
}

func (k *fakeKernel) ioctl(req uintptr, arg unsafe.Pointer) error {
	if k.notMaster {
		switch req {
		case ioctlModeAtomic, ioctlModePageFlip, ioctlModeDirtyFB, ioctlModeSetCrtc:
			return unix.EACCES
		}
	}
	switch req {
	case ioctlGetCap:
		(*drmGetCap)(arg).Value = 1 // ADDFB2_MODIFIERS
		return nil
	case ioctlPrimeFDToHandle:
		k.calls = append(k.calls, "PRIME_FD_TO_HANDLE")
		p := (*drmPrimeHandle)(arg)
		obj, ok := k.objects[p.Fd]
		if !ok || k.refuseImport {
			return unix.EINVAL
		}
		for h, o := range k.handles {
			if o == obj {
				p.Handle = h
				return nil
			}
		}
		k.nextID++
		k.handles[k.nextID] = obj
		p.Handle = k.nextID
		return nil
	case ioctlGemClose:
		k.calls = append(k.calls, "GEM_CLOSE")
		h := (*drmGemClose)(arg).Handle
		if _, ok := k.handles[h]; !ok {
			return unix.EINVAL
		}
		delete(k.handles, h)
		return nil
	case ioctlModeAddFB2:
		k.calls = append(k.calls, "ADDFB2")
		c := (*modeFbCmd2)(arg)
		if _, ok := k.handles[c.Handles[0]]; !ok {
			return unix.ENOENT
		}
		k.nextID++
		c.FbID = k.nextID
		k.fbs[c.FbID] = true
		return nil
	case ioctlModeRmFB:
		k.calls = append(k.calls, "RMFB")
		id := *(*uint32)(arg)
		if !k.fbs[id] {
			return unix.ENOENT
		}
		if id == k.screen || id == k.pending || k.onOverlay(id) {
			k.shownRemoved = append(k.shownRemoved, id)
		}
		delete(k.fbs, id)
		return nil
	case ioctlModeAtomic:
		a := (*modeAtomic)(arg)
		counts := field[uint32](&a.CountPropsPtr, int(a.CountObjs))
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		props := field[uint32](&a.PropsPtr, total)
		values := field[uint64](&a.PropValuesPtr, total)
		state := k.parsed
		clear(state)
		for i, p := range props {
			state[p] = values[i]
		}
		cfb, hasCursor := state[fakeCursorPropID("FB_ID")]
		if hasCursor && cfb != 0 && !k.fbs[uint32(cfb)] {
			return unix.EINVAL
		}
		fbv, hasPrimary := state[fakePropID("FB_ID")]
		if !hasPrimary && hasCursor {
			return k.cursorCommit(a.Flags, state, a.UserData)
		}
		fb := uint32(fbv)
		if !k.fbs[fb] {
			return unix.EINVAL
		}
		overlays := 0
		for i := range k.overlays {
			if ofb := state[fakeOverlayPropID(i, "FB_ID")]; ofb != 0 {
				if !k.fbs[uint32(ofb)] {
					return unix.EINVAL
				}
				overlays++
			}
		}
		if a.Flags&AtomicTestOnly != 0 {
			k.calls = append(k.calls, "TEST_ONLY")
			if k.refuseModeset && a.Flags&AtomicAllowModeset != 0 {
				return unix.EINVAL
			}
			if overlays > 0 {
				k.overlayTests++
				if k.refuseOverlays {
					return unix.EINVAL
				}
			}
			if k.refuseTest && fb >= firstClientFB {
				return unix.EINVAL
			}
			return nil
		}
		k.calls = append(k.calls, "COMMIT")
		if a.Flags&AtomicNonblock == 0 && k.pending != 0 {
			// A blocking commit waits for the flip in flight; that
			// flip's event stays queued.
			k.late = append(k.late, k.finishFlip())
		}
		if k.pending != 0 || k.cursorPending {
			return unix.EBUSY
		}
		clear(k.last)
		maps.Copy(k.last, state)
		maps.Copy(k.committed, state)
		if hasCursor {
			clear(k.cursor)
			maps.Copy(k.cursor, state)
		}
		if a.Flags&AtomicNonblock == 0 {
			k.screen = fb // a blocking commit is done when it returns
			return nil
		}
		k.pending, k.userData = fb, a.UserData
		return nil
	case ioctlModePageFlip:
		k.calls = append(k.calls, "PAGE_FLIP")
		f := (*modeCrtcPageFlip)(arg)
		if !k.fbs[f.FbID] || (k.refuseFlip && f.FbID >= firstClientFB) {
			return unix.EINVAL
		}
		if k.pending != 0 {
			return unix.EBUSY
		}
		k.pending, k.userData = f.FbID, f.UserData
		return nil
	case ioctlModeDirtyFB:
		k.calls = append(k.calls, "DIRTYFB")
		return nil
	case ioctlModeCreatePropBlob:
		k.nextID++
		(*modeCreateBlob)(arg).BlobID = k.nextID
		return nil
	case ioctlModeDestroyBlob, ioctlModeDestroyDumb:
		return nil
	case ioctlModeSetCrtc:
		k.calls = append(k.calls, "SETCRTC")
		if k.refuseModeset {
			return unix.EINVAL
		}
		if k.pending != 0 {
			k.late = append(k.late, k.finishFlip())
		}
		k.screen = (*modeCrtc)(arg).FbID
		return nil
	case ioctlModeCreateDumb:
		if k.dumbOffsets == nil {
			return fmt.Errorf("fake kernel: CREATE_DUMB without withDumbMemory")
		}
		c := (*modeCreateDumb)(arg)
		c.Pitch = c.Width * c.Bpp / 8
		c.Size = uint64(c.Pitch) * uint64(c.Height)
		k.nextID++
		c.Handle = k.nextID
		k.handles[c.Handle] = -1
		k.dumbOffsets[c.Handle] = k.dumbOffset
		k.dumbOffset += (c.Size + 4095) &^ 4095
		return nil
	case ioctlModeMapDumb:
		m := (*modeMapDumb)(arg)
		off, ok := k.dumbOffsets[m.Handle]
		if !ok {
			return unix.ENOENT
		}
		m.Offset = off
		return nil
	}
	return fmt.Errorf("fake kernel: unexpected ioctl %#x", req)
}

// cursorCommit is an atomic request touching only the cursor plane.
func (k *fakeKernel) cursorCommit(flags uint32, state map[uint32]uint64, userData uint64) error {
	if flags&AtomicTestOnly != 0 {
		k.calls = append(k.calls, "CURSOR_TEST")
		if k.refuseCursor {
			return unix.EINVAL
		}
		return nil
	}
	k.calls = append(k.calls, "CURSOR_COMMIT")
	if k.pending != 0 || k.cursorPending {
		return unix.EBUSY
	}
	clear(k.cursor)
	maps.Copy(k.cursor, state)
	k.cursorPending = flags&AtomicNonblock != 0
	k.userData = userData
	return nil
}

// fakeCursorPropID is the id of the fake cursor plane's property name.
func fakeCursorPropID(name string) uint32 { return fakePropID(name) + 300 }

// withCursor gives the output a 64x64 cursor plane (id 8) whose two
// buffers are framebuffers 40 and 41.
func (f *fakeOutput) withCursor() {
	props := Props{}
	for _, n := range fakePlaneProps {
		props[n] = PropValue{ID: fakeCursorPropID(n)}
	}
	c := &cursorPlane{plane: &Plane{ID: 8, Props: props}, w: 64, h: 64, shown: -1}
	c.timer = f.loop.newTimer(f.flushCursorLater)
	for i := range c.bufs {
		c.bufs[i] = &scanoutBuffer{dumb: &DumbBuffer{Handle: uint32(940 + i)}, fb: uint32(40 + i),
			img: render.Image{Pix: make([]byte, 64*64*4), Stride: 256, Width: 64, Height: 64, Format: render.ARGB8888}}
		f.k.fbs[c.bufs[i].fb] = true
	}
	f.cursor = c
}

// completeCursor lands the cursor-only commit in flight.
func (f *fakeOutput) completeCursor() {
	f.t.Helper()
	if !f.k.cursorPending {
		f.t.Fatal("no cursor commit pending")
	}
	f.k.cursorPending = false
	f.handleFlip(FlipEvent{UserData: f.k.userData})
}

// buffer is a 64x48 linear XRGB8888 client buffer whose planes are the
// given fds, all of dma-buf object obj.
func (k *fakeKernel) buffer(obj int, fds ...int32) *dmabuf.Buffer {
	b := &dmabuf.Buffer{Width: 64, Height: 48, Format: FormatXRGB8888, Modifier: ModifierLinear}
	for _, fd := range fds {
		k.objects[fd] = obj
		b.Planes = append(b.Planes, dmabuf.Plane{FD: int(fd), Stride: 256})
	}
	return b
}

// fakeLoop stands in for the compositor's loop: a clock the test moves
// and the timers the output armed on it.
type fakeLoop struct {
	clock  time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	fn    func()
	at    time.Duration
	armed bool
}

func (t *fakeTimer) Set(at time.Duration) { t.at, t.armed = at, true }
func (t *fakeTimer) Stop()                { t.armed = false }

func (l *fakeLoop) newTimer(fn func()) *fakeTimer {
	t := &fakeTimer{fn: fn}
	l.timers = append(l.timers, t)
	return t
}

func (l *fakeLoop) now() time.Duration { return l.clock }

// idle is the loop with no event coming: every armed timer fires in
// deadline order, the clock moving to each deadline.
func (l *fakeLoop) idle() {
	for {
		var next *fakeTimer
		for _, t := range l.timers {
			if t.armed && (next == nil || t.at < next.at) {
				next = t
			}
		}
		if next == nil {
			return
		}
		l.clock = max(l.clock, next.at)
		next.armed = false
		next.fn()
	}
}

type fakeOutput struct {
	*Output
	k    *fakeKernel
	loop *fakeLoop
	done []present.Info // completions notified, oldest first
	t    *testing.T
}

// newFakeOutput is a 64x48 output already showing dumb buffer 1 (of
// `buffers`, framebuffers 1..buffers), as NewOutput leaves it.
func newFakeOutput(t *testing.T, atomic bool, buffers int) *fakeOutput {
	t.Helper()
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the fake kernel reads __u64 pointers as 64-bit pointers")
	}
	k := newFakeKernel()
	props := Props{}
	for _, n := range fakePlaneProps {
		props[n] = PropValue{ID: fakePropID(n)}
	}
	f := &fakeOutput{k: k, loop: &fakeLoop{clock: time.Hour}, t: t}
	o := &Output{
		dev:    &Device{path: "fake", fd: -1, fake: k.ioctl, atomic: atomic},
		log:    slog.New(slog.DiscardHandler),
		notify: func(i present.Info) { f.done = append(f.done, i) },
		now:    f.loop.now,
		name:   "fake-1", crtcID: 9,
		plane:     &Plane{ID: 7, Formats: []uint32{FormatXRGB8888}, Props: props},
		crtcProps: Props{"ACTIVE": {ID: 200}, "MODE_ID": {ID: 201}},
		connProps: Props{"CRTC_ID": {ID: 300}},
		// A 1 ms refresh keeps completion pacing out of the way.
		mode:   Mode{Width: 64, Height: 48, RefreshMilliHz: 1000 * 1000},
		atomic: atomic, ring: NewDamageRing(8), format: render.XRGB8888,
		maxBuffers: buffers, shadow: render.NewImage(64, 48, render.XRGB8888),
	}
	o.ring.Add([]image.Rectangle{o.shadow.Bounds()})
	for i := range buffers {
		b := &scanoutBuffer{
			dumb: &DumbBuffer{Handle: uint32(900 + i)}, fb: uint32(1 + i), seq: o.ring.Seq(),
			img: render.Image{Pix: make([]byte, 64*48*4), Stride: 256, Width: 64, Height: 48, Format: render.XRGB8888},
		}
		o.bufs = append(o.bufs, b)
		k.fbs[b.fb] = true
	}
	o.front = o.bufs[0]
	k.screen = 1
	o.initScanout()
	o.initOverlays(true) // withOverlays adds planes
	o.paceTimer = f.loop.newTimer(o.deliverDue)
	f.Output = o
	return f
}

// finishFlip completes the flip in flight in the kernel and returns its
// event, without delivering it: an event queued on the fd, not read yet.
func (k *fakeKernel) finishFlip() FlipEvent {
	k.screen, k.pending = k.pending, 0
	maps.Copy(k.landed, k.committed)
	return FlipEvent{Type: EventFlipComplete, UserData: k.userData}
}

// land delivers the event of the flip in flight, as DispatchEvents does.
func (f *fakeOutput) land() {
	f.t.Helper()
	if f.k.pending == 0 {
		f.t.Fatal("no flip pending")
	}
	f.handleFlip(f.k.finishFlip())
}

// complete lands the pending flip and returns the completion notified.
func (f *fakeOutput) complete() present.Info {
	f.t.Helper()
	f.land()
	return f.wait()
}

// wait returns the oldest completion not looked at yet, letting the
// loop's timers run if none was notified.
func (f *fakeOutput) wait() present.Info {
	f.t.Helper()
	if len(f.done) == 0 {
		f.loop.idle()
	}
	if len(f.done) == 0 {
		f.t.Fatalf("no completion; calls %v", f.k.calls)
	}
	info := f.done[0]
	f.done = f.done[1:]
	return info
}

func (f *fakeOutput) mustScanout(key uint64, buf *dmabuf.Buffer) {
	f.t.Helper()
	ok, err := f.Scanout(key, buf)
	if !ok || err != nil {
		f.t.Fatalf("Scanout(%d) = %v, %v; calls %v", key, ok, err, f.k.calls)
	}
}

const fakeFrameBytes = 64 * 48 * 4

func TestScanoutThenCompositeAtomic(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	buf := f.k.buffer(1, 30)
	f.mustScanout(1, buf)
	if f.k.pending < firstClientFB {
		t.Fatalf("committed framebuffer %d, want the client's", f.k.pending)
	}
	if f.k.last[fakePropID("SRC_W")] != 64<<16 || f.k.last[fakePropID("CRTC_H")] != 48 {
		t.Errorf("scanout commit without full-screen plane rectangles: %v", f.k.last)
	}
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
		t.Fatal(err)
	}
	if f.k.count("COMMIT") != 1 {
		t.Fatal("a frame presented during the scanout flip was committed at once")
	}
	// That frame waits for the flip; drop it to keep the test about
	// scanout.
	f.queued, f.queuedFrame = f.queued[:0], false
	if info := f.complete(); info.Flags&present.ZeroCopy == 0 {
		t.Errorf("scanout completion flags %#x lack present.ZeroCopy", info.Flags)
	}
	f.mustScanout(1, buf)
	f.complete()
	if n := f.k.count("TEST_ONLY"); n != 1 {
		t.Errorf("%d TEST_ONLY commits for one buffer shown twice, want 1", n)
	}
	if n := f.k.count("PRIME_FD_TO_HANDLE"); n != 1 {
		t.Errorf("%d imports for one buffer shown twice, want 1", n)
	}
	if f.CopiedBytes() != 0 || f.Scanouts() != 2 || f.Frames() != 0 {
		t.Errorf("after two scanouts: copied %d, scanouts %d, frames %d", f.CopiedBytes(), f.Scanouts(), f.Frames())
	}

	// Back to compositing with a small damage: neither dumb buffer was on
	// screen meanwhile, so each is copied whole the first time it is used.
	small := []image.Rectangle{image.Rect(0, 0, 8, 8)}
	for i, want := range []int64{fakeFrameBytes, fakeFrameBytes, 8 * 8 * 4} {
		before := f.CopiedBytes()
		if err := f.Present(small); err != nil {
			t.Fatal(err)
		}
		if got := f.CopiedBytes() - before; got != want {
			t.Errorf("frame %d after scanout copied %d bytes, want %d", i, got, want)
		}
		if f.k.pending >= firstClientFB {
			t.Fatalf("frame %d committed client framebuffer %d", i, f.k.pending)
		}
		if i == 0 && f.k.last[fakePropID("SRC_W")] != 64<<16 {
			t.Error("first composited frame after scanout left the plane rectangles to chance")
		}
		if info := f.complete(); info.Flags&present.ZeroCopy != 0 {
			t.Errorf("composited frame %d reported zero-copy", i)
		}
	}
	if len(f.k.shownRemoved) > 0 {
		t.Errorf("framebuffers removed while shown: %v", f.k.shownRemoved)
	}
}

func TestScanoutRefusalRemembered(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.k.refuseTest = true
	buf := f.k.buffer(1, 30)
	for range 2 {
		if ok, err := f.Scanout(1, buf); ok || err != nil {
			t.Fatalf("refused buffer: Scanout = %v, %v", ok, err)
		}
	}
	if n := f.k.count("TEST_ONLY"); n != 1 {
		t.Errorf("%d TEST_ONLY commits for a refused buffer tried twice, want 1", n)
	}
	if len(f.k.handles) != 0 || len(f.k.fbs) != 2 {
		t.Errorf("refused buffer left handles %v, framebuffers %v", f.k.handles, f.k.fbs)
	}
	if f.k.pending != 0 || f.Scanouts() != 0 {
		t.Error("refused buffer was committed")
	}
	// Forget ends the refusal: the key may name a new buffer.
	f.Forget(1)
	f.k.refuseTest = false
	f.mustScanout(1, buf)

	f.complete()
	f.k.refuseImport = true
	if ok, err := f.Scanout(2, f.k.buffer(2, 31)); ok || err != nil {
		t.Fatalf("unimportable buffer: Scanout = %v, %v", ok, err)
	}
}

func TestScanoutWhilePendingFails(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.mustScanout(1, f.k.buffer(1, 30))
	if ok, err := f.Scanout(2, f.k.buffer(2, 31)); ok || err == nil {
		t.Errorf("Scanout during a pending flip = %v, %v; want an error", ok, err)
	}
}

func TestForgetDefersRemovalWhileShown(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.mustScanout(1, f.k.buffer(1, 30))
	fb := f.k.pending
	f.Forget(1) // pending
	f.complete()
	if !f.k.fbs[fb] {
		t.Fatal("framebuffer removed while its flip was pending")
	}
	full := []image.Rectangle{f.Shadow().Bounds()}
	if err := f.Present(full); err != nil {
		t.Fatal(err)
	}
	if !f.k.fbs[fb] {
		t.Fatal("framebuffer removed while still on screen")
	}
	f.complete()
	if f.k.fbs[fb] || len(f.k.handles) != 0 {
		t.Errorf("replaced framebuffer not freed: fbs %v, handles %v", f.k.fbs, f.k.handles)
	}
	if len(f.k.shownRemoved) > 0 {
		t.Errorf("framebuffers removed while shown: %v", f.k.shownRemoved)
	}

	// Off screen: freed at once.
	f.mustScanout(2, f.k.buffer(2, 31))
	f.complete()
	f.mustScanout(3, f.k.buffer(3, 32))
	f.complete()
	before := f.k.count("RMFB")
	f.Forget(2)
	if f.k.count("RMFB") != before+1 {
		t.Error("framebuffer off screen not freed by Forget")
	}
}

func TestImportSharesHandles(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	// Two planes in two fds of one dma-buf: one handle.
	two := f.k.buffer(1, 30, 31)
	two.Planes[1].Offset = 64 * 48 * 4
	f.mustScanout(1, two)
	f.complete()
	// Another key (wl_buffer) on the same dma-buf shares the handle too.
	f.mustScanout(2, f.k.buffer(1, 32))
	f.complete()
	if len(f.k.handles) != 1 {
		t.Fatalf("handles %v, want one", f.k.handles)
	}
	f.Forget(1)
	if len(f.k.handles) != 1 {
		t.Fatal("handle closed while another framebuffer's key still uses it")
	}
	if err := f.Present([]image.Rectangle{f.Shadow().Bounds()}); err != nil {
		t.Fatal(err)
	}
	f.complete()
	f.Forget(2)
	if len(f.k.handles) != 0 || f.k.count("GEM_CLOSE") != 1 {
		t.Errorf("handles %v after %d GEM_CLOSE, want none after 1", f.k.handles, f.k.count("GEM_CLOSE"))
	}
}

func TestScanoutLegacyOneBuffer(t *testing.T) {
	// cirrus/udl style: one dumb buffer kept on screen with DIRTYFB.
	f := newFakeOutput(t, false, 1)
	f.dirtyFB = true
	small := f.k.buffer(1, 30)
	small.Width = 32
	if ok, err := f.Scanout(1, small); ok || err != nil {
		t.Fatalf("buffer smaller than the mode: Scanout = %v, %v", ok, err)
	}
	if len(f.k.calls) != 0 {
		t.Errorf("size refusal cost ioctls %v", f.k.calls)
	}
	f.mustScanout(2, f.k.buffer(2, 31))
	if f.k.count("PAGE_FLIP") != 1 || f.k.pending < firstClientFB {
		t.Fatalf("calls %v, pending %d", f.k.calls, f.k.pending)
	}
	if info := f.complete(); info.Flags&present.ZeroCopy == 0 {
		t.Errorf("flags %#x lack present.ZeroCopy", info.Flags)
	}
	// The dumb buffer is off screen now: DIRTYFB alone would show nothing.
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
		t.Fatal(err)
	}
	if f.k.pending != 1 || f.CopiedBytes() != fakeFrameBytes {
		t.Fatalf("first frame after scanout: pending fb %d (want 1), copied %d (want %d)", f.k.pending, f.CopiedBytes(), fakeFrameBytes)
	}
	f.complete()
	flips := f.k.count("PAGE_FLIP")
	if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
		t.Fatal(err)
	}
	f.wait()
	if f.k.count("PAGE_FLIP") != flips || f.k.pending != 0 {
		t.Error("second frame after scanout flipped instead of DIRTYFB")
	}

	// A PAGE_FLIP the driver refuses is remembered.
	f.k.refuseFlip = true
	buf := f.k.buffer(3, 32)
	for range 2 {
		if ok, err := f.Scanout(3, buf); ok || err != nil {
			t.Fatalf("refused flip: Scanout = %v, %v", ok, err)
		}
	}
	if n := f.k.count("PAGE_FLIP"); n != flips+1 {
		t.Errorf("refused buffer flipped %d times, want once", n-flips)
	}
}

func TestCloseFreesClientFramebuffers(t *testing.T) {
	f := newFakeOutput(t, true, 2)
	f.mustScanout(1, f.k.buffer(1, 30))
	f.complete()
	f.mustScanout(2, f.k.buffer(2, 31))
	f.Forget(1)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.k.fbs) != 0 || len(f.k.handles) != 0 {
		t.Errorf("after Close: framebuffers %v, handles %v", f.k.fbs, f.k.handles)
	}
}

func TestResumeAfterScanout(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		f := newFakeOutput(t, atomic, 2)
		f.mustScanout(1, f.k.buffer(1, 30))
		f.complete()
		fb := f.k.screen
		f.Forget(1)
		// Another master had the display; the session is back.
		if err := f.Resume(); err != nil {
			t.Fatalf("atomic=%v: Resume: %v", atomic, err)
		}
		if f.k.screen >= firstClientFB || f.k.screen == 0 {
			t.Errorf("atomic=%v: resumed on framebuffer %d, want a dumb one", atomic, f.k.screen)
		}
		if f.k.fbs[fb] {
			t.Errorf("atomic=%v: forgotten client framebuffer kept after Resume replaced it", atomic)
		}
		before := f.CopiedBytes()
		if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
			t.Fatal(err)
		}
		if got := f.CopiedBytes() - before; got != fakeFrameBytes {
			t.Errorf("atomic=%v: first frame after resume copied %d bytes, want the whole %d", atomic, got, fakeFrameBytes)
		}
		if len(f.k.shownRemoved) > 0 {
			t.Errorf("atomic=%v: framebuffers removed while shown: %v", atomic, f.k.shownRemoved)
		}
	}
}

// fakeOverlayPropID is the id of overlay plane i's property name.
func fakeOverlayPropID(i int, name string) uint32 {
	id := fakePropID(name)
	if extra := slices.Index([]string{"zpos", "alpha"}, name); extra >= 0 {
		id = uint32(100 + len(fakePlaneProps) + extra)
	}
	return id + 500 + 100*uint32(i)
}

// onOverlay reports whether fb is on an overlay plane, committed or
// still on screen behind a flip in flight.
func (k *fakeKernel) onOverlay(fb uint32) bool {
	for i := range k.overlays {
		id := fakeOverlayPropID(i, "FB_ID")
		if k.committed[id] == uint64(fb) || k.landed[id] == uint64(fb) {
			return true
		}
	}
	return false
}

// overlayFB is the framebuffer overlay plane i shows after the last
// real commit (0: off).
func (k *fakeKernel) overlayFB(i int) uint32 {
	return uint32(k.committed[fakeOverlayPropID(i, "FB_ID")])
}

// withOverlays gives the output n overlay planes (ids 20, 21, ...) that
// take linear XRGB8888 and ARGB8888, with a zpos each.
func (f *fakeOutput) withOverlays(n int) {
	f.k.overlays = n
	for i := range n {
		props := Props{}
		for _, name := range append(slices.Clip(fakePlaneProps), "zpos", "alpha") {
			props[name] = PropValue{ID: fakeOverlayPropID(i, name)}
		}
		ov := &overlayPlane{plane: &Plane{ID: uint32(20 + i), Props: props},
			formats: map[uint32][]uint64{FormatXRGB8888: {ModifierLinear}, FormatARGB8888: {ModifierLinear}},
			zpos:    uint64(i + 1), setZpos: true}
		f.overlays = append(f.overlays, ov)
		f.overlayInfo = append(f.overlayInfo, present.PlaneInfo{ID: ov.plane.ID, Formats: ov.formats})
	}
	f.checked = make([]overlaySlot, n)
}

// TestFlipFromBeforeResumeIgnored: a flip in flight when the session
// paused completes in the kernel, but its event is read only after the
// session came back (the resume and the event arrive in one loop
// iteration) and after the first frame since was committed. The event
// must not complete that frame: the compositor completed the old one
// itself on resume, and a frame committed next on the strength of the
// stale event would hit a CRTC still flipping (EBUSY, "present failed").
func TestFlipFromBeforeResumeIgnored(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		f := newFakeOutput(t, atomic, 2)
		if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
			t.Fatal(err)
		}
		stale := f.k.finishFlip()
		if err := f.Resume(); err != nil {
			t.Fatalf("atomic=%v: Resume: %v", atomic, err)
		}
		if err := f.Present([]image.Rectangle{image.Rect(8, 0, 16, 8)}); err != nil {
			t.Fatalf("atomic=%v: first frame after resume: %v", atomic, err)
		}
		f.handleFlip(stale)
		f.loop.idle()
		if len(f.done) != 0 {
			t.Errorf("atomic=%v: the event of the flip from before the pause completed the frame after the resume", atomic)
		}
		f.done = nil
		if err := f.Present([]image.Rectangle{image.Rect(16, 0, 24, 8)}); err != nil {
			t.Fatalf("atomic=%v: second frame after resume: %v (calls %v)", atomic, err, f.k.calls)
		}
		f.complete()
		f.complete()
		if len(f.done) != 0 {
			t.Errorf("atomic=%v: %d completions too many", atomic, len(f.done))
		}
	}
}

// TestNotMasterIsRevokedNotRefused: with DRM master taken away (a session
// pausing), a frame fails with present.ErrRevoked, and a client buffer
// the TEST_ONLY could not judge is not remembered as refused: it goes on
// the plane once the display is back.
func TestNotMasterIsRevokedNotRefused(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		f := newFakeOutput(t, atomic, 2)
		f.k.notMaster = true
		if err := f.Present([]image.Rectangle{image.Rect(0, 0, 8, 8)}); !errors.Is(err, present.ErrRevoked) {
			t.Errorf("atomic=%v: Present without master = %v, want present.ErrRevoked", atomic, err)
		}
		ok, err := f.Scanout(1, f.k.buffer(1, 30))
		if ok || !errors.Is(err, present.ErrRevoked) {
			t.Errorf("atomic=%v: Scanout without master = %v, %v, want false and present.ErrRevoked", atomic, ok, err)
		}
		f.k.notMaster = false
		if err := f.Resume(); err != nil {
			t.Fatalf("atomic=%v: Resume: %v", atomic, err)
		}
		f.mustScanout(1, f.k.buffer(1, 30))
		if info := f.complete(); info.Flags&present.ZeroCopy == 0 {
			t.Errorf("atomic=%v: the buffer was not scanned out after the resume (flags %v)", atomic, info.Flags)
		}
	}
}
