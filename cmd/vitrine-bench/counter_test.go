package main

import (
	"encoding/binary"
	"os"
	"testing"
)

// recordedChunk is one read of the proxy: which direction and its bytes.
type recordedChunk struct {
	request bool
	data    []byte
}

// readRecording reads a session the proxy recorded as it ran: per read,
// 'R' (request) or 'E' (event), a little-endian u32 length and the bytes,
// in the order the pumps observed them, which is the causal order (an id
// is freed by delete_id before the client may reuse it).
func readRecording(t *testing.T, path string) []recordedChunk {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []recordedChunk
	for len(b) > 0 {
		if len(b) < 5 {
			t.Fatalf("%s: truncated record header", path)
		}
		n := int(binary.LittleEndian.Uint32(b[1:5]))
		if len(b) < 5+n || (b[0] != 'R' && b[0] != 'E') {
			t.Fatalf("%s: bad record", path)
		}
		out = append(out, recordedChunk{request: b[0] == 'R', data: b[5 : 5+n]})
		b = b[5+n:]
	}
	return out
}

// A recorded session: weston-simple-shm on vitrine for about a second, as
// the proxy saw it (testdata/simple-shm-vitrine.rec). The client's own
// WAYLAND_DEBUG log of that session showed 65 wl_surface.commit requests
// and 63 wl_callback.done events for frame callbacks; two more done
// events belong to wl_display.sync callbacks, one of whose ids is then
// reused for the wl_surface, and frame callback ids are reused all along.
func TestCounterOnRecordedSession(t *testing.T) {
	rec := readRecording(t, "testdata/simple-shm-vitrine.rec")
	for _, split := range []int{1, 3, 7, 64, 1 << 20} {
		c := newConnCounter()
		for _, ch := range rec {
			feed := c.feedEvents
			if ch.request {
				feed = c.feedRequests
			}
			// Smaller reads than the recorded ones: messages then
			// straddle reads at every possible offset.
			for b := ch.data; len(b) > 0; {
				k := min(split, len(b))
				feed(b[:k])
				b = b[k:]
			}
		}
		if c.broken.Load() {
			t.Fatalf("split %d: stream marked broken", split)
		}
		if got := c.snapshot(); got != (counts{Commits: 65, Frames: 63, Surfaces: 1}) {
			t.Errorf("split %d: got %+v, want 65 commits, 63 frames, 1 surface", split, got)
		}
		if _, ok := c.firstCommitTime(); !ok {
			t.Errorf("split %d: no first commit time", split)
		}
	}
}

// A synthetic session exercising what the recording does not: a
// compositor bound at another id, two surfaces, a sync callback's done (not
// a frame), and a frame callback id reused after delete_id as a sync
// callback.
func TestCounterCountsOnlyFrameCallbacks(t *testing.T) {
	bind := func(name uint32, iface string, id uint32) []byte {
		b := appendString(u32(name), iface)
		b = append(b, u32(4)...)
		return append(b, u32(id)...)
	}
	var req []byte
	req = appendMessage(req, displayID, displayGetRegistry, u32(2))
	req = appendMessage(req, 2, registryBind, bind(1, "wl_shm", 3))
	req = appendMessage(req, 2, registryBind, bind(2, "wl_compositor", 4))
	req = appendMessage(req, 3, 0, u32(5))                       // wl_shm.create_pool is opcode 0 too: not a surface
	req = appendMessage(req, 4, compositorCreateSurface, u32(6)) // surface 6
	req = appendMessage(req, 4, compositorCreateSurface, u32(7)) // surface 7
	req = appendMessage(req, 6, surfaceFrame, u32(8))
	req = appendMessage(req, 6, surfaceCommit, nil)
	req = appendMessage(req, 7, surfaceCommit, nil)
	req = appendMessage(req, 3, surfaceCommit, nil) // opcode 6 on a non-surface
	c := newConnCounter()
	c.feedRequests(req)

	var ev []byte
	ev = appendMessage(ev, 8, callbackDone, u32(1000))
	ev = appendMessage(ev, displayID, displayDeleteID, u32(8))
	c.feedEvents(ev)

	// Id 8 reused for a wl_display.sync callback: its done is no frame.
	c.feedRequests(appendMessage(nil, displayID, 0, u32(8)))
	c.feedEvents(appendMessage(nil, 8, callbackDone, u32(1)))

	got := c.snapshot()
	if got != (counts{Commits: 2, Frames: 1, Surfaces: 2}) {
		t.Errorf("got %+v, want 2 commits, 1 frame, 2 surfaces", got)
	}
}

func TestCounterRecordsProtocolError(t *testing.T) {
	c := newConnCounter()
	args := append(u32(6), u32(2)...)
	args = appendString(args, "bad buffer")
	c.feedEvents(appendMessage(nil, displayID, displayError, args))
	if got, want := c.protocolError(), "object 6 code 2: bad buffer"; got != want {
		t.Errorf("protocol error %q, want %q", got, want)
	}
}
