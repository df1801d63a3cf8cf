package seat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func openTestLogind(t *testing.T, addr, sessionID string) (*Logind, *sessionEvents) {
	t.Helper()
	t.Setenv("XDG_SESSION_ID", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := newSessionEvents(newTestLoop(t))
	s, err := OpenWith(ctx, KindLogind, Options{SystemBus: addr, SessionID: sessionID, Events: events.deliver})
	if err != nil {
		t.Fatalf("open logind session: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*Logind), events
}

func rdev(t *testing.T, f *os.File) (uint32, uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatalf("fstat %s: %v", f.Name(), err)
	}
	return unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestLogindSessionLifecycle(t *testing.T) {
	addr := startBus(t)
	fake := startFakeLogind(t, addr)
	s, events := openTestLogind(t, addr, "")

	if got := fmt.Sprintf("%s %s %s %v", s.Kind(), s.SeatName(), s.ID(), s.Active()); got != "logind seat0 1 true" {
		t.Fatalf("kind seat id active = %q, want %q", got, "logind seat0 1 true")
	}
	fake.waitCall(t, fmt.Sprintf("GetSessionByPID %d", os.Getpid()))
	fake.waitCall(t, "TakeControl")

	f, err := s.OpenDevice("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	fake.waitCall(t, "TakeDevice 1 3")
	if maj, min := rdev(t, f); maj != 1 || min != 3 {
		t.Fatalf("device fd is %d:%d, want 1:3 (the fd logind passed)", maj, min)
	}
	if _, err := s.OpenDevice("/dev/null"); err == nil {
		t.Fatal("second OpenDevice of the same node succeeded")
	}

	if err := s.SwitchVT(2); err != nil {
		t.Fatal(err)
	}
	fake.waitCall(t, "SwitchTo 2")

	before := countFDs(t)
	cur := f
	for cycle := 0; cycle < 20; cycle++ {
		fake.ctl(t, "Pause", uint32(1), uint32(3), "pause")
		ev := events.next()
		if ev.Kind != DevicePaused || ev.Path != "/dev/null" || ev.Forced || ev.Major != 1 || ev.Minor != 3 {
			t.Fatalf("cycle %d: got %+v, want DevicePaused /dev/null 1:3 not forced", cycle, ev)
		}
		// logind must not hear PauseDeviceComplete before the consumer acks.
		time.Sleep(20 * time.Millisecond)
		if cycle == 0 && fake.hasCall(t, "PauseDeviceComplete 1 3") {
			t.Fatal("PauseDeviceComplete sent before Ack")
		}
		ev.Ack()
		ev.Ack() // idempotent
		if cycle == 0 {
			fake.waitCall(t, "PauseDeviceComplete 1 3")
		}

		fake.ctl(t, "SetActive", false)
		if ev := events.next(); ev.Kind != Paused {
			t.Fatalf("cycle %d: got %v, want paused", cycle, ev.Kind)
		}
		if s.Active() {
			t.Fatal("Active() true after Active=false")
		}

		fake.ctl(t, "Resume", uint32(1), uint32(3))
		ev = events.next()
		if ev.Kind != DeviceResumed || ev.NewFile == nil || ev.OldFile != cur {
			t.Fatalf("cycle %d: got %+v, want DeviceResumed replacing the current file", cycle, ev)
		}
		if maj, min := rdev(t, ev.NewFile); maj != 1 || min != 3 {
			t.Fatalf("resumed fd is %d:%d, want 1:3", maj, min)
		}
		ev.Ack()
		if _, err := cur.Stat(); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("cycle %d: old file still open after Ack (stat err %v)", cycle, err)
		}
		cur = ev.NewFile

		fake.ctl(t, "SetActive", true)
		if ev := events.next(); ev.Kind != Resumed {
			t.Fatalf("cycle %d: got %v, want resumed", cycle, ev.Kind)
		}
		if !s.Active() {
			t.Fatal("Active() false after Active=true")
		}
	}
	if after := countFDs(t); after > before {
		t.Fatalf("open fds grew from %d to %d over 20 pause/resume cycles", before, after)
	}

	// logind may announce Active=true before resuming the devices;
	// Resumed must still come after the paused device's DeviceResumed.
	fake.ctl(t, "Pause", uint32(1), uint32(3), "force")
	events.next().Ack()
	fake.ctl(t, "SetActive", false)
	if ev := events.next(); ev.Kind != Paused {
		t.Fatalf("got %v, want paused", ev.Kind)
	}
	fake.ctl(t, "SetActive", true)
	time.Sleep(50 * time.Millisecond)
	fake.ctl(t, "Resume", uint32(1), uint32(3))
	ev := events.next()
	if ev.Kind != DeviceResumed {
		t.Fatalf("got %v first, want device-resumed before resumed", ev.Kind)
	}
	ev.Ack()
	cur = ev.NewFile
	if ev := events.next(); ev.Kind != Resumed {
		t.Fatalf("got %v, want resumed", ev.Kind)
	}
	// A device logind never resumes delays Resumed only briefly.
	fake.ctl(t, "Pause", uint32(1), uint32(3), "force")
	events.next().Ack()
	fake.ctl(t, "SetActive", false)
	events.next()
	fake.ctl(t, "SetActive", true)
	if ev := events.next(); ev.Kind != Resumed {
		t.Fatalf("got %v, want resumed after the wait", ev.Kind)
	}

	// A forced pause needs no answer; an unknown device's pause is
	// completed by the session itself so logind is not kept waiting.
	fake.ctl(t, "Pause", uint32(1), uint32(3), "force")
	if ev := events.next(); ev.Kind != DevicePaused || !ev.Forced || ev.Gone {
		t.Fatalf("got %+v, want forced DevicePaused", ev)
	}
	fake.ctl(t, "Pause", uint32(1), uint32(5), "pause")
	fake.waitCall(t, "PauseDeviceComplete 1 5")

	if err := s.CloseDevice(cur); err != nil {
		t.Fatal(err)
	}
	fake.waitCall(t, "ReleaseDevice 1 3")
	if _, err := cur.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatal("CloseDevice left the file open")
	}

	if _, err := s.OpenDevice("/dev/zero"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fake.waitCall(t, "ReleaseDevice 1 5")
	fake.waitCall(t, "ReleaseControl")
	// Closing the bus connection is not losing the session.
	events.loop.runFor(100 * time.Millisecond)
	if len(events.got) != 0 {
		t.Fatalf("events after Close: %+v", events.got)
	}
}

func TestLogindServiceDisappears(t *testing.T) {
	addr := startBus(t)
	fake := startFakeLogind(t, addr)
	s, events := openTestLogind(t, addr, "1")
	fake.waitCall(t, "GetSession 1")
	if _, err := s.OpenDevice("/dev/null"); err != nil {
		t.Fatal(err)
	}
	fake.cmd.Process.Kill()
	ev := events.next()
	if ev.Kind != Lost || !errors.Is(ev.Err, ErrLost) {
		t.Fatalf("got %+v, want Lost", ev)
	}
	if s.Active() {
		t.Fatal("still active after logind left")
	}
	if _, err := s.OpenDevice("/dev/zero"); !errors.Is(err, ErrLost) {
		t.Fatalf("OpenDevice after loss: %v, want ErrLost", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs after logind left")
	}
}

func TestLogindErrors(t *testing.T) {
	addr := startBus(t)
	ctx := context.Background()
	t.Setenv("XDG_SESSION_ID", "")

	_, err := OpenWith(ctx, KindLogind, Options{SystemBus: addr})
	if err == nil || !strings.Contains(err.Error(), "logind is not running") {
		t.Fatalf("without logind: %v", err)
	}

	fake := startFakeLogind(t, addr)
	_, err = OpenWith(ctx, KindLogind, Options{SystemBus: addr, SessionID: "42"})
	if !errors.Is(err, ErrNoSession) || !strings.Contains(err.Error(), "log in on a text console") {
		t.Fatalf("unknown session: %v, want ErrNoSession with a hint", err)
	}
	t.Log(err)

	s, _ := openTestLogind(t, addr, "1")
	_, err = s.OpenDevice("/dev/full")
	if !errors.Is(err, ErrDeviceBusy) || errors.Is(err, ErrSessionBusy) {
		t.Fatalf("busy device: %v, want ErrDeviceBusy and not ErrSessionBusy", err)
	}
	t.Log(err)

	_, err = OpenWith(ctx, KindLogind, Options{SystemBus: addr, SessionID: "1"})
	if !errors.Is(err, ErrSessionBusy) || !errors.Is(err, ErrDeviceBusy) {
		t.Fatalf("second controller: %v, want ErrSessionBusy (a kind of ErrDeviceBusy)", err)
	}
	t.Log(err)
	_ = fake
}

// TestLogindDeviceNotReady: a node logind has no udev record of yet (the
// card a rebound driver just made) is refused with ENODEV, which must be
// told apart from other failures so the caller tries again.
func TestLogindDeviceNotReady(t *testing.T) {
	addr := startBus(t)
	t.Setenv("XDG_SESSION_ID", "")
	startFakeLogind(t, addr)
	s, _ := openTestLogind(t, addr, "1")
	// /dev/random (1:8) is not among the fake's devices.
	_, err := s.OpenDevice("/dev/random")
	if !errors.Is(err, ErrDeviceNotReady) || errors.Is(err, ErrDeviceBusy) {
		t.Fatalf("a device logind does not know: %v, want ErrDeviceNotReady", err)
	}
	t.Log(err)
	_, err = s.OpenDevice("/dev/full")
	if errors.Is(err, ErrDeviceNotReady) {
		t.Fatalf("a busy device: %v, want no ErrDeviceNotReady", err)
	}
	// Nothing is left half-taken: a known device still opens.
	f, err := s.OpenDevice("/dev/null")
	if err != nil {
		t.Fatalf("open /dev/null after a refusal: %v", err)
	}
	if err := s.CloseDevice(f); err != nil {
		t.Fatal(err)
	}
}

func TestLogindNoBus(t *testing.T) {
	_, err := OpenWith(context.Background(), KindLogind, Options{SystemBus: "unix:path=" + t.TempDir() + "/none"})
	if err == nil || !strings.Contains(err.Error(), "system bus") {
		t.Fatalf("no bus: %v", err)
	}
}
