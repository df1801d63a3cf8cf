package seat

import (
	"math"
	"slices"
	"testing"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// Regression tests for what FuzzLogindSignals found (its corpus in
// testdata/fuzz/FuzzLogindSignals holds the inputs themselves).

func openNull(t *testing.T) int {
	t.Helper()
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) }) // EBADF once the code closed it
	return fd
}

func mustBeClosed(t *testing.T, what string, fds ...int) {
	t.Helper()
	for _, fd := range fds {
		if isOpen(fd) {
			t.Errorf("%s: fd %d still open", what, fd)
		}
	}
}

// dbus.Store panics on a nil value; signal bodies never go through it.
func TestDecodeLogindSignalNilValues(t *testing.T) {
	for _, name := range fuzzSignalNames[:4] {
		for i := range 3 {
			body := []any{"x", "y", "z"}
			if name != fuzzSignalNames[0] {
				body = []any{uint32(13), uint32(64), "pause"}
			}
			body[i] = nil
			sig := &dbus.Signal{Name: name, Path: fuzzSessionPath, Body: body}
			if _, err := decodeLogindSignal(sig, fuzzSessionPath); err == nil {
				t.Errorf("%s with nil value %d: no error", name, i)
			}
		}
	}
	if _, err := decodeLogindSignal(&dbus.Signal{Name: fuzzSignalNames[0]}, fuzzSessionPath); err == nil {
		t.Error("NameOwnerChanged without a body: no error")
	}
}

// A negative fd in ResumeDevice is refused, not closed nor made into a
// nil NewFile.
func TestLogindResumeDeviceNegativeFD(t *testing.T) {
	for _, fd := range fuzzBadFDs {
		warns := &warnCounter{}
		var events []Event
		l := fuzzLogind(t, warns, func(e Event) { events = append(events, e) }, func(uint32, uint32) {})
		old := l.devices[[2]uint32{13, 64}].file
		l.handle(&dbus.Signal{Name: login1Session + ".ResumeDevice", Path: fuzzSessionPath,
			Body: []any{uint32(13), uint32(64), fd}})
		if warns.count() != 1 || len(events) != 0 {
			t.Errorf("ResumeDevice fd %d: %d warnings, events %+v; want 1 warning, no event", fd, warns.count(), events)
		}
		if cur := l.devices[[2]uint32{13, 64}].file; cur != old {
			t.Errorf("ResumeDevice fd %d replaced the device's file with %v", fd, cur)
		}
		l.lost = errNoBus
		l.Close()
	}
}

// A malformed TakeDevice reply closes every fd it carries; a good one
// closes all but the device's.
func TestDecodeTakeDeviceClosesFDs(t *testing.T) {
	a := openNull(t)
	if _, _, err := decodeTakeDevice([]any{dbus.MakeVariant(dbus.UnixFD(a))}); err == nil {
		t.Error("reply (variant fd): no error")
	}
	mustBeClosed(t, "reply (variant fd)", a)

	b := openNull(t)
	if _, _, err := decodeTakeDevice([]any{dbus.UnixFD(b), nil}); err == nil {
		t.Error("reply (fd, nil): no error")
	}
	mustBeClosed(t, "reply (fd, nil)", b)

	c, d := openNull(t), openNull(t)
	if _, _, err := decodeTakeDevice([]any{dbus.UnixFD(c), true, []dbus.UnixFD{dbus.UnixFD(d)}}); err == nil {
		t.Error("reply (fd, true, [fd]): no error")
	}
	mustBeClosed(t, "reply (fd, true, [fd])", c, d)

	if _, _, err := decodeTakeDevice([]any{dbus.UnixFD(-1), false}); err == nil {
		t.Error("reply (-1, false): no error")
	}

	e := openNull(t)
	fd, inactive, err := decodeTakeDevice([]any{dbus.UnixFD(e), true})
	if err != nil || fd != e || !inactive || !isOpen(e) {
		t.Errorf("reply (fd %d, true) = %d, %v, %v (open %v); want %d, true, nil, open", e, fd, inactive, err, isOpen(e), e)
	}
}

// dbus.Store would convert a uint32 into a UnixFD: a logind replying
// (u, b) would have vitrine take over whatever fd has that number.
func TestDecodeTakeDeviceNumberIsNoFD(t *testing.T) {
	mine := openNull(t)
	for _, v := range []any{uint32(mine), int32(mine), int(mine)} {
		if fd, _, err := decodeTakeDevice([]any{v, true}); err == nil {
			t.Errorf("reply (%T %d, true) taken as fd %d", v, v, fd)
		}
	}
	if !isOpen(mine) {
		t.Fatal("an unrelated fd of the same number was closed")
	}
}

// fds inside variants, arrays and structs of a signal nobody takes are
// closed too.
func TestLogindSignalNestedFDsClosed(t *testing.T) {
	a, b, c, d := openNull(t), openNull(t), openNull(t), openNull(t)
	l := fuzzLogind(t, &warnCounter{}, func(Event) {}, func(uint32, uint32) {})
	l.handle(&dbus.Signal{Name: "org.example.Junk", Path: "/", Body: []any{
		dbus.MakeVariant(dbus.UnixFD(a)),
		[]dbus.UnixFD{dbus.UnixFD(b)},
		[]any{dbus.UnixFD(c), uint32(1)},
		map[string]dbus.Variant{"fd": dbus.MakeVariant(dbus.UnixFD(d))},
	}})
	mustBeClosed(t, "junk signal", a, b, c, d)
	e := openNull(t)
	l.handle(&dbus.Signal{Name: login1Session + ".PauseDevice", Path: fuzzSessionPath,
		Body: []any{uint32(13), uint32(64), dbus.UnixFD(e)}})
	mustBeClosed(t, "PauseDevice with an fd", e)
	l.lost = errNoBus
	l.Close()
}

// An fd named twice in one message is closed once (a second close could
// hit an fd another goroutine opened meanwhile); negative ones never.
func TestBodyFDsDistinct(t *testing.T) {
	got := bodyFDs([]any{dbus.UnixFD(7), dbus.MakeVariant(dbus.UnixFD(7)), dbus.UnixFD(-1),
		[]dbus.UnixFD{math.MinInt32, 8}, []byte{1, 2}, nil, dbus.Variant{}})
	if !slices.Equal(got, []int{7, 8}) {
		t.Fatalf("bodyFDs = %v, want [7 8]", got)
	}
}
