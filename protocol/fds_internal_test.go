package protocol

import (
	"io"
	"log/slog"
	"testing"

	"golang.org/x/sys/unix"
)

var fdEventInterface = &Interface{Name: "test_fds", Version: 1, Events: []Message{{Name: "fd", Signature: "h"}, {Name: "plain", Signature: ""}}}

// TestEventsWithFDsReachClientsWithSmallControlBuffers queues events
// with and without fds in one loop iteration and reads them as
// github.com/neurlang/wayland does: one message header per recvmsg with
// room for one fd. Each fd must come with the header of its own event,
// none with another's.
func TestEventsWithFDsReachClientsWithSmallControlBuffers(t *testing.T) {
	srv, err := NewServer(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Loop().Close()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pair[1])
	unix.SetNonblock(pair[0], true)
	srv.addClient(pair[0])
	c := srv.clients[0]
	res := &Resource{client: c, id: 7, version: 1, iface: fdEventInterface}
	c.objects[7] = &display{Resource: *res}
	mem, err := unix.MemfdCreate("fd-event", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(mem)
	carries := []bool{false, true, true, false, false, true}
	for _, withFD := range carries {
		if withFD {
			w := c.objects[7].base().NewEvent(0)
			w.FD(mem)
			w.Send()
		} else {
			w := c.objects[7].base().NewEvent(1)
			w.Send()
		}
	}
	srv.Flush()

	got := 0
	for i, withFD := range carries {
		hdr := make([]byte, 8)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, flags, _, err := unix.Recvmsg(pair[1], hdr, oob, 0)
		if err != nil || n != 8 {
			t.Fatalf("event %d: read %d bytes: %v", i, n, err)
		}
		if flags&unix.MSG_CTRUNC != 0 {
			t.Fatalf("event %d: fds cut off (MSG_CTRUNC): more than one fd came with one message", i)
		}
		fds := appendRights(nil, oob[:oobn])
		closeAll(fds)
		if withFD != (len(fds) == 1) || len(fds) > 1 {
			t.Fatalf("event %d (fd: %v) came with %d fds", i, withFD, len(fds))
		}
		got += len(fds)
	}
	if got != 3 {
		t.Fatalf("%d fds arrived for 3 events", got)
	}
	c.Close()
}
