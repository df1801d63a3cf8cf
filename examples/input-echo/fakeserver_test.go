package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeServer is just enough of a compositor with a seat to drive
// input-echo: headless weston has no wl_seat, and the lab's real input
// path needs the drm backend. It speaks the wire format directly.
type fakeServer struct {
	t       *testing.T
	conn    *net.UnixConn
	objects map[uint32]string // id -> interface
	serial  uint32

	surface, xdgSurface, toplevel uint32
	pointer, keyboard, touch      uint32
	frameCallbacks                []uint32
	mapped                        bool
	onMapped                      func()
	keymapSize                    int
}

func (s *fakeServer) send(id uint32, opcode uint16, args ...any) {
	var body []byte
	var fds []int
	for _, a := range args {
		switch v := a.(type) {
		case uint32:
			body = binary.NativeEndian.AppendUint32(body, v)
		case int32:
			body = binary.NativeEndian.AppendUint32(body, uint32(v))
		case float64: // wl_fixed
			body = binary.NativeEndian.AppendUint32(body, uint32(int32(v*256)))
		case string:
			body = binary.NativeEndian.AppendUint32(body, uint32(len(v)+1))
			body = append(body, v...)
			body = append(body, 0)
			for len(body)%4 != 0 {
				body = append(body, 0)
			}
		case []byte: // array
			body = binary.NativeEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
			for len(body)%4 != 0 {
				body = append(body, 0)
			}
		case fdArg:
			fds = append(fds, int(v))
		default:
			panic(fmt.Sprintf("fake server: argument type %T", a))
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
		s.t.Errorf("fake server write: %v", err)
	}
}

type fdArg int

// reader walks one request's arguments.
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

func (s *fakeServer) nextSerial() uint32 { s.serial++; return s.serial }

// serve handles requests until the client goes away.
func (s *fakeServer) serve() error {
	var pending []byte
	buf := make([]byte, 4096)
	oob := make([]byte, 4096)
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if oobn > 0 {
			// Pool fds and the like: the fake never maps them.
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				fds, _ := unix.ParseUnixRights(&m)
				for _, fd := range fds {
					unix.Close(fd)
				}
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

func (s *fakeServer) request(id uint32, op uint16, r *reader) {
	iface := s.objects[id]
	switch {
	case iface == "wl_display" && op == 0: // sync
		cb := r.u32()
		s.send(cb, 0, s.nextSerial())
		s.send(1, 1, cb) // delete_id
	case iface == "wl_display" && op == 1: // get_registry
		reg := r.u32()
		s.objects[reg] = "wl_registry"
		for i, g := range []struct {
			name string
			v    uint32
		}{{"wl_compositor", 4}, {"xdg_wm_base", 2}, {"wl_shm", 1}, {"wl_seat", 7}} {
			s.send(reg, 0, uint32(i+1), g.name, g.v)
		}
	case iface == "wl_registry" && op == 0: // bind
		r.u32()
		name := r.str()
		r.u32()
		nid := r.u32()
		s.objects[nid] = name
		switch name {
		case "wl_shm":
			s.send(nid, 0, uint32(0))
			s.send(nid, 0, uint32(1))
		case "wl_seat":
			s.send(nid, 1, "seat0")
			s.send(nid, 0, uint32(7))
		}
	case iface == "wl_seat":
		nid := r.u32()
		switch op {
		case 0:
			s.objects[nid], s.pointer = "wl_pointer", nid
		case 1:
			s.objects[nid], s.keyboard = "wl_keyboard", nid
			fd, err := unix.MemfdCreate("keymap", unix.MFD_CLOEXEC)
			if err != nil {
				s.t.Errorf("memfd: %v", err)
				return
			}
			unix.Ftruncate(fd, int64(s.keymapSize))
			s.send(nid, 0, uint32(1), fdArg(fd), uint32(s.keymapSize))
			unix.Close(fd)
			s.send(nid, 5, int32(25), int32(600))
		case 2:
			s.objects[nid], s.touch = "wl_touch", nid
		}
	case iface == "wl_compositor":
		nid := r.u32()
		if op == 0 {
			s.objects[nid], s.surface = "wl_surface", nid
		} else {
			s.objects[nid] = "wl_region"
		}
	case iface == "wl_shm" && op == 0:
		nid := r.u32()
		s.objects[nid] = "wl_shm_pool"
	case iface == "wl_shm_pool" && op == 0:
		s.objects[r.u32()] = "wl_buffer"
	case iface == "xdg_wm_base" && op == 2:
		nid := r.u32()
		s.objects[nid], s.xdgSurface = "xdg_surface", nid
	case iface == "xdg_surface" && op == 1:
		nid := r.u32()
		s.objects[nid], s.toplevel = "xdg_toplevel", nid
	case iface == "wl_surface" && op == 3: // frame
		cb := r.u32()
		s.objects[cb] = "wl_callback"
		s.frameCallbacks = append(s.frameCallbacks, cb)
	case iface == "wl_surface" && op == 6: // commit
		if s.frameCallbacks == nil && !s.mapped {
			// Initial commit: configure as a kiosk would.
			s.send(s.toplevel, 0, int32(300), int32(200), binary.NativeEndian.AppendUint32(nil, 2))
			s.send(s.xdgSurface, 0, s.nextSerial())
			return
		}
		for _, cb := range s.frameCallbacks {
			s.send(cb, 0, uint32(time.Now().UnixMilli()))
			s.send(1, 1, cb)
		}
		s.frameCallbacks = nil
		if !s.mapped {
			s.mapped = true
			s.onMapped()
		}
	}
}

// TestEventsFromFakeSeat checks the printed lines for a scripted sequence
// of seat events, keymap fd included.
func TestEventsFromFakeSeat(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "wl-fake")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.AcceptUnix()
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.Close()
		s := &fakeServer{t: t, conn: c, objects: map[uint32]string{1: "wl_display"}, keymapSize: 4096}
		s.onMapped = func() {
			s.send(s.keyboard, 1, s.nextSerial(), s.surface, binary.NativeEndian.AppendUint32(nil, 42))
			s.send(s.keyboard, 4, s.nextSerial(), uint32(1), uint32(0), uint32(16), uint32(0))
			s.send(s.keyboard, 3, s.nextSerial(), uint32(100), uint32(30), uint32(1))
			s.send(s.keyboard, 3, s.nextSerial(), uint32(101), uint32(30), uint32(0))
			s.send(s.pointer, 0, s.nextSerial(), s.surface, 12.5, 40.0)
			s.send(s.pointer, 5)
			s.send(s.pointer, 2, uint32(102), 13.25, 41.0)
			s.send(s.pointer, 5)
			s.send(s.pointer, 3, s.nextSerial(), uint32(103), uint32(272), uint32(1))
			s.send(s.pointer, 5)
			s.send(s.pointer, 6, uint32(0))
			s.send(s.pointer, 4, uint32(104), uint32(0), 10.0)
			s.send(s.pointer, 8, uint32(0), int32(1))
			s.send(s.pointer, 5)
			s.send(s.touch, 0, s.nextSerial(), uint32(105), s.surface, int32(0), 100.0, 50.5)
			s.send(s.touch, 3)
			s.send(s.touch, 2, uint32(106), int32(0), 101.0, 51.0)
			s.send(s.touch, 1, s.nextSerial(), uint32(107), int32(0))
			s.send(s.touch, 3)
			s.send(s.keyboard, 2, s.nextSerial(), s.surface)
			s.send(s.toplevel, 1) // close: input-echo exits 0
		}
		if err := s.serve(); err != nil {
			t.Errorf("fake server: %v", err)
		}
	}()

	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("WAYLAND_DISPLAY", "wl-fake")
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"--seconds", "20"}, &stdout, &stderr) }()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("input-echo did not finish; stdout so far:\n%s", stdout.String())
	}
	ln.Close()
	wg.Wait()

	want := []string{
		"seat name=seat0",
		"capabilities pointer=true keyboard=true touch=true",
		"keymap format=1 size=4096",
		"repeat-info rate=25 delay=600",
		"first-frame 300x200",
		"keyboard-enter keys=42",
		"modifiers depressed=1 latched=0 locked=16 group=0",
		"key code=30 state=pressed",
		"key code=30 state=released",
		"pointer-enter x=12.50 y=40.00",
		"frame",
		"pointer-motion x=13.25 y=41.00",
		"frame",
		"button code=272 state=pressed",
		"frame",
		"axis-source source=wheel",
		"axis axis=vertical value=10.00",
		"axis-discrete axis=vertical steps=1",
		"frame",
		"touch-down id=0 x=100.00 y=50.50",
		"touch-frame",
		"touch-motion id=0 x=101.00 y=51.00",
		"touch-up id=0",
		"touch-frame",
		"keyboard-leave",
		"closed",
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), stderr.String())
	}
}
