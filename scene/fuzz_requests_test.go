package scene_test

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
)

// fuzzSyncID is the id of the wl_display.sync that ends each fuzz
// input: far above the ids a fuzz message can name (one byte).
const fuzzSyncID = 0xfe000000

// Flags in the count byte of a FuzzRequests message.
const (
	fuzzWithFD = 0x80
	// fuzzSerial: first read what the compositor sent so far and put the
	// serial of the last configure-looking event (opcode 0, one word:
	// xdg_surface.configure) on the message's own object in word 0, as a
	// client answering a configure does. A serial already used that way
	// is not used again: the message is skipped (a recorded client
	// acked a configure that, replayed, the compositor merged with an
	// earlier one).
	fuzzSerial = 0x40
)

// fuzzMessage encodes one request of a FuzzRequests input: object id,
// opcode, how many words follow with flags, and the words.
func fuzzMessage(id byte, op byte, flags byte, words ...uint32) []byte {
	n := byte(len(words)) | flags
	b := []byte{id, op, n}
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// decodeFuzzInput turns an input into well-framed Wayland requests,
// each with its flags.
func decodeFuzzInput(data []byte) (msgs [][]byte, flags []byte) {
	for len(data) >= 3 {
		id, op, n := uint32(data[0]), uint16(data[1]), int(data[2]&0x1f)
		fl := data[2] &^ 0x1f
		data = data[3:]
		n = min(n, len(data)/4)
		args := make([]any, n)
		for i := range args {
			args[i] = binary.LittleEndian.Uint32(data[4*i:])
		}
		data = data[4*n:]
		msgs = append(msgs, protocoltest.Message(id, op, args...))
		flags = append(flags, fl)
	}
	return msgs, flags
}

// fuzzRead reads the fuzz client's events, remembering the last
// serial, until the sync with id arrives; false if the client was
// disconnected.
func fuzzRead(t *testing.T, h *protocoltest.Client, id uint32, serials map[uint32]uint32) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := h.Read(time.Until(deadline))
		if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) {
			return false
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the compositor neither answered a sync nor disconnected the client within 5 s")
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Object == 1 && e.Opcode == 0:
			t.Logf("disconnected: object %d code %d: %s", e.Uint(0), e.Uint(1), e.String(2))
			return false
		case e.Object == id:
			return true
		case e.Opcode == 0 && len(e.Args) == 4 && e.Object < fuzzSyncID:
			serials[e.Object] = e.Uint(0)
		}
	}
}

// FuzzRequests feeds a live compositor random but well-framed request
// streams from a client that has bound every global (global name N is
// object N+2). Whatever the stream, the compositor answers the sync
// that follows it or disconnects the client, and its loop keeps
// running; a panic anywhere in dispatch fails the target.
func FuzzRequests(f *testing.F) {
	r := startRig(f, 64, 64, 1000000, render.Normal, protocol.Options{})
	probe := r.dial(f)
	globals := getRegistry(f, probe).globals
	probe.Close()
	type global struct {
		iface         string
		name, version uint32
	}
	var all []global
	for iface, g := range globals {
		all = append(all, global{iface, g[0], g[1]})
	}
	slices.SortFunc(all, func(a, b global) int { return int(a.name) - int(b.name) })
	var preamble []byte
	preamble = append(preamble, protocoltest.Message(1, 1, uint32(2))...) // get_registry
	idOf := map[string]byte{}
	for _, g := range all {
		preamble = append(preamble, protocoltest.Message(2, 0, g.name, g.iface, g.version, g.name+2)...)
		idOf[g.iface] = byte(g.name + 2)
	}

	// Seeds: what a real shm client does to show a window, and pieces of
	// what others do (regions, subsurfaces, viewports, screencopy).
	comp, shm, wm := idOf["wl_compositor"], idOf["wl_shm"], idOf["xdg_wm_base"]
	const pool, buf, surf, xsurf, top, cb = 0x20, 0x21, 0x22, 0x23, 0x24, 0x25
	window := slices.Concat(
		fuzzMessage(shm, 0, fuzzWithFD, pool, 4096),
		fuzzMessage(pool, 0, 0, buf, 0, 32, 32, 128, 1),
		fuzzMessage(comp, 0, 0, surf),
		fuzzMessage(wm, 2, 0, xsurf, surf),
		fuzzMessage(xsurf, 1, 0, top),
		fuzzMessage(surf, 6, 0),
		fuzzMessage(xsurf, 4, fuzzSerial, 0),
		fuzzMessage(surf, 1, 0, buf, 0, 0),
		fuzzMessage(surf, 9, 0, 0, 0, 32, 32),
		fuzzMessage(surf, 3, 0, cb),
		fuzzMessage(surf, 6, 0),
	)
	f.Add(window)
	f.Add(slices.Concat(
		fuzzMessage(comp, 1, 0, 0x30),
		fuzzMessage(0x30, 1, 0, 0, 0, 10, 10),
		fuzzMessage(0x30, 2, 0, 2, 2, 4, 4),
		fuzzMessage(comp, 0, 0, surf),
		fuzzMessage(surf, 4, 0, 0x30),
		fuzzMessage(surf, 5, 0, 0x30),
		fuzzMessage(0x30, 0, 0),
		fuzzMessage(surf, 6, 0),
	))
	f.Add(slices.Concat(window,
		fuzzMessage(comp, 0, 0, 0x40),
		fuzzMessage(idOf["wl_subcompositor"], 1, 0, 0x41, 0x40, surf),
		fuzzMessage(0x41, 1, 0, 4, 4),
		fuzzMessage(0x40, 1, 0, buf, 0, 0),
		fuzzMessage(0x40, 6, 0),
		fuzzMessage(surf, 6, 0),
		fuzzMessage(idOf["wp_viewporter"], 1, 0, 0x42, surf),
		fuzzMessage(0x42, 2, 0, 16, 16),
		fuzzMessage(surf, 6, 0),
	))
	f.Add(slices.Concat(window,
		fuzzMessage(idOf["zwlr_screencopy_manager_v1"], 0, 0, 0x50, 0, uint32(idOf["wl_output"])),
		fuzzMessage(shm, 0, fuzzWithFD, 0x51, 64*64*4),
		fuzzMessage(0x51, 0, 0, 0x52, 0, 64, 64, 256, 1),
		fuzzMessage(0x50, 0, 0, 0x52),
	))
	f.Add(slices.Concat(
		fuzzMessage(idOf["zwp_linux_dmabuf_v1"], 1, 0, 0x60),
		fuzzMessage(0x60, 1, fuzzWithFD, 0, 0, 128, 0, 0),
		fuzzMessage(0x60, 3, 0, 0x61, 32, 32, 0x34325258, 0),
	))

	// The clipboard, drag-and-drop and pointer constraints: "text" is
	// one offer's MIME type.
	ddm, seat, dc := idOf["wl_data_device_manager"], uint32(idOf["wl_seat"]), idOf["zwlr_data_control_manager_v1"]
	f.Add(slices.Concat(window,
		fuzzMessage(ddm, 0, 0, 0x70),
		fuzzMessage(0x70, 0, 0, 5, 0x74786574, 0),
		fuzzMessage(ddm, 1, 0, 0x71, seat),
		fuzzMessage(0x71, 1, 0, 0x70, 0),
		fuzzMessage(dc, 1, 0, 0x72, seat),
		fuzzMessage(dc, 0, 0, 0x73),
		fuzzMessage(0x73, 0, 0, 5, 0x74786574, 0),
		fuzzMessage(0x72, 2, 0, 0x73),
		fuzzMessage(ddm, 0, 0, 0x74),
		fuzzMessage(0x74, 2, 0, 3),
		fuzzMessage(0x71, 0, 0, 0x74, surf, surf, 0),
		fuzzMessage(byte(seat), 0, 0, 0x75),
		fuzzMessage(idOf["zwp_pointer_constraints_v1"], 1, 0, 0x76, surf, 0x75, 0, 2),
		fuzzMessage(0x76, 2, 0, 0),
		fuzzMessage(surf, 6, 0),
		fuzzMessage(idOf["zwp_relative_pointer_manager_v1"], 1, 0, 0x77, 0x75),
	))

	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, flags := decodeFuzzInput(data)
		h, err := protocoltest.Dial(r.socket)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		// A compositor that stops reading fails the input, not the run.
		h.Conn().SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := h.Write(preamble); err != nil {
			t.Fatal(err)
		}
		mem, err := unix.MemfdCreate("fuzz", unix.MFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(mem)
		// Large enough for the pools of recorded real clients (sparse:
		// costs nothing until written).
		must(t, unix.Ftruncate(mem, 1<<30))
		serials := map[uint32]uint32{}
		used := map[[2]uint32]bool{}
		syncs := uint32(fuzzSyncID)
	send:
		for i, m := range msgs {
			var err error
			if flags[i]&fuzzSerial != 0 && len(m) >= 12 {
				syncs++
				if h.Send(1, 0, syncs) != nil || !fuzzRead(t, h, syncs, serials) {
					break send
				}
				obj := binary.LittleEndian.Uint32(m)
				serial, ok := serials[obj]
				if ok && used[[2]uint32{obj, serial}] {
					continue
				}
				used[[2]uint32{obj, serial}] = true
				binary.LittleEndian.PutUint32(m[8:], serial)
			}
			if flags[i]&fuzzWithFD != 0 {
				_, _, err = h.Conn().WriteMsgUnix(m, unix.UnixRights(mem), nil)
			} else {
				err = h.Write(m)
			}
			if err != nil {
				break // disconnected: the sync below tells
			}
		}
		syncs++
		h.Send(1, 0, syncs)
		if fuzzRead(t, h, syncs, serials) {
			t.Log("sync answered")
		}
		h.Close()
		// The loop is still alive and dispatching.
		r.onLoop(t, func() {})
	})
}
