package protocol

import (
	"io"
	"log/slog"
	"testing"

	"golang.org/x/sys/unix"
)

var fdEventInterface = &Interface{Name: "test_fds", Version: 1, Events: []Message{{Name: "fd", Signature: "h"}}}

// TestEventsWithFDsReachClientsWithSmallControlBuffers queues three
// events carrying fds in one loop iteration and reads them as
// github.com/neurlang/wayland does: a message header per recvmsg with
// room for one fd. Every event must find its fd.
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
	const events = 3
	for range events {
		w := c.objects[7].base().NewEvent(0)
		w.FD(mem)
		w.Send()
	}
	srv.Flush()

	got := 0
	for i := range events {
		hdr := make([]byte, 8)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, flags, _, err := unix.Recvmsg(pair[1], hdr, oob, 0)
		if err != nil || n != 8 {
			t.Fatalf("event %d: read %d bytes: %v", i, n, err)
		}
		if flags&unix.MSG_CTRUNC != 0 {
			t.Fatalf("event %d: fds cut off (MSG_CTRUNC): more than one fd came with one message", i)
		}
		if oobn > 0 {
			fds := appendRights(nil, oob[:oobn])
			got += len(fds)
			closeAll(fds)
		}
	}
	if got != events {
		t.Fatalf("%d fds arrived for %d events", got, events)
	}
	c.Close()
}
