package scene_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/render"
	"golang.org/x/sys/unix"
)

// TestFDLimitCountsOnlyFDsStillHeld: pools and dma-buf params give
// their fds back when destroyed, so a client that cycles through many
// stays within a small limit, and one that keeps them hits it.
func TestFDLimitCountsOnlyFDsStillHeld(t *testing.T) {
	const limit = 8
	r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{MaxFDs: limit})
	h := r.dial(t)
	reg := getRegistry(t, h)
	shm := reg.bind(t, "wl_shm", 1)
	dm := reg.bind(t, "zwp_linux_dmabuf_v1", 4)
	hs := &hostileRig{rig: r}
	defer func() {
		for _, fd := range hs.held {
			unix.Close(fd)
		}
	}()
	for range 3 * limit {
		pool := h.NewID()
		must(t, h.SendFDs([]int{hs.memfd(t, 4096)}, shm, 0, pool, int32(4096)))
		must(t, h.Send(pool, 1)) // destroy
		params := h.NewID()
		must(t, h.Send(dm, 1, params))
		must(t, h.SendFDs([]int{hs.memfd(t, 4096)}, params, 1, uint32(0), uint32(0), uint32(64), uint32(0), uint32(0)))
		must(t, h.Send(params, 0)) // destroy
	}
	if err := h.Roundtrip(3 * time.Second); err != nil {
		t.Fatalf("a client that gave its fds back was cut off: %v", err)
	}
	for range limit + 1 {
		must(t, h.SendFDs([]int{hs.memfd(t, 4096)}, shm, 0, h.NewID(), int32(4096)))
	}
	e, err := h.WaitError(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if e.Code != protocol.ErrNoMemory || !strings.Contains(e.Message, "too many file descriptors") {
		t.Fatalf("got error %d %q, want no_memory for too many file descriptors", e.Code, e.Message)
	}
	waitLog(t, r, "cmdline=")
}
