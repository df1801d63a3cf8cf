package seat

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSeatd runs Debian's seatd as root in a private mount namespace whose
// /run is a temporary directory (seatd 0.7 always listens on
// /run/seatd.sock) and whose /dev holds one fake evdev node, a regular
// file, since this machine has no input devices. It returns the socket
// path as seen from the test.
func startSeatd(t *testing.T) (sock string, proc *os.Process) {
	t.Helper()
	seatd, err := exec.LookPath("seatd")
	if err != nil {
		t.Skip("seatd not installed (apt-get install seatd)")
	}
	if os.Geteuid() != 0 {
		t.Skip("starting seatd needs root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare not available")
	}
	dir := t.TempDir()
	script := `mount --make-rprivate / && mount --bind "$1" /run && mount -t tmpfs tmpfs /dev &&
mkdir /dev/input && echo hello > /dev/input/event0 && exec "$2" -n 3 -l info`
	cmd := exec.Command(unshare, "-m", "sh", "-c", script, "sh", dir, seatd)
	cmd.Env = append(os.Environ(), "SEATD_VTBOUND=0")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start seatd in a mount namespace: %v", err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := r.Read(b)
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Skipf("seatd did not start (no mount namespace here?): %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("seatd not ready after 10s")
	}
	return filepath.Join(dir, "seatd.sock"), cmd.Process
}

// rawSeatdClient is a second, bare seatd client that competes for the seat.
type rawSeatdClient struct {
	t *testing.T
	c net.Conn
}

func dialRawSeatd(t *testing.T, sock string) *rawSeatdClient {
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawSeatdClient{t: t, c: c}
}

func (r *rawSeatdClient) send(op uint16, body []byte) {
	msg := binary.NativeEndian.AppendUint16(nil, op)
	msg = binary.NativeEndian.AppendUint16(msg, uint16(len(body)))
	if _, err := r.c.Write(append(msg, body...)); err != nil {
		r.t.Fatal(err)
	}
}

// recv reads one message; ok is false on timeout.
func (r *rawSeatdClient) recv(timeout time.Duration) (op uint16, ok bool) {
	r.c.SetReadDeadline(time.Now().Add(timeout))
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(r.c, hdr); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, false
		}
		r.t.Fatal(err)
	}
	body := make([]byte, binary.NativeEndian.Uint16(hdr[2:]))
	if _, err := io.ReadFull(r.c, body); err != nil {
		r.t.Fatal(err)
	}
	return binary.NativeEndian.Uint16(hdr), true
}

func (r *rawSeatdClient) expect(want uint16) {
	r.t.Helper()
	op, ok := r.recv(5 * time.Second)
	if !ok || op != want {
		r.t.Fatalf("second client got 0x%04x (ok=%v), want 0x%04x", op, ok, want)
	}
}

func TestSeatdSession(t *testing.T) {
	sock, _ := startSeatd(t)
	// seatd numbers clients of a VT-less seat from 0 and refuses to switch
	// to session 0, so burn session 0 with a client that leaves at once.
	first := dialRawSeatd(t, sock)
	first.send(seatdOpenSeat, nil)
	first.expect(seatdSeatOpened)
	first.expect(seatdServerEnable)
	first.send(seatdCloseSeat, nil)
	first.expect(seatdSeatClosed)

	ctx := context.Background()
	events := newSessionEvents(newTestLoop(t))
	s, err := OpenWith(ctx, KindSeatd, Options{SeatdSocket: sock, Loop: events.loop, Events: events.deliver})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Kind() != "seatd" || s.SeatName() != "seat0" || !s.Active() {
		t.Fatalf("kind %q seat %q active %v, want seatd seat0 true", s.Kind(), s.SeatName(), s.Active())
	}

	f, err := s.OpenDevice("/dev/input/event0")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "hello" {
		t.Fatalf("read through the fd seatd passed: %q %v, want hello", buf, err)
	}
	_, err = s.OpenDevice("/etc/hostname")
	if err == nil || !strings.Contains(err.Error(), "not one seatd hands out") {
		t.Fatalf("non-device open: %v", err)
	}
	if err := s.SwitchVT(99); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("switch to a missing session: %v, want EINVAL", err)
	}

	// A second client waits for the seat; switching to it (session 2)
	// pauses us, and only our Ack lets seatd hand the seat over.
	other := dialRawSeatd(t, sock)
	other.send(seatdOpenSeat, nil)
	other.expect(seatdSeatOpened)

	before := countFDs(t)
	for cycle := 0; cycle < 20; cycle++ {
		if err := s.SwitchVT(2); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		ev := events.next()
		if ev.Kind != Paused {
			t.Fatalf("cycle %d: got %v, want paused", cycle, ev.Kind)
		}
		if s.Active() {
			t.Fatal("active while paused")
		}
		if op, ok := other.recv(100 * time.Millisecond); ok {
			t.Fatalf("cycle %d: other client got 0x%04x before our Ack", cycle, op)
		}
		// An evdev fd is revoked while paused: close it, reopen on resume.
		if err := s.CloseDevice(f); err != nil {
			t.Fatal(err)
		}
		ev.Ack()
		other.expect(seatdServerEnable)
		if _, err := s.OpenDevice("/dev/input/event0"); err == nil || !strings.Contains(err.Error(), "not active") {
			t.Fatalf("open while paused: %v", err)
		}

		sess := binary.NativeEndian.AppendUint32(nil, 1) // our session
		other.send(seatdSwitchSession, sess)
		other.expect(seatdServerDisable)
		other.send(seatdDisableSeat, nil)
		if ev := events.next(); ev.Kind != Resumed {
			t.Fatalf("cycle %d: got %v, want resumed", cycle, ev.Kind)
		}
		if !s.Active() {
			t.Fatal("not active after resume")
		}
		if f, err = s.OpenDevice("/dev/input/event0"); err != nil {
			t.Fatalf("cycle %d: reopen: %v", cycle, err)
		}
	}
	if after := countFDs(t); after > before {
		t.Fatalf("open fds grew from %d to %d over 20 cycles", before, after)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatal("Close left a device open")
	}
	if n := events.loop.watching(); n != 0 {
		t.Fatalf("%d fds still watched after Close", n)
	}
}

func TestSeatdDisappears(t *testing.T) {
	sock, proc := startSeatd(t)
	events := newSessionEvents(newTestLoop(t))
	s, err := OpenWith(context.Background(), KindSeatd, Options{SeatdSocket: sock, Loop: events.loop, Events: events.deliver})
	if err != nil {
		t.Fatal(err)
	}
	proc.Kill()
	if ev := events.next(); ev.Kind != Lost || !errors.Is(ev.Err, ErrLost) {
		t.Fatalf("got %+v, want Lost", ev)
	}
	// A hung-up socket stays readable: left on the loop, it would spin.
	if n := events.loop.watching(); n != 0 {
		t.Fatalf("%d fds still watched after seatd went away", n)
	}
	if _, err := s.OpenDevice("/dev/input/event0"); !errors.Is(err, ErrLost) {
		t.Fatalf("open after loss: %v", err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs after seatd died")
	}
}

func TestSeatdNotRunning(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "seatd.sock")
	_, err := OpenWith(context.Background(), KindSeatd, Options{SeatdSocket: sock, Loop: newTestLoop(t)})
	if !errors.Is(err, ErrSeatdNotRunning) || !strings.Contains(err.Error(), sock) {
		t.Fatalf("got %v, want ErrSeatdNotRunning naming %s", err, sock)
	}
	t.Log(err)
}

func TestAutoFallsBackToDirect(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_SESSION_ID", "")
	var logbuf strings.Builder
	log := newTextLogger(&logbuf)
	s, err := OpenWith(context.Background(), KindAuto, Options{
		Log:         log,
		SystemBus:   "unix:path=" + filepath.Join(dir, "nobus"),
		SeatdSocket: filepath.Join(dir, "noseatd"),
		Loop:        newTestLoop(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Kind() != KindDirect {
		t.Fatalf("auto chose %s, want direct", s.Kind())
	}
	out := logbuf.String()
	for _, want := range []string{"logind not used", "seatd not used", "using direct"} {
		if !strings.Contains(out, want) {
			t.Errorf("auto log lacks %q:\n%s", want, out)
		}
	}
}

// seatd drops a client that asks for a seat it cannot have; that must read
// as "busy", not as a crash of seatd.
func TestSeatdRefusedSeatIsBusy(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "seatd.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.ReadFull(c, make([]byte, 4)) // OPEN_SEAT, then hang up
		c.Close()
	}()
	_, err = OpenWith(context.Background(), KindSeatd, Options{SeatdSocket: sock, Loop: newTestLoop(t)})
	if !errors.Is(err, ErrSessionBusy) || !errors.Is(err, ErrDeviceBusy) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one-line ErrSessionBusy (a kind of ErrDeviceBusy)", err)
	}
	t.Log(err)
}
