package seat

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// The fuzz session's own path, and the devices it has taken: an input
// node and a DRM node (logind treats their fds differently on resume).
const fuzzSessionPath = dbus.ObjectPath("/org/freedesktop/login1/session/_31")

var fuzzDevices = [][2]uint32{{13, 64}, {drmMajor, 0}}

// Ops of a FuzzLogindSignals input (the first byte of each, modulo 3).
const (
	fuzzOpSignal     = iota // deliver a signal to handle
	fuzzOpTakeDevice        // decode a TakeDevice reply
	fuzzOpAck               // ack pending events (next byte: which)
)

var (
	fuzzSignalNames = []string{
		"org.freedesktop.DBus.NameOwnerChanged",
		dbusProperties + ".PropertiesChanged",
		login1Session + ".PauseDevice",
		login1Session + ".ResumeDevice",
		login1Session + ".Lock",
		"org.example.Junk",
		"",
	}
	fuzzPaths   = []dbus.ObjectPath{fuzzSessionPath, "/org/freedesktop/login1/session/_32", "/"}
	fuzzUint32s = []uint32{0, 1, 3, 13, 64, drmMajor, math.MaxUint32, math.MaxInt32}
	fuzzStrings = []string{"pause", "force", "gone", "", login1Name, login1Session, "Active", ":1.7", dbusProperties}
	fuzzBadFDs  = []dbus.UnixFD{-1, -2, math.MinInt32}
)

// fuzzInput reads an input byte by byte; past its end every byte is 0.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) next() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

// fdTracker opens the descriptors an input passes in (all on /dev/null)
// and checks that each is closed exactly once or handed on exactly once.
// After every step the numbers closed so far are taken by canaries
// (dup3 of one /dev/null fd onto them): a second close of a number the
// code already closed closes a canary instead of nothing, and the final
// check sees it.
type fdTracker struct {
	t       *testing.T
	passed  []int
	canary  map[int]bool // passed fd number now held by a canary
	handed  map[int]bool // passed fd handed on (TakeDevice result, NewFile)
	src     int
	lastOne int
}

func newFDTracker(t *testing.T) *fdTracker {
	src, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return &fdTracker{t: t, canary: map[int]bool{}, handed: map[int]bool{}, src: src, lastOne: -1}
}

func (k *fdTracker) open() dbus.UnixFD {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		k.t.Fatal(err)
	}
	if slices.Contains(k.passed, fd) {
		k.t.Fatalf("fd %d reused within one input: the canaries did not hold", fd)
	}
	k.passed = append(k.passed, fd)
	k.lastOne = fd
	return dbus.UnixFD(fd)
}

func (k *fdTracker) isPassed(fd int) bool { return slices.Contains(k.passed, fd) }

func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// settle puts canaries on the passed numbers closed since the last step.
func (k *fdTracker) settle() {
	for _, fd := range k.passed {
		if k.canary[fd] || isOpen(fd) {
			continue
		}
		if err := unix.Dup3(k.src, fd, unix.O_CLOEXEC); err != nil {
			k.t.Fatal(err)
		}
		k.canary[fd] = true
	}
}

// hand records that fd went to the caller; it must be one passed in,
// still open, and not handed on before.
func (k *fdTracker) hand(fd int, what string) {
	switch {
	case !k.isPassed(fd):
		k.t.Fatalf("%s: fd %d handed on was never passed in (passed %v)", what, fd, k.passed)
	case k.canary[fd] || !isOpen(fd):
		k.t.Fatalf("%s: fd %d handed on after it was closed", what, fd)
	case k.handed[fd]:
		k.t.Fatalf("%s: fd %d handed on twice", what, fd)
	}
	k.handed[fd] = true
}

// finish checks, once everything is released, that no passed fd is open
// and no canary was closed, then closes the canaries.
func (k *fdTracker) finish() {
	for _, fd := range k.passed {
		switch {
		case k.canary[fd] && !isOpen(fd):
			k.t.Errorf("fd %d was closed twice (its canary is gone)", fd)
		case k.canary[fd]:
			unix.Close(fd)
		case isOpen(fd):
			k.t.Errorf("fd %d passed in is still open after Close: leaked", fd)
			unix.Close(fd)
		}
	}
	unix.Close(k.src)
}

// value builds one body value of a dbus type the input picks.
func (k *fdTracker) value(in *fuzzInput) any {
	switch in.next() % 16 {
	case 0:
		return fuzzUint32s[in.next()%byte(len(fuzzUint32s))]
	case 1:
		return fuzzStrings[in.next()%byte(len(fuzzStrings))]
	case 2:
		return in.next()&1 == 1
	case 3:
		return k.open()
	case 4:
		return fuzzBadFDs[in.next()%byte(len(fuzzBadFDs))]
	case 5:
		m := map[string]dbus.Variant{}
		for n := in.next() % 3; n > 0; n-- {
			// A repeated key would drop an fd before vitrine sees it
			// (godbus decodes a dict with repeated keys the same way).
			if key := fuzzStrings[in.next()%byte(len(fuzzStrings))]; !hasKey(m, key) {
				m[key] = k.variant(in)
			}
		}
		return m
	case 6:
		var s []string
		for n := in.next() % 3; n > 0; n-- {
			s = append(s, fuzzStrings[in.next()%byte(len(fuzzStrings))])
		}
		return s
	case 7:
		return nil
	case 8:
		var fds []dbus.UnixFD
		for n := in.next() % 3; n > 0; n-- {
			fds = append(fds, k.open())
		}
		return fds
	case 9:
		return dbus.MakeVariant(k.open())
	case 10:
		return []any{k.open(), uint32(1)}
	case 11:
		return fuzzSessionPath
	case 12:
		return int32(-1)
	case 13:
		// godbus puts one fd in twice when a message names its index
		// twice.
		if k.lastOne < 0 {
			return k.open()
		}
		return dbus.UnixFD(k.lastOne)
	case 14:
		return map[string]dbus.Variant{"Active": dbus.MakeVariant(in.next()&1 == 1)}
	default:
		return dbus.Variant{}
	}
}

func hasKey(m map[string]dbus.Variant, key string) bool { _, ok := m[key]; return ok }

func (k *fdTracker) variant(in *fuzzInput) dbus.Variant {
	switch in.next() % 5 {
	case 0:
		return dbus.MakeVariant(in.next()&1 == 1)
	case 1:
		return dbus.MakeVariant(uint32(in.next()))
	case 2:
		return dbus.MakeVariant("yes")
	case 3:
		return dbus.Variant{}
	default:
		return dbus.MakeVariant(k.open())
	}
}

func (k *fdTracker) body(in *fuzzInput) []any {
	k.lastOne = -1 // a message repeats only its own fds
	var body []any
	for n := in.next() % 6; n > 0; n-- {
		body = append(body, k.value(in))
	}
	return body
}

// warnCounter counts the Warn records a Logind logs.
type warnCounter struct {
	mu   sync.Mutex
	n    int
	last string
}

func (w *warnCounter) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		w.mu.Lock()
		w.n++
		w.last = r.Message
		w.mu.Unlock()
	}
	return nil
}
func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnCounter) WithGroup(string) slog.Handler      { return w }

func (w *warnCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

var errNoBus = errors.New("no bus in this test")

// fuzzLogind is a Logind as OpenLogind leaves it, without a bus: the
// session is active and has taken the fuzz devices.
func fuzzLogind(t *testing.T, warns *warnCounter, notify func(Event), complete func(major, minor uint32)) *Logind {
	l := &Logind{
		log:           slog.New(warns),
		path:          fuzzSessionPath,
		id:            "31",
		seat:          "seat0",
		notify:        notify,
		active:        true,
		devices:       make(map[[2]uint32]*logindDevice),
		pauseComplete: complete,
		queryActive:   func() (bool, error) { return false, errors.New("no bus in this test") },
	}
	for _, d := range fuzzDevices {
		f, err := os.Open("/dev/null")
		if err != nil {
			t.Fatal(err)
		}
		l.devices[d] = &logindDevice{path: "/dev/fuzz", major: d[0], minor: d[1], file: f}
	}
	return l
}

// FuzzLogindSignals: a buggy or hostile logind (or bus) must not crash
// vitrine or make it leak. Signals of the names Logind handles and
// others, on its path or not, with bodies of any dbus types in any
// number (fds among them, real ones on /dev/null and negative ones), go
// through the live handler, interleaved with TakeDevice replies and
// acks. No panic; a malformed signal is logged at Warn; every fd passed
// in is closed exactly once or handed on exactly once, and after Close
// none is left open.
func FuzzLogindSignals(f *testing.F) {
	// Op bytes: signal (0) name path count values..., takedevice (1)
	// count values..., ack (2) mask. Value bytes: see fdTracker.value.
	f.Add([]byte{0, 2, 0, 3, 0, 3, 0, 4, 1, 0, 2, 0xff}) // PauseDevice 13:64 "pause", ack
	f.Add([]byte{0, 3, 0, 3, 0, 3, 0, 4, 3})             // ResumeDevice 13:64 fd
	f.Add([]byte{0, 3, 0, 3, 0, 5, 0, 0, 3, 2, 0xff})    // ResumeDevice 226:0 fd, ack
	f.Add([]byte{0, 1, 0, 3, 1, 5, 14, 1, 6, 0})         // PropertiesChanged Active=true
	f.Add([]byte{0, 1, 0, 3, 1, 5, 5, 0, 6, 1, 6})       // PropertiesChanged, Active invalidated
	f.Add([]byte{0, 0, 0, 3, 1, 4, 1, 7, 1, 3})          // NameOwnerChanged login1 left
	f.Add([]byte{1, 2, 3, 2, 1})                         // TakeDevice fd, true
	f.Add([]byte{1, 2, 4, 0, 2, 0})                      // TakeDevice -1, false
	f.Add([]byte{1, 3, 3, 7, 2, 1})                      // TakeDevice fd, nil, true
	f.Add([]byte{1, 1, 7})                               // TakeDevice nil
	f.Add([]byte{0, 3, 0, 3, 0, 3, 0, 4, 4, 0})          // ResumeDevice -1
	f.Add([]byte{0, 2, 0, 3, 0, 3, 0, 4, 3})             // PauseDevice with an fd
	f.Add([]byte{0, 0, 0, 3, 7, 1, 4, 1, 7})             // NameOwnerChanged with nil
	f.Add([]byte{0, 5, 1, 2, 8, 2, 9})                   // junk signal with fd array, fd variant
	// The first os.Open of a device starts the runtime's poller (an
	// epoll fd and an eventfd, kept): start it before counting.
	if f, err := os.Open("/dev/null"); err == nil {
		f.Close()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		base := countFDs(t)
		in := &fuzzInput{b: data}
		fds := newFDTracker(t)
		warns := &warnCounter{}
		var mu sync.Mutex
		var events []Event
		acked := map[int]bool{}
		acking := false
		// logind hears PauseDeviceComplete for a device of ours only
		// when the consumer acks (for one not ours, at once).
		complete := func(major, minor uint32) {
			if slices.Contains(fuzzDevices, [2]uint32{major, minor}) && !acking {
				t.Fatalf("PauseDeviceComplete %d:%d sent before the consumer acked", major, minor)
			}
		}
		notify := func(e Event) {
			if e.Kind == DeviceResumed && e.Major != drmMajor {
				if e.NewFile == nil {
					t.Fatalf("DeviceResumed %d:%d without a new file", e.Major, e.Minor)
				}
				fds.hand(int(e.NewFile.Fd()), "DeviceResumed")
			}
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
		l := fuzzLogind(t, warns, notify, complete)
		for step := 0; step < 32 && len(in.b) > 0; step++ {
			switch in.next() % 3 {
			case fuzzOpSignal:
				sig := &dbus.Signal{
					Name: fuzzSignalNames[in.next()%byte(len(fuzzSignalNames))],
					Path: fuzzPaths[in.next()%byte(len(fuzzPaths))],
				}
				sig.Body = fds.body(in)
				want := malformedSignal(sig, fuzzSessionPath)
				before := warns.count()
				l.handle(sig)
				if got := warns.count() > before; got != want {
					t.Fatalf("signal %s on %s body %#v: logged a warning %v, want %v", sig.Name, sig.Path, sig.Body, got, want)
				}
			case fuzzOpTakeDevice:
				body := fds.body(in)
				want := malformedTakeDevice(body)
				fd, _, err := decodeTakeDevice(body)
				if (err != nil) != want {
					t.Fatalf("TakeDevice reply %#v: err %v, want malformed %v", body, err, want)
				}
				if err == nil {
					fds.hand(fd, "TakeDevice")
					unix.Close(fd) // the caller's now
				}
			case fuzzOpAck:
				mask := in.next()
				mu.Lock()
				evs := slices.Clone(events)
				mu.Unlock()
				for i, e := range evs {
					if mask&(1<<(i%8)) != 0 && !acked[i] {
						acked[i] = true
						acking = true
						e.Ack()
						acking = false
					}
				}
			}
			fds.settle()
		}
		// Tear down as a session whose logind left: no bus calls.
		l.handle(&dbus.Signal{Name: "org.freedesktop.DBus.NameOwnerChanged", Body: []any{login1Name, ":1.7", ""}})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		evs := slices.Clone(events)
		mu.Unlock()
		acking = true
		for _, e := range evs {
			e.Ack() // late acks of a closed session are harmless
		}
		acking = false
		fds.settle()
		fds.finish()
		if after := countFDs(t); after != base {
			t.Fatalf("%d fds open after Close, %d before the input", after, base)
		}
	})
}

// malformedSignal is the contract: which signals are not what logind
// or the bus sends, so vitrine warns of them. Signals of other names,
// other sessions' paths or other interfaces are not malformed, only
// not ours.
func malformedSignal(sig *dbus.Signal, path dbus.ObjectPath) bool {
	b := sig.Body
	is := func(i int, ok func(any) bool) bool { return i < len(b) && ok(b[i]) }
	str := func(v any) bool { _, ok := v.(string); return ok }
	u32 := func(v any) bool { _, ok := v.(uint32); return ok }
	switch sig.Name {
	case "org.freedesktop.DBus.NameOwnerChanged":
		return len(b) != 3 || !is(0, str) || !is(1, str) || !is(2, str)
	case dbusProperties + ".PropertiesChanged":
		if sig.Path != path {
			return false
		}
		if len(b) != 3 || !is(0, str) || !is(2, func(v any) bool { _, ok := v.([]string); return ok }) {
			return true
		}
		changed, ok := b[1].(map[string]dbus.Variant)
		if !ok {
			return true
		}
		if b[0] != login1Session {
			return false
		}
		if v, ok := changed["Active"]; ok {
			_, isBool := v.Value().(bool)
			return !isBool
		}
		return false
	case login1Session + ".PauseDevice":
		return sig.Path == path && (len(b) != 3 || !is(0, u32) || !is(1, u32) || !is(2, str))
	case login1Session + ".ResumeDevice":
		return sig.Path == path && (len(b) != 3 || !is(0, u32) || !is(1, u32) ||
			!is(2, func(v any) bool { fd, ok := v.(dbus.UnixFD); return ok && fd >= 0 }))
	}
	return false
}

// malformedTakeDevice: TakeDevice returns (h fd, b inactive), nothing
// else.
func malformedTakeDevice(body []any) bool {
	if len(body) != 2 {
		return true
	}
	fd, ok := body[0].(dbus.UnixFD)
	_, isBool := body[1].(bool)
	return !ok || fd < 0 || !isBool
}
