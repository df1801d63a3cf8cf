// Package fakewl is a minimal scripted Wayland compositor for tests of the
// example clients: it speaks the wire format directly and implements just
// the requests they send, plus a wl_seat and zwp_linux_dmabuf_v1 v4 that
// headless weston lacks on a machine without /dev/dri.
package fakewl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Fixed is a wl_fixed argument.
type Fixed float64

// FD is a file descriptor argument (sent, then left to the caller to close).
type FD int

// Array is a wl_array argument.
type Array []byte

// FormatModifier is a format table entry.
type FormatModifier struct {
	Format   uint32
	Modifier uint64
}

// Tranche is one feedback tranche to send.
type Tranche struct {
	Device  uint64
	Flags   uint32
	Indices []uint16
}

// Params is what a client put into a zwp_linux_buffer_params_v1.
type Params struct {
	FD       int // received dma-buf fd, -1 if none; closed by Close
	Offset   uint32
	Stride   uint32
	Modifier uint64
	Width    int32
	Height   int32
	Format   uint32
	Immed    bool
	Shm      bool // a wl_shm buffer (FD is a dup of its pool's fd)
}

// Server is one fake compositor serving one client.
type Server struct {
	// Configuration, set before Serve.
	Size       image.Point // configure size (0x0: client decides)
	Seat       bool        // offer a wl_seat with pointer, keyboard, touch
	KeymapSize int
	Dmabuf     bool // offer zwp_linux_dmabuf_v1 v4
	Table      []FormatModifier
	Default    []Tranche // default feedback tranches
	Surface    []Tranche // surface feedback tranches (nil: same as Default)
	MainDevice uint64
	// OnMapped runs once, after the first commit with a buffer; OnCommit
	// after every commit with a buffer attached since the last one.
	OnMapped func(s *Server)
	OnCommit func(s *Server, p *Params)

	// State, readable after Serve returned.
	SurfaceID, XDGSurface, Toplevel uint32
	PointerID, KeyboardID, TouchID  uint32
	Params                          []*Params
	Commits                         int
	Destroyed                       int // wl_buffer.destroy requests
	Errors                          []string

	t          *testing.T
	ln         *net.UnixListener
	conn       *net.UnixConn
	objects    map[uint32]string
	params     map[uint32]*Params
	pools      map[uint32]int
	buffers    map[uint32]*Params
	attached   *Params
	attachedID uint32
	shownID    uint32 // buffer on screen, released when replaced
	fds        []int
	callbacks  []uint32
	mapped     bool
	serial     uint32
	nextID     uint32
	done       chan struct{}
	mu         sync.Mutex
}

// Listen creates the socket dir/name; start serving with Start.
func Listen(t *testing.T, dir, name string) *Server {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, name), Net: "unix"})
	if err != nil {
		t.Fatalf("fake compositor: listen: %v", err)
	}
	return &Server{t: t, ln: ln, KeymapSize: 4096, objects: map[uint32]string{1: "wl_display"},
		params: map[uint32]*Params{}, pools: map[uint32]int{}, buffers: map[uint32]*Params{}, nextID: 0xff000000, done: make(chan struct{})}
}

// Start accepts one client and serves it on a goroutine.
func (s *Server) Start() {
	go func() {
		defer close(s.done)
		c, err := s.ln.AcceptUnix()
		if err != nil {
			s.errorf("accept: %v", err)
			return
		}
		s.conn = c
		defer c.Close()
		if err := s.serve(); err != nil {
			s.errorf("serve: %v", err)
		}
	}()
}

// Wait stops listening and waits for the client's connection to end.
func (s *Server) Wait(d time.Duration) {
	s.ln.Close()
	select {
	case <-s.done:
	case <-time.After(d):
		s.t.Fatalf("fake compositor: client still connected after %v", d)
	}
	for _, p := range s.Params {
		if p.FD >= 0 {
			unix.Close(p.FD)
			p.FD = -1
		}
	}
}

func (s *Server) errorf(format string, args ...any) {
	s.mu.Lock()
	s.Errors = append(s.Errors, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// Configure sends a toplevel configure of the given size (fullscreen
// state) and its xdg_surface configure.
func (s *Server) Configure(size image.Point) {
	s.Send(s.Toplevel, 0, int32(size.X), int32(size.Y), U32s(2))
	s.Send(s.XDGSurface, 0, s.Serial())
}

// Serial returns a fresh event serial.
func (s *Server) Serial() uint32 { s.serial++; return s.serial }

// Send sends an event. Arguments: uint32, int32, Fixed, string, Array, FD.
func (s *Server) Send(id uint32, opcode uint16, args ...any) {
	var body []byte
	var fds []int
	pad := func() {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	for _, a := range args {
		switch v := a.(type) {
		case uint32:
			body = binary.NativeEndian.AppendUint32(body, v)
		case int32:
			body = binary.NativeEndian.AppendUint32(body, uint32(v))
		case Fixed:
			body = binary.NativeEndian.AppendUint32(body, uint32(int32(v*256)))
		case string:
			body = binary.NativeEndian.AppendUint32(body, uint32(len(v)+1))
			body = append(append(body, v...), 0)
			pad()
		case Array:
			body = binary.NativeEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
			pad()
		case FD:
			fds = append(fds, int(v))
		default:
			panic(fmt.Sprintf("fakewl: argument type %T", a))
		}
	}
	msg := binary.NativeEndian.AppendUint32(nil, id)
	msg = binary.NativeEndian.AppendUint32(msg, uint32(8+len(body))<<16|uint32(opcode))
	msg = append(msg, body...)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if _, _, err := s.conn.WriteMsgUnix(msg, oob, nil); err != nil {
		// A client that is done may hang up while events are in flight.
		if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) {
			return
		}
		s.errorf("write: %v", err)
	}
}

// U32s encodes uint32 values as an Array.
func U32s(v ...uint32) Array {
	var b []byte
	for _, x := range v {
		b = binary.NativeEndian.AppendUint32(b, x)
	}
	return b
}

type reader struct{ b []byte }

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		return 0
	}
	v := binary.NativeEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) str() string {
	n := int(r.u32())
	p := (n + 3) &^ 3
	if p > len(r.b) {
		return ""
	}
	s := strings.TrimRight(string(r.b[:n]), "\x00")
	r.b = r.b[p:]
	return s
}

func (s *Server) popFD() int {
	if len(s.fds) == 0 {
		s.errorf("request expected an fd, none received")
		return -1
	}
	fd := s.fds[0]
	s.fds = s.fds[1:]
	return fd
}

func (s *Server) serve() error {
	var pending []byte
	buf := make([]byte, 65536)
	oob := make([]byte, 4096)
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, unix.ECONNRESET) {
				return nil
			}
			return err
		}
		if n == 0 {
			return nil
		}
		if oobn > 0 {
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				fds, _ := unix.ParseUnixRights(&m)
				s.fds = append(s.fds, fds...)
			}
		}
		pending = append(pending, buf[:n]...)
		for len(pending) >= 8 {
			size := int(binary.NativeEndian.Uint32(pending[4:]) >> 16)
			if size < 8 || len(pending) < size {
				break
			}
			id := binary.NativeEndian.Uint32(pending)
			op := uint16(binary.NativeEndian.Uint32(pending[4:]))
			s.request(id, op, &reader{b: pending[8:size]})
			pending = pending[size:]
		}
	}
}

func (s *Server) globals() []struct {
	name string
	v    uint32
} {
	g := []struct {
		name string
		v    uint32
	}{{"wl_compositor", 4}, {"xdg_wm_base", 2}, {"wl_shm", 1}}
	if s.Seat {
		g = append(g, struct {
			name string
			v    uint32
		}{"wl_seat", 7})
	}
	if s.Dmabuf {
		g = append(g, struct {
			name string
			v    uint32
		}{"zwp_linux_dmabuf_v1", 4})
	}
	return g
}

func (s *Server) sendFeedback(id uint32, tranches []Tranche) {
	fd, err := unix.MemfdCreate("format-table", unix.MFD_CLOEXEC)
	if err != nil {
		s.errorf("memfd: %v", err)
		return
	}
	var tab []byte
	for _, e := range s.Table {
		tab = binary.NativeEndian.AppendUint32(tab, e.Format)
		tab = binary.NativeEndian.AppendUint32(tab, 0)
		tab = binary.NativeEndian.AppendUint64(tab, e.Modifier)
	}
	unix.Write(fd, tab)
	s.Send(id, 1, FD(fd), uint32(len(tab)))
	unix.Close(fd)
	s.Send(id, 2, Array(binary.NativeEndian.AppendUint64(nil, s.MainDevice)))
	for _, tr := range tranches {
		s.Send(id, 4, Array(binary.NativeEndian.AppendUint64(nil, tr.Device)))
		s.Send(id, 6, tr.Flags)
		var idx []byte
		for _, i := range tr.Indices {
			idx = binary.NativeEndian.AppendUint16(idx, i)
		}
		s.Send(id, 5, Array(idx))
		s.Send(id, 3)
	}
	s.Send(id, 0)
}

func (s *Server) request(id uint32, op uint16, r *reader) {
	iface := s.objects[id]
	switch {
	case iface == "wl_display" && op == 0: // sync
		cb := r.u32()
		s.Send(cb, 0, s.Serial())
		s.Send(1, 1, cb)
	case iface == "wl_display" && op == 1: // get_registry
		reg := r.u32()
		s.objects[reg] = "wl_registry"
		for i, g := range s.globals() {
			s.Send(reg, 0, uint32(i+1), g.name, g.v)
		}
	case iface == "wl_registry" && op == 0: // bind
		r.u32()
		name := r.str()
		r.u32()
		nid := r.u32()
		s.objects[nid] = name
		switch name {
		case "wl_shm":
			s.Send(nid, 0, uint32(0))
			s.Send(nid, 0, uint32(1))
		case "wl_seat":
			s.Send(nid, 1, "seat0")
			s.Send(nid, 0, uint32(7))
		}
	case iface == "wl_seat":
		nid := r.u32()
		switch op {
		case 0:
			s.objects[nid], s.PointerID = "wl_pointer", nid
		case 1:
			s.objects[nid], s.KeyboardID = "wl_keyboard", nid
			fd, err := unix.MemfdCreate("keymap", unix.MFD_CLOEXEC)
			if err != nil {
				s.errorf("memfd: %v", err)
				return
			}
			unix.Ftruncate(fd, int64(s.KeymapSize))
			s.Send(nid, 0, uint32(1), FD(fd), uint32(s.KeymapSize))
			unix.Close(fd)
			s.Send(nid, 5, int32(25), int32(600))
		case 2:
			s.objects[nid], s.TouchID = "wl_touch", nid
		}
	case iface == "wl_compositor":
		nid := r.u32()
		if op == 0 {
			s.objects[nid], s.SurfaceID = "wl_surface", nid
		} else {
			s.objects[nid] = "wl_region"
		}
	case iface == "wl_shm" && op == 0: // create_pool
		nid := r.u32()
		s.objects[nid] = "wl_shm_pool"
		s.pools[nid] = s.popFD()
	case iface == "wl_shm_pool" && op == 0: // create_buffer
		nid := r.u32()
		s.objects[nid] = "wl_buffer"
		p := &Params{FD: -1, Shm: true}
		p.Offset = r.u32()
		p.Width, p.Height = int32(r.u32()), int32(r.u32())
		p.Stride, p.Format = r.u32(), r.u32()
		if fd := s.pools[id]; fd >= 0 {
			p.FD, _ = unix.Dup(fd)
		}
		s.buffers[nid] = p
		s.Params = append(s.Params, p)
	case iface == "wl_shm_pool" && op == 1: // destroy
		if fd, ok := s.pools[id]; ok && fd >= 0 {
			unix.Close(fd)
		}
		delete(s.pools, id)
	case iface == "wl_buffer" && op == 0: // destroy
		s.Destroyed++
		delete(s.buffers, id)
	case iface == "zwp_linux_dmabuf_v1" && op == 1: // create_params
		nid := r.u32()
		s.objects[nid] = "zwp_linux_buffer_params_v1"
		p := &Params{FD: -1}
		s.params[nid] = p
		s.Params = append(s.Params, p)
	case iface == "zwp_linux_dmabuf_v1" && op == 2: // get_default_feedback
		nid := r.u32()
		s.objects[nid] = "zwp_linux_dmabuf_feedback_v1"
		s.sendFeedback(nid, s.Default)
	case iface == "zwp_linux_dmabuf_v1" && op == 3: // get_surface_feedback
		nid := r.u32()
		s.objects[nid] = "zwp_linux_dmabuf_feedback_v1"
		tr := s.Surface
		if tr == nil {
			tr = s.Default
		}
		s.sendFeedback(nid, tr)
	case iface == "zwp_linux_buffer_params_v1" && op == 1: // add
		p := s.params[id]
		p.FD = s.popFD()
		if r.u32() != 0 {
			s.errorf("params.add: plane index not 0")
		}
		p.Offset = r.u32()
		p.Stride = r.u32()
		hi := r.u32()
		p.Modifier = uint64(hi)<<32 | uint64(r.u32())
	case iface == "zwp_linux_buffer_params_v1" && (op == 2 || op == 3): // create, create_immed
		p := s.params[id]
		var nid uint32
		if op == 3 {
			nid = r.u32()
			p.Immed = true
		}
		p.Width, p.Height, p.Format = int32(r.u32()), int32(r.u32()), r.u32()
		if op == 2 {
			s.nextID++
			nid = s.nextID
			s.Send(id, 0, nid) // created(new_id)
		}
		s.objects[nid] = "wl_buffer"
		s.buffers[nid] = p
	case iface == "xdg_wm_base" && op == 2:
		nid := r.u32()
		s.objects[nid], s.XDGSurface = "xdg_surface", nid
	case iface == "xdg_surface" && op == 1:
		nid := r.u32()
		s.objects[nid], s.Toplevel = "xdg_toplevel", nid
	case iface == "wl_surface" && op == 1: // attach
		s.attachedID = r.u32()
		s.attached = s.buffers[s.attachedID]
	case iface == "wl_surface" && op == 3: // frame
		cb := r.u32()
		s.objects[cb] = "wl_callback"
		s.callbacks = append(s.callbacks, cb)
	case iface == "wl_surface" && op == 6: // commit
		if s.attached == nil && !s.mapped {
			s.Configure(s.Size)
			return
		}
		s.Commits++
		if s.attached != nil {
			if s.OnCommit != nil {
				s.OnCommit(s, s.attached)
			}
			// Like a copying compositor: the replaced buffer is free.
			if s.shownID != 0 && s.shownID != s.attachedID {
				s.Send(s.shownID, 0)
			}
			s.shownID = s.attachedID
		}
		s.attached = nil
		for _, cb := range s.callbacks {
			s.Send(cb, 0, uint32(time.Now().UnixMilli()))
			s.Send(1, 1, cb)
		}
		s.callbacks = nil
		if !s.mapped {
			s.mapped = true
			if s.OnMapped != nil {
				s.OnMapped(s)
			}
		}
	}
}

// Disconnect sends wl_display.error for object id and hangs up, as a
// compositor does on a protocol violation.
func (s *Server) Disconnect(id, code uint32, msg string) {
	s.Send(1, 0, id, code, msg)
	s.conn.Close()
}
