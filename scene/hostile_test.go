package scene_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/protocol/wl"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
)

// The hostile-client suite: each TestHostile case runs one misbehaving
// client beside a well-behaved one and checks three things: the
// misbehaviour gets the right reaction (a wl_display.error with the
// right object, code and message, or a disconnect whose reason is
// logged), the compositor is still up, and the bystander still gets
// frames and shows pixel-exact. Every case also checks that nothing the
// hostile client sent stays open in the compositor once it is gone.

// bystanderSize is the well-behaved window's size on the 64x64 output:
// smaller than the output so it is composited into the shadow, which
// is then the screenshot.
const bystanderSize = 32

type hostileRig struct {
	*rig
	bystander *window
	colour    uint32
	// held are fds the hostile client made; they are closed before the
	// leak check so only the compositor's own copies could remain.
	held    []int
	windows []*window
}

func startHostile(t *testing.T, opts protocol.Options, configure func(*scene.Config)) *hostileRig {
	t.Helper()
	hs := &hostileRig{rig: startRigConfig(t, 64, 64, 60000, render.Normal, opts, configure), colour: 0x102030}
	hs.bystander = newWindow(t, hs.dial(t), bystanderSize)
	hs.checkBystander(t)
	return hs
}

// checkBystander draws a new colour in the bystander's window and
// checks it reached the screen exactly, proving the compositor is up and
// still composes frames for others.
func (hs *hostileRig) checkBystander(t *testing.T) {
	t.Helper()
	hs.colour = hs.colour*3 + 0x0b0d07&0xffffff
	hs.colour &= 0xffffff
	hs.bystander.draw(t, hs.colour)
	if err := checkCentred(hs.screenshot(t), bystanderSize, hs.colour); err != nil {
		t.Fatalf("bystander after the hostile client: %v", err)
	}
}

// memfd makes a memfd of size bytes that the hostile client holds.
func (hs *hostileRig) memfd(t *testing.T, size int) int {
	t.Helper()
	fd, err := unix.MemfdCreate("hostile", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	must(t, unix.Ftruncate(fd, int64(size)))
	hs.held = append(hs.held, fd)
	return fd
}

// shmPool binds wl_shm and makes a pool of size bytes on it.
func (hs *hostileRig) shmPool(t *testing.T, h *protocoltest.Client, size int) uint32 {
	t.Helper()
	shm := getRegistry(t, h).bind(t, "wl_shm", 1)
	pool := h.NewID()
	must(t, h.SendFDs([]int{hs.memfd(t, size)}, shm, 0, pool, int32(size)))
	return pool
}

// hold records fds the hostile client made some other way.
func (hs *hostileRig) hold(fds ...int) { hs.held = append(hs.held, fds...) }

// reaction is what the compositor must do about a hostile client.
type reaction struct {
	// A wl_display.error with code and a message containing msg; if the
	// case returns a non-zero object id, the error must name it.
	code uint32
	msg  string
	// logged, if set, is a disconnect reason the log must contain
	// instead of an error the client is sent.
	logged string
	// tolerated: the client is within the protocol and stays connected;
	// the case checks what it needs itself.
	tolerated bool
	// unlock: the hostile client locked the session, which stays locked
	// after it is gone (ext-session-lock requires it); a new lock client
	// unlocks before the bystander is judged.
	unlock bool
}

// runHostile runs one hostile client and checks the three things.
func runHostile(t *testing.T, opts protocol.Options, want reaction, do func(t *testing.T, hs *hostileRig, h *protocoltest.Client) (blame uint32)) {
	t.Helper()
	runHostileConfig(t, opts, nil, want, do)
}

// runHostileConfig is runHostile with the compositor's Config adjusted
// by configure.
func runHostileConfig(t *testing.T, opts protocol.Options, configure func(*scene.Config), want reaction, do func(t *testing.T, hs *hostileRig, h *protocoltest.Client) (blame uint32)) {
	t.Helper()
	hs := startHostile(t, opts, configure)
	before := openFDs(t)
	h, err := protocoltest.Dial(hs.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	blame := do(t, hs, h)
	switch {
	case want.tolerated:
		must(t, h.Roundtrip(5*time.Second))
	case want.logged != "":
		if err := waitClosed(h, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		waitLog(t, hs.rig, want.logged)
	default:
		e, err := h.WaitError(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("disconnected with: object %d code %d %q", e.Object, e.Code, e.Message)
		if e.Code != want.code || !strings.Contains(e.Message, want.msg) {
			t.Fatalf("wl_display.error code %d %q, want code %d with %q", e.Code, e.Message, want.code, want.msg)
		}
		if blame != 0 && e.Object != blame {
			t.Fatalf("error names object %d, want %d", e.Object, blame)
		}
	}
	h.Close()
	for _, fd := range hs.held {
		unix.Close(fd)
	}
	for _, w := range hs.windows {
		w.closeMem()
	}
	// The hostile client's window must be gone before the bystander's
	// pixels can be judged.
	waitClients(t, hs.rig, 1)
	if want.unlock {
		recoverLock(t, hs.rig)
		waitClients(t, hs.rig, 1)
	}
	hs.checkBystander(t)
	checkNoLeak(t, hs.rig, before)
}

// waitClosed reads until the compositor closes the connection.
func waitClosed(h *protocoltest.Client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := h.Read(time.Until(deadline))
		if err == nil {
			continue
		}
		// A client that hung up itself (net.ErrClosed) cannot tell; the
		// log and the client count do.
		if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) || errors.Is(err, net.ErrClosed) {
			return nil
		}
		return errors.New("the compositor did not close the connection: " + err.Error())
	}
}

// waitLog waits for the log to mention s.
func waitLog(t *testing.T, r *rig, s string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(r.log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log does not mention %q:\n%s", s, r.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitClients waits until n clients are connected.
func waitClients(t *testing.T, r *rig, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for r.clients(t) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients connected, want %d", r.clients(t), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkNoLeak waits for the hostile client to be gone and checks every
// fd it made the compositor open was closed.
func checkNoLeak(t *testing.T, r *rig, before map[int]string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var leaked []string
		for fd, target := range openFDs(t) {
			if _, ok := before[fd]; !ok {
				leaked = append(leaked, target)
			}
		}
		n := r.clients(t)
		if len(leaked) == 0 && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(leaked)
			t.Fatalf("after the hostile client left: %d clients connected (want the bystander only), %d fds left open: %v", n, len(leaked), leaked)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostileWindow maps a small window of the hostile client's own, on top
// of the bystander and inside it.
func (hs *hostileRig) window(t *testing.T, h *protocoltest.Client) *window {
	w := newWindow(t, h, 16)
	hs.windows = append(hs.windows, w)
	return w
}

// commit attaches the window's buffer with full damage and commits,
// without waiting for anything.
func (w *window) commit(t *testing.T) {
	t.Helper()
	must(t, w.h.Send(w.surface, 1, w.buffer, int32(0), int32(0)))
	must(t, w.h.Send(w.surface, 9, int32(0), int32(0), int32(w.size), int32(w.size)))
	must(t, w.h.Send(w.surface, 6))
}

func TestHostileShmTruncatedBeforeShown(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.ShmErrorInvalidFd, msg: "error accessing SHM buffer"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		must(t, unix.Ftruncate(w.mem, 0))
		w.commit(t)
		return w.buffer
	})
}

func TestHostileShmTruncatedAfterShown(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.ShmErrorInvalidFd, msg: "error accessing SHM buffer"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		w.draw(t, 0xff0000)
		must(t, unix.Ftruncate(w.mem, 0))
		w.commit(t)
		return w.buffer
	})
}

func TestHostileShmPoolSizeOverflowsInt32(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.ShmErrorInvalidStride, msg: "invalid pool size -2147483648"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		shm := reg.bind(t, "wl_shm", 1)
		// 2^31 as the wire's int32: what a client computing the size in
		// unsigned arithmetic sends for a 2 GiB pool.
		must(t, h.SendFDs([]int{hs.memfd(t, 4096)}, shm, 0, h.NewID(), uint32(1<<31)))
		return shm
	})
}

func TestHostileShmBufferOverflowsPool(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.ShmErrorInvalidStride, msg: "ends past the 4096-byte pool"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		pool := hs.shmPool(t, h, 4096)
		// stride*height is 2^32: in int32 (or a 32-bit int) it wraps
		// to 0 and the buffer would seem to fit.
		must(t, h.Send(pool, 0, h.NewID(), int32(0), int32(0x4000), int32(0x10000), int32(0x10000), uint32(1)))
		return pool
	})
}

func TestHostileShmPoolResizedPastItsFile(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.ShmErrorInvalidFd, msg: "but the file has 4096 bytes"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		pool := hs.shmPool(t, h, 4096)
		must(t, h.Send(pool, 2, int32(1<<30)))
		return pool
	})
}

func TestHostileDirectoryAsShmPool(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.ShmErrorInvalidFd, msg: "mmap pool fd"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		dir, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		must(t, err)
		hs.hold(dir)
		shm := getRegistry(t, h).bind(t, "wl_shm", 1)
		must(t, h.SendFDs([]int{dir}, shm, 0, h.NewID(), int32(4096)))
		return shm
	})
}

func TestHostilePipeAsShmPool(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.ShmErrorInvalidFd, msg: "mmap pool fd"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		var p [2]int
		must(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
		hs.hold(p[0], p[1])
		shm := getRegistry(t, h).bind(t, "wl_shm", 1)
		must(t, h.SendFDs([]int{p[0]}, shm, 0, h.NewID(), int32(4096)))
		return shm
	})
}

// sendDmabuf asks for a 16x16 XRGB8888 dma-buf from fd with create_immed.
func sendDmabuf(t *testing.T, h *protocoltest.Client, fd int) uint32 {
	t.Helper()
	dm := getRegistry(t, h).bind(t, "zwp_linux_dmabuf_v1", 4)
	params := h.NewID()
	must(t, h.Send(dm, 1, params))
	must(t, h.SendFDs([]int{fd}, params, 1, uint32(0), uint32(0), uint32(64), uint32(0), uint32(0)))
	must(t, h.Send(params, 3, h.NewID(), int32(16), int32(16), uint32(0x34325258), uint32(0)))
	return params
}

func TestHostilePipeAsDmabuf(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 7, msg: "not a dma-buf"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		var p [2]int
		must(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
		hs.hold(p[0], p[1])
		return sendDmabuf(t, h, p[0])
	})
}

func TestHostileMemfdAsDmabuf(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 7, msg: "not a dma-buf"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		return sendDmabuf(t, h, hs.memfd(t, 16*64))
	})
}

func TestHostileBindVersionZero(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "invalid version"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		must(t, h.Send(reg.id, 0, reg.globals["wl_compositor"][0], "wl_compositor", uint32(0), h.NewID()))
		return reg.id
	})
}

func TestHostileBindVersionAboveAdvertised(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "invalid version"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		g := reg.globals["wl_compositor"]
		must(t, h.Send(reg.id, 0, g[0], "wl_compositor", g[1]+1, h.NewID()))
		return reg.id
	})
}

func TestHostileNewIDOfTheWrongInterface(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "invalid interface"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		// wl_shm's global bound as if it were the screencopy manager: the
		// client would treat the object as one and the compositor as the
		// other.
		must(t, h.Send(reg.id, 0, reg.globals["wl_shm"][0], "zwlr_screencopy_manager_v1", uint32(1), h.NewID()))
		return reg.id
	})
}

func TestHostileRequestOnDestroyedObject(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "invalid object"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		comp := getRegistry(t, h).bind(t, "wl_compositor", 4)
		region := h.NewID()
		must(t, h.Send(comp, 1, region))
		must(t, h.Send(region, 0))
		must(t, h.Send(region, 1, int32(0), int32(0), int32(4), int32(4)))
		return 1
	})
}

func TestHostileStringLargerThanTheMessage(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidMethod, msg: "past the end of the message"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		m := protocoltest.Message(reg.id, 0, reg.globals["wl_shm"][0], "wl_shm", uint32(1), h.NewID())
		binary.LittleEndian.PutUint32(m[12:], 5000) // the string's length
		must(t, h.Write(m))
		return reg.id
	})
}

func TestHostileStringWithoutTerminator(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidMethod, msg: "not NUL-terminated"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		m := protocoltest.Message(reg.id, 0, reg.globals["wl_shm"][0], "wl_shm", uint32(1), h.NewID())
		// "wl_shm\0" padded to 8: make all 8 bytes letters.
		copy(m[16:24], "wl_shmxx")
		binary.LittleEndian.PutUint32(m[12:], 8)
		must(t, h.Write(m))
		return reg.id
	})
}

// arrayTestInterface is a global whose one request takes an array, for
// the array cases: no protocol vitrine serves has an array request.
var arrayTestInterface = &protocol.Interface{
	Name:     "vitrine_test_array",
	Version:  1,
	Requests: []protocol.Message{{Name: "set", Since: 1, Signature: "a"}},
}

type arrayObject struct {
	protocol.Resource
	got [][]byte
}

func (o *arrayObject) Dispatch(op uint16, r *protocol.Reader) error {
	b := r.Array()
	if err := r.Finish(); err != nil {
		return err
	}
	o.got = append(o.got, slices.Clone(b))
	return nil
}

func TestHostileArrayLargerThanTheMessage(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidMethod, msg: "array of 4000 bytes past the end"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		hs.onLoop(t, func() {
			hs.srv.AddGlobal(arrayTestInterface, 1, func(c *protocol.Client, v, id uint32) error {
				return protocol.Register(c, &arrayObject{}, arrayTestInterface, id, v)
			})
		})
		reg := getRegistry(t, h)
		obj := reg.bind(t, "vitrine_test_array", 1)
		m := protocoltest.Message(obj, 0, []byte("abcdefgh"))
		binary.LittleEndian.PutUint32(m[8:], 4000)
		must(t, h.Write(m))
		return obj
	})
}

func TestHostileMessageCutOffByDisconnect(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{logged: "connection closed inside a message"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		m := protocoltest.Message(reg.id, 0, reg.globals["wl_shm"][0], "wl_shm", uint32(1), h.NewID())
		must(t, h.Write(m[:len(m)-6]))
		h.Conn().CloseWrite()
		return 0
	})
}

func TestHostileExtraFDsOnARequestThatTakesNone(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		// libwayland accepts fds ahead of the request that takes them,
		// so these wait in the client's fd queue; they must be closed
		// when the client goes (checkNoLeak) and not be handed to any
		// other client.
		must(t, h.SendFDs([]int{hs.memfd(t, 4096), hs.memfd(t, 4096), hs.memfd(t, 4096)}, 1, 0, h.NewID()))
		return 0
	})
}

func TestHostileMoreFDsInOneMessageThanTheCompositorReads(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{logged: "too many file descriptors in one message"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		// SCM_MAX_FD (253) is the kernel's limit: one more does not
		// even leave the client.
		fds := make([]int, 254)
		for i := range fds {
			fds[i] = hs.memfd(t, 0)
		}
		if err := h.SendFDs(fds, 1, 0, h.NewID()); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("sendmsg with 254 fds: %v, want EINVAL (SCM_MAX_FD)", err)
		}
		// 253 fds fit the kernel but not libwayland's 28-fd receive
		// buffer, nor vitrine's: the kernel truncates them.
		must(t, h.SendFDs(fds[:253], 1, 0, h.NewID()))
		return 0
	})
}

func TestHostileNeverReads(t *testing.T) {
	runHostile(t, protocol.Options{MaxQueue: 64 << 10}, reaction{logged: "not reading its socket"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		// Every sync makes 24 bytes of events; never read them.
		req := make([]byte, 0, 12*1000)
		for range 1000 {
			req = append(req, protocoltest.Message(1, 0, h.NewID())...)
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			h.Conn().SetWriteDeadline(time.Now().Add(time.Second))
			if err := h.Write(req); err != nil {
				return 0
			}
		}
		t.Fatal("the compositor kept taking requests from a client that reads nothing")
		return 0
	})
}

func TestHostileScreencopyIntoTooSmallBuffer(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "buffer must be a 64x64"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		frame, buffer := screencopyFrame(t, hs, h, 32)
		must(t, h.Send(frame, 0, buffer))
		return frame
	})
}

func TestHostileDiesDuringScreencopy(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{logged: "client closed the connection"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		frame, buffer := screencopyFrame(t, hs, h, 64)
		// copy waits for the next frame: once the roundtrip shows the
		// copy was taken, make sure a frame comes and go before it is
		// done (a vblank away).
		must(t, h.Send(frame, 0, buffer))
		must(t, h.Roundtrip(3*time.Second))
		hs.bystander.commit(t)
		h.Close()
		return 0
	})
}

// screencopyFrame starts capturing the output and makes a size×size
// XRGB8888 buffer to copy into.
func screencopyFrame(t *testing.T, hs *hostileRig, h *protocoltest.Client, size int) (frame, buffer uint32) {
	t.Helper()
	reg := getRegistry(t, h)
	mgr := reg.bind(t, "zwlr_screencopy_manager_v1", 3)
	out := reg.bind(t, "wl_output", 4)
	shm := reg.bind(t, "wl_shm", 1)
	frame = h.NewID()
	must(t, h.Send(mgr, 0, frame, int32(0), out))
	pool, buffer := h.NewID(), h.NewID()
	must(t, h.SendFDs([]int{hs.memfd(t, size*size*4)}, shm, 0, pool, int32(size*size*4)))
	must(t, h.Send(pool, 0, buffer, int32(0), int32(size), int32(size), int32(size*4), uint32(1)))
	return frame, buffer
}

func TestHostile1000FrameCallbacksOnOneCommit(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrNoMemory, msg: "frame callbacks"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		var batch []byte
		for range 1000 {
			batch = append(batch, protocoltest.Message(w.surface, 3, h.NewID())...)
		}
		// The compositor may cut the client off in the middle of the
		// batch; the reaction check says whether it did so rightly.
		if h.Write(batch) == nil {
			h.Send(w.surface, 6)
		}
		return w.surface
	})
}

func TestHostile100000Objects(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrNoMemory, msg: "objects"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		comp := getRegistry(t, h).bind(t, "wl_compositor", 4)
		var batch []byte
		for i := range 100000 {
			batch = append(batch, protocoltest.Message(comp, 1, h.NewID())...)
			if i%1000 == 999 {
				if err := h.Write(batch); err != nil {
					return 1 // cut off: the reaction check reads why
				}
				batch = batch[:0]
			}
		}
		return 1
	})
}

func TestHostile1000FDs(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrNoMemory, msg: "too many file descriptors"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		// 1000 fds, 20 per message, on requests that take none: they
		// pile up in the compositor unless it bounds them.
		for i := 0; i < 1000; i += 20 {
			fds := make([]int, 20)
			for j := range fds {
				fds[j] = hs.memfd(t, 0)
			}
			if err := h.SendFDs(fds, 1, 0, h.NewID()); err != nil {
				return 0
			}
		}
		return 0
	})
}

func TestHostile10000CommitsASecond(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		commit := append(protocoltest.Message(w.surface, 1, w.buffer, int32(0), int32(0)), protocoltest.Message(w.surface, 9, int32(0), int32(0), int32(16), int32(16))...)
		commit = append(commit, protocoltest.Message(w.surface, 6)...)
		stop := make(chan struct{})
		flooded := make(chan int)
		go func() {
			n := 0
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					flooded <- n
					return
				case <-tick.C:
					// 10 commits a millisecond.
					var b []byte
					for range 10 {
						b = append(b, commit...)
					}
					if h.Write(b) != nil {
						flooded <- n
						return
					}
					n += 10
				}
			}
		}()
		// Meanwhile the bystander keeps its frame rate: 30 frames at
		// 60 Hz take half a second.
		// The hostile window covers the bystander's centre, so only the
		// pace is judged here; the pixels once the flood is gone.
		start := time.Now()
		for i := range 30 {
			hs.bystander.draw(t, uint32(i))
		}
		elapsed := time.Since(start)
		close(stop)
		n := <-flooded
		t.Logf("%d commits in %v beside 30 bystander frames", n, elapsed.Round(time.Millisecond))
		if elapsed > 900*time.Millisecond {
			t.Fatalf("30 bystander frames took %v beside a flooding client, want about 500 ms", elapsed)
		}
		return 0
	})
}

func TestHostileTooManyBuffers(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrNoMemory, msg: "too many buffers"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		pool := hs.shmPool(t, h, 4096)
		var batch []byte
		for range scene.DefaultMaxBuffers + 1 {
			batch = append(batch, protocoltest.Message(pool, 0, h.NewID(), int32(0), int32(1), int32(1), int32(4), uint32(1))...)
		}
		h.Write(batch) // may be cut off part way: see the reaction
		return pool
	})
}

// Found by FuzzRequests: a request that takes an fd, sent without one,
// stalled the client's connection (nothing after it was dispatched,
// not even a sync) instead of failing as libwayland fails it.
func TestHostileRequestWithoutItsFD(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidMethod, msg: "file descriptor expected"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		shm := getRegistry(t, h).bind(t, "wl_shm", 1)
		must(t, h.Send(shm, 0, h.NewID(), int32(4096)))
		return shm
	})
}

func TestHostileSubsurfaceCycle(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.SubcompositorErrorBadSurface, msg: "is an ancestor of its parent"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		comp := reg.bind(t, "wl_compositor", 4)
		sc := reg.bind(t, "wl_subcompositor", 1)
		a, b, c := h.NewID(), h.NewID(), h.NewID()
		must(t, h.Send(comp, 0, a))
		must(t, h.Send(comp, 0, b))
		must(t, h.Send(comp, 0, c))
		must(t, h.Send(sc, 1, h.NewID(), b, a)) // b below a
		must(t, h.Send(sc, 1, h.NewID(), c, b)) // c below b
		must(t, h.Send(sc, 1, h.NewID(), a, c)) // a below c: a loop
		return sc
	})
}

func TestHostileDeepSubsurfaceChain(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: wl.SubcompositorErrorBadSurface, msg: "nested more than 32 deep"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		sc := w.reg.bind(t, "wl_subcompositor", 1)
		// Each surface a child of the one before, each committed: 20 000
		// of them held the loop for 19 s, as every request on a
		// subsurface walks its ancestors.
		var batch []byte
		parent := w.surface
		for range 20000 {
			s, sub := h.NewID(), h.NewID()
			batch = append(batch, protocoltest.Message(w.compositor, 0, s)...)
			batch = append(batch, protocoltest.Message(sc, 1, sub, s, parent)...)
			batch = append(batch, protocoltest.Message(sub, 5)...) // set_desync
			batch = append(batch, protocoltest.Message(s, 1, w.buffer, int32(0), int32(0))...)
			batch = append(batch, protocoltest.Message(s, 6)...)
			parent = s
		}
		h.Write(batch) // cut off part way: see the reaction
		return sc
	})
}

func TestHostileWmBaseDestroyedBeforeItsSurfaces(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "destroyed before its xdg_surfaces"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		must(t, h.Send(w.wm, 0))
		return w.wm
	})
}

func TestHostileAckOfAConfigureNeverSent(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 4, msg: "unknown configure serial"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		must(t, h.Send(w.xsurf, 4, uint32(0xdeadbeef)))
		return w.xsurf
	})
}

func TestHostilePopupWithIncompletePositioner(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 5, msg: "positioner"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		w := hs.window(t, h)
		pos, s, xs := h.NewID(), h.NewID(), h.NewID()
		must(t, h.Send(w.wm, 1, pos)) // no set_size, no set_anchor_rect
		must(t, h.Send(w.compositor, 0, s))
		must(t, h.Send(w.wm, 2, xs, s))
		must(t, h.Send(xs, 2, h.NewID(), w.xsurf, pos))
		return w.wm
	})
}

// --- idle, inhibit and output power ---

func TestHostileOutputPowerInvalidMode(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: 1, msg: "invalid mode 2"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		mgr := reg.bind(t, "zwlr_output_power_manager_v1", 1)
		out := reg.bind(t, "wl_output", 4)
		power := h.NewID()
		must(t, h.Send(mgr, 0, power, out))
		must(t, h.Send(power, 0, uint32(2)))
		return power
	})
}

// A power control for a wl_output whose display is gone answers failed
// and then ignores set_mode, as the protocol says; the client stays.
func TestHostileOutputPowerForAGoneOutput(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		second, err := headless.New(hs.srv.Loop(), "HEADLESS-2", 32, 32, 60000, render.Normal, nil)
		must(t, err)
		t.Cleanup(func() { second.Close() })
		hs.onLoop(t, func() { hs.comp.AddOutput(second) })
		reg := getRegistry(t, h)
		var name uint32
		// The second output's global is the newest wl_output.
		g, _, err := h.Globals(3 * time.Second)
		must(t, err)
		name = g["wl_output"][0]
		out := h.NewID()
		must(t, h.Send(reg.id, 0, name, "wl_output", uint32(4), out))
		must(t, h.Roundtrip(3*time.Second))
		hs.onLoop(t, func() { hs.comp.RemoveOutput(second) })
		mgr := reg.bind(t, "zwlr_output_power_manager_v1", 1)
		power := h.NewID()
		must(t, h.Send(mgr, 0, power, out))
		for {
			e, err := h.Read(3 * time.Second)
			if err != nil {
				t.Fatalf("no failed event for a gone output: %v", err)
			}
			if e.Object == power && e.Opcode == 0 {
				t.Fatal("mode event for a gone output, want failed")
			}
			if e.Object == power && e.Opcode == 1 {
				break
			}
		}
		must(t, h.Send(power, 0, uint32(0)))
		must(t, h.Send(power, 1)) // destroy
		return 0
	})
}

func TestHostileIdleNotificationWithoutASeat(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "wl_seat"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		notifier := reg.bind(t, "ext_idle_notifier_v1", 1)
		comp := reg.bind(t, "wl_compositor", 4)
		// A wl_compositor where the wl_seat goes.
		must(t, h.Send(notifier, 1, h.NewID(), uint32(1000), comp))
		return 0
	})
}

// Hundreds of notifications due at once, and an inhibitor whose surface
// goes first: the client stays, and once it is gone nothing of it
// remains armed (the bystander's frames and the fd check prove the loop
// is healthy).
func TestHostileIdleNotificationsAndOrphanInhibitor(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{tolerated: true}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		notifier := reg.bind(t, "ext_idle_notifier_v1", 1)
		seat := reg.bind(t, "wl_seat", 1)
		for range 500 {
			must(t, h.Send(notifier, 1, h.NewID(), uint32(0), seat))
		}
		comp := reg.bind(t, "wl_compositor", 4)
		mgr := reg.bind(t, "zwp_idle_inhibit_manager_v1", 1)
		surf, inhibitor := h.NewID(), h.NewID()
		must(t, h.Send(comp, 0, surf))
		must(t, h.Send(mgr, 1, inhibitor, surf))
		must(t, h.Send(surf, 0)) // wl_surface.destroy before its inhibitor
		must(t, h.Roundtrip(3*time.Second))
		hs.press(t)
		must(t, h.Send(inhibitor, 0))
		must(t, h.Send(mgr, 0))
		return 0
	})
}
