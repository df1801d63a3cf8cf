package protocol_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// shmRecorder is a wl_shm handler that reports the fds it receives.
type shmRecorder struct{ got chan int }

func (h shmRecorder) CreatePool(r *wl.Shm, pool *wl.ShmPool, fd int, size int32) error {
	var st unix.Stat_t
	unix.Fstat(fd, &st)
	unix.Close(fd)
	h.got <- int(st.Size)
	return nil
}

type testServer struct {
	srv  *protocol.Server
	path string
	shm  shmRecorder
}

func startServer(t *testing.T, opts protocol.Options) *testServer {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := protocol.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, path: filepath.Join(dir, "wl-test"), shm: shmRecorder{make(chan int, 4)}}
	ts.srv.AddGlobal(wl.ShmInterface, 1, func(c *protocol.Client, v, id uint32) error {
		res, err := wl.NewShm(c, id, v)
		if err == nil {
			res.Handler = ts.shm
		}
		return err
	})
	if err := ts.srv.Listen("wl-test"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop := ts.srv.Loop()
		loop.AfterDispatch(func() { ts.srv.Flush() })
		for ctx.Err() == nil {
			if err := loop.Dispatch(20 * time.Millisecond); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		ts.srv.Close()
	})
	return ts
}

func dial(t *testing.T, ts *testServer) *protocoltest.Client {
	t.Helper()
	c, err := protocoltest.Dial(ts.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func bindShm(t *testing.T, c *protocoltest.Client) uint32 {
	t.Helper()
	globals, reg, err := c.Globals(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := globals["wl_shm"]
	if !ok {
		t.Fatalf("wl_shm not advertised: %v", globals)
	}
	id := c.NewID()
	if err := c.Send(reg, 0, g[0], "wl_shm", g[1], id); err != nil {
		t.Fatal(err)
	}
	return id
}

func memfd(t *testing.T, size int) int {
	t.Helper()
	fd, err := unix.MemfdCreate("test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func TestFDArrivesAfterFirstBytes(t *testing.T) {
	ts := startServer(t, protocol.Options{})
	c := dial(t, ts)
	shm := bindShm(t, c)
	msg := protocoltest.Message(shm, 0, c.NewID(), int32(4096))
	// The fd travels with the second half of the message, so the server
	// sees a partial message first and must wait for both.
	if err := c.Write(msg[:6]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, _, err := c.Conn().WriteMsgUnix(msg[6:], unix.UnixRights(memfd(t, 4096)), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case size := <-ts.shm.got:
		if size != 4096 {
			t.Fatalf("handler got an fd of size %d, want the 4096-byte memfd", size)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("create_pool was not dispatched")
	}
	if err := c.Roundtrip(2 * time.Second); err != nil {
		t.Fatalf("connection broken after split message: %v", err)
	}
}

func TestFDSentWithEarlierMessage(t *testing.T) {
	ts := startServer(t, protocol.Options{})
	c := dial(t, ts)
	shm := bindShm(t, c)
	// libwayland clients may flush the fd with bytes of a preceding
	// request; the fd queue must still pair it with create_pool.
	both := append(protocoltest.Message(1, 0, c.NewID()), protocoltest.Message(shm, 0, c.NewID(), int32(8192))...)
	if _, _, err := c.Conn().WriteMsgUnix(both, unix.UnixRights(memfd(t, 8192)), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case size := <-ts.shm.got:
		if size != 8192 {
			t.Fatalf("got fd of size %d, want 8192", size)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("create_pool was not dispatched")
	}
}

func TestProtocolViolations(t *testing.T) {
	cases := []struct {
		name string
		send func(c *protocoltest.Client, shm uint32) error
		code uint32
		msg  string
	}{
		{"garbage", func(c *protocoltest.Client, _ uint32) error {
			return c.Write([]byte("this is not the wayland protocol!!!!"))
		}, protocol.ErrInvalidMethod, "invalid message size"},
		{"oversized message", func(c *protocoltest.Client, _ uint32) error {
			m := protocoltest.Message(1, 0, uint32(5))
			m[6], m[7] = 0x10, 0x10 // 4112 bytes
			return c.Write(m)
		}, protocol.ErrInvalidMethod, "invalid message size 4112"},
		{"unknown object", func(c *protocoltest.Client, _ uint32) error {
			return c.Send(4242, 0)
		}, protocol.ErrInvalidObject, "invalid object 4242"},
		{"bad opcode", func(c *protocoltest.Client, shm uint32) error {
			return c.Send(shm, 7)
		}, protocol.ErrInvalidMethod, "invalid method 7"},
		{"short message", func(c *protocoltest.Client, _ uint32) error {
			return c.Send(1, 0) // sync without its new_id
		}, protocol.ErrInvalidMethod, "shorter than its arguments"},
		{"size not a multiple of 4", func(c *protocoltest.Client, _ uint32) error {
			m := protocoltest.Message(1, 0, uint32(5))
			m[6] = 11
			return c.Write(m)
		}, protocol.ErrInvalidMethod, "invalid message size 11"},
		{"reused new id", func(c *protocoltest.Client, shm uint32) error {
			return c.Send(1, 0, shm)
		}, protocol.ErrInvalidObject, "already in use"},
		{"bind bad version", func(c *protocoltest.Client, _ uint32) error {
			reg := c.NewID()
			c.Send(1, 1, reg)
			return c.Send(reg, 0, uint32(1), "wl_shm", uint32(9), c.NewID())
		}, protocol.ErrInvalidObject, "invalid version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, protocol.Options{})
			bystander := dial(t, ts)
			c := dial(t, ts)
			shm := bindShm(t, c)
			if err := c.Roundtrip(2 * time.Second); err != nil {
				t.Fatal(err)
			}
			if err := tc.send(c, shm); err != nil {
				t.Fatal(err)
			}
			e, err := c.WaitError(3 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got error code %d %q, want code %d containing %q", e.Code, e.Message, tc.code, tc.msg)
			}
			if err := bystander.Roundtrip(2 * time.Second); err != nil {
				t.Fatalf("other client affected: %v", err)
			}
		})
	}
}

func TestClientThatDoesNotReadIsDisconnected(t *testing.T) {
	ts := startServer(t, protocol.Options{MaxQueue: 64 << 10})
	c := dial(t, ts)
	other := dial(t, ts)
	// Every sync makes 24 bytes of events; never read them.
	req := make([]byte, 0, 12*1000)
	for i := 0; i < 1000; i++ {
		req = append(req, protocoltest.Message(1, 0, c.NewID())...)
	}
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		c.Conn().SetWriteDeadline(time.Now().Add(time.Second))
		if err = c.Write(req); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("server kept accepting requests from a client that reads nothing")
	}
	if err := other.Roundtrip(2 * time.Second); err != nil {
		t.Fatalf("other client affected: %v", err)
	}
}

func TestSocketLock(t *testing.T) {
	ts := startServer(t, protocol.Options{})
	second, err := protocol.NewServer(protocol.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = second.Listen("wl-test")
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second listen on a locked socket: got %v, want an in-use error", err)
	}
	if _, err := os.Stat(ts.path); err != nil {
		t.Fatalf("first server's socket gone: %v", err)
	}
}

// TestFlushReachesClientsQueuedByADisconnect: a write that fails in
// Flush disconnects its client, and what that disconnect queues for
// another client (here from OnClientGone) must leave in the same Flush
// and must not leave that client unable to get any event again.
func TestFlushReachesClientsQueuedByADisconnect(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	srv, err := protocol.NewServer(protocol.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// Only the loop goroutine touches these, through the handlers.
	var shms []*wl.Shm
	srv.AddGlobal(wl.ShmInterface, 1, func(c *protocol.Client, v, id uint32) error {
		res, err := wl.NewShm(c, id, v)
		if err != nil {
			return err
		}
		if len(shms) > 0 {
			// The second bind queues an event for the first client alone.
			shms[0].SendFormat(7)
		}
		shms = append(shms, res)
		return nil
	})
	srv.OnClientGone = func(*protocol.Client) {
		if len(shms) > 1 {
			shms[1].SendFormat(9)
		}
	}
	if err := srv.Listen("wl-test"); err != nil {
		t.Fatal(err)
	}
	var disconnected []bool
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop := srv.Loop()
		loop.AfterDispatch(func() {
			if srv.Flush() {
				disconnected = append(disconnected, true)
			}
		})
		for ctx.Err() == nil {
			if err := loop.Dispatch(20 * time.Millisecond); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { cancel(); <-done; srv.Close() }()
	ts := &testServer{srv: srv, path: filepath.Join(dir, "wl-test")}

	a := dial(t, ts)
	bindShm(t, a)
	if err := a.Roundtrip(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The first client stops reading without hanging up: the server
	// sees no hangup, and its next write to it fails with EPIPE.
	if err := a.Conn().CloseRead(); err != nil {
		t.Fatal(err)
	}
	b := dial(t, ts)
	shmB := bindShm(t, b)
	got := false
	deadline := time.Now().Add(2 * time.Second)
	for !got {
		e, err := b.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("the event queued for the second client by the first one's disconnect never came: %v", err)
		}
		got = e.Object == shmB && e.Opcode == 0 && e.Uint(0) == 9
	}
	if err := b.Roundtrip(2 * time.Second); err != nil {
		t.Fatalf("the second client gets no events after the first one failed in a flush: %v", err)
	}
	cancel()
	<-done
	if len(disconnected) != 1 {
		t.Fatalf("Flush reported a disconnect %d times, want once", len(disconnected))
	}
}
