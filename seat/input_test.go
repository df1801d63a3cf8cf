package seat

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/seat/evdev"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
	"golang.org/x/sys/unix"
)

func bitmap(bits ...int) *evdev.Bitmap {
	var b evdev.Bitmap
	for _, i := range bits {
		b.Set(i)
	}
	return &b
}

// fakeSysfs writes sysfs capability files and a FIFO standing in for the
// event node; sysfs prints longs, most significant first.
func fakeDevice(t *testing.T, sys, dev, name, devName string, caps map[string]string) *os.File {
	t.Helper()
	d := filepath.Join(sys, name, "device")
	if err := os.MkdirAll(filepath.Join(d, "capabilities"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d, "name"), []byte(devName+"\n"), 0o644)
	for k, v := range caps {
		if err := os.WriteFile(filepath.Join(d, "capabilities", k), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	node := filepath.Join(dev, name)
	if err := unix.Mkfifo(node, 0o600); err != nil {
		t.Fatal(err)
	}
	return nil
}

func writeEvents(t *testing.T, node string, evs ...evdev.Event) {
	t.Helper()
	f, err := os.OpenFile(node, os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b []byte
	for _, e := range evs {
		b = evdev.Encode(b, e, evdev.WordSize)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// inputRecorder is the handler Input calls on the loop.
type inputRecorder struct {
	loop *testLoop
	got  []inputevent.Event
}

// keyboardSysfs is a full keyboard's sysfs capabilities.
func keyboardSysfs() map[string]string {
	return map[string]string{"ev": "120013", "key": "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe"}
}

// newTestInput runs Input over s, with sysfs and the event nodes in
// temporary directories (see fakeDevice), and no hotplug.
func newTestInput(t *testing.T, s Session, sys, dev string) (*Input, *inputRecorder) {
	t.Helper()
	rec := &inputRecorder{loop: newTestLoop(t)}
	in, err := NewInput(s, rec.loop, rec.handle, InputOptions{DevDir: dev, SysClassDir: sys, NoHotplug: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in, rec
}

// fakeDirs makes the temporary sysfs and /dev/input directories.
func fakeDirs(t *testing.T) (sys, dev string) {
	root := t.TempDir()
	sys, dev = filepath.Join(root, "sys"), filepath.Join(root, "dev")
	os.MkdirAll(sys, 0o755)
	os.MkdirAll(dev, 0o755)
	return sys, dev
}

func (r *inputRecorder) handle(e inputevent.Event) { r.got = append(r.got, e) }

// next runs the loop until an event was handled and returns it.
func (r *inputRecorder) next() inputevent.Event {
	r.loop.t.Helper()
	r.loop.runUntil("an input event", func() bool { return len(r.got) > 0 })
	e := r.got[0]
	r.got = r.got[1:]
	return e
}

// expect compares the next events, ignoring headers.
func (r *inputRecorder) expect(want ...inputevent.Event) {
	r.loop.t.Helper()
	for i, w := range want {
		got := stripHeader(r.next())
		if !reflect.DeepEqual(got, w) {
			r.loop.t.Fatalf("event %d: got %#v, want %#v", i, got, w)
		}
	}
}

func stripHeader(e inputevent.Event) inputevent.Event {
	v := reflect.New(reflect.TypeOf(e)).Elem()
	v.Set(reflect.ValueOf(e))
	if f := v.FieldByName("Header"); f.IsValid() {
		f.Set(reflect.Zero(f.Type()))
	}
	return v.Interface().(inputevent.Event)
}

func TestInputThroughSession(t *testing.T) {
	sys, dev := fakeDirs(t)
	fakeDevice(t, sys, dev, "event0", "Keyboard", keyboardSysfs())
	fakeDevice(t, sys, dev, "event1", "Mouse", map[string]string{"ev": "17", "key": "70000 0 0 0 0", "rel": "103"})
	fakeDevice(t, sys, dev, "event2", "Power Button", map[string]string{"ev": "3", "key": "10000000000000 0"})

	s, _ := OpenDirect(Options{DirectKeepConsole: true})
	defer s.Close()
	in, rec := newTestInput(t, s, sys, dev)
	kbdCaps := inputevent.DeviceCaps{Keyboard: true}
	mouseCaps := inputevent.DeviceCaps{Pointer: true}
	rec.expect(
		inputevent.DeviceAdded{Name: "Keyboard", Caps: kbdCaps},
		inputevent.DeviceAdded{Name: "Mouse", Caps: mouseCaps})
	if k, p, tc := in.Capabilities(); !k || !p || tc {
		t.Fatalf("capabilities %v %v %v, want keyboard and pointer", k, p, tc)
	}

	kbd, mouse := filepath.Join(dev, "event0"), filepath.Join(dev, "event1")
	writeEvents(t, kbd,
		evdev.Event{Type: evdev.EvKey, Code: 42, Value: 1}, // left shift
		evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvKey, Code: evdev.KeyA, Value: 1},
		evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvKey, Code: evdev.KeyA, Value: 2}, // autorepeat: dropped
		evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvKey, Code: evdev.KeyA, Value: 0},
		evdev.Event{Type: evdev.EvSyn})
	rec.expect(
		inputevent.Key{Code: 42, Pressed: true},
		inputevent.Key{Code: evdev.KeyA, Pressed: true},
		inputevent.Key{Code: evdev.KeyA, Pressed: false})

	writeEvents(t, mouse,
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelX, Value: 5},
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelY, Value: -3},
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelX, Value: 1},
		evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvKey, Code: evdev.BtnLeft, Value: 1},
		evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelWheel, Value: -1},
		evdev.Event{Type: evdev.EvSyn})
	rec.expect(
		inputevent.PointerMotion{DX: 6, DY: -3}, inputevent.Frame{},
		inputevent.Button{Code: evdev.BtnLeft, Pressed: true}, inputevent.Frame{},
		inputevent.Axis{Orientation: inputevent.AxisVertical, Value: 15, Discrete: 1, Value120: 120}, inputevent.Frame{})

	// A pause releases what is held (shift, the left button) and drops
	// the devices; resume brings them back.
	in.HandleSessionEvent(Event{Kind: Paused})
	seen := map[string]bool{}
	for range 5 {
		switch e := stripHeader(rec.next()).(type) {
		case inputevent.Key:
			seen["shift-up"] = e == inputevent.Key{Code: 42}
		case inputevent.Button:
			seen["btn-up"] = e == inputevent.Button{Code: evdev.BtnLeft}
		case inputevent.Frame:
			seen["frame"] = true
		case inputevent.DeviceRemoved:
			seen["removed-"+e.Name] = e.Paused
		default:
			t.Fatalf("unexpected %#v during pause", e)
		}
	}
	for _, k := range []string{"shift-up", "btn-up", "frame", "removed-Keyboard", "removed-Mouse"} {
		if !seen[k] {
			t.Errorf("pause did not produce %s, marked as a pause (saw %v)", k, seen)
		}
	}
	if k, p, _ := in.Capabilities(); k || p {
		t.Fatal("devices still counted while paused")
	}
	if n := rec.loop.watching(); n != 0 {
		t.Fatalf("%d fds still watched while paused", n)
	}
	in.HandleSessionEvent(Event{Kind: Resumed})
	rec.expect(
		inputevent.DeviceAdded{Name: "Keyboard", Caps: kbdCaps},
		inputevent.DeviceAdded{Name: "Mouse", Caps: mouseCaps},
		inputevent.DevicesRescanned{})

	if n := rec.loop.watching(); n != 2 {
		t.Fatalf("%d fds watched after resume, want the 2 devices", n)
	}

	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 2 {
		t.Fatalf("Close handled %d events, want the 2 removals: %#v", len(rec.got), rec.got)
	}
	for _, e := range rec.got {
		if r, ok := e.(inputevent.DeviceRemoved); !ok || r.Paused {
			t.Fatalf("unexpected %#v from Close", e)
		}
	}
	if n := rec.loop.watching(); n != 0 {
		t.Fatalf("%d fds still watched after Close", n)
	}
}

func feedAll(tr *translator, evs ...evdev.Event) []inputevent.Event {
	var out []inputevent.Event
	for _, e := range evs {
		for _, o := range tr.feed(e) {
			out = append(out, stripHeader(o))
		}
	}
	return out
}

func TestTranslateMultiTouch(t *testing.T) {
	caps := evdev.Caps{Ev: bitmap(evdev.EvAbs, evdev.EvKey), Key: bitmap(evdev.BtnTouch),
		Abs: bitmap(evdev.AbsMTSlot, evdev.AbsMTPositionX, evdev.AbsMTPositionY, evdev.AbsMTTrackingID)}
	rng := evdev.AbsInfo{Minimum: 0, Maximum: 1000}
	var ids touchIDs
	tr := newTranslator("t", caps, &ids, evdev.AbsInfo{}, evdev.AbsInfo{}, rng, rng, 10, 0)
	abs := func(code uint16, v int32) evdev.Event { return evdev.Event{Type: evdev.EvAbs, Code: code, Value: v} }
	syn := evdev.Event{Type: evdev.EvSyn}
	got := feedAll(tr,
		abs(evdev.AbsMTTrackingID, 7), abs(evdev.AbsMTPositionX, 250), abs(evdev.AbsMTPositionY, 500),
		evdev.Event{Type: evdev.EvKey, Code: evdev.BtnTouch, Value: 1}, syn,
		abs(evdev.AbsMTSlot, 1), abs(evdev.AbsMTTrackingID, 8), abs(evdev.AbsMTPositionX, 1000), abs(evdev.AbsMTPositionY, 0),
		abs(evdev.AbsMTSlot, 0), abs(evdev.AbsMTPositionX, 300), syn,
		abs(evdev.AbsMTTrackingID, -1), syn,
		abs(evdev.AbsMTSlot, 1), abs(evdev.AbsMTTrackingID, -1), syn,
	)
	want := []inputevent.Event{
		inputevent.TouchDown{ID: 0, Slot: 0, X: 0.25, Y: 0.5}, inputevent.TouchFrame{},
		inputevent.TouchMotion{ID: 0, Slot: 0, X: 0.3, Y: 0.5}, inputevent.TouchDown{ID: 1, Slot: 1, X: 1, Y: 0}, inputevent.TouchFrame{},
		inputevent.TouchUp{ID: 0, Slot: 0}, inputevent.TouchFrame{},
		inputevent.TouchUp{ID: 1, Slot: 1}, inputevent.TouchFrame{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%#v\nwant\n%#v", got, want)
	}

	// SYN_DROPPED discards the partial report.
	got = feedAll(tr, abs(evdev.AbsMTTrackingID, 9), evdev.Event{Type: evdev.EvSyn, Code: evdev.SynDropped},
		abs(evdev.AbsMTPositionX, 5), syn)
	if len(got) != 0 {
		t.Fatalf("events from a dropped report: %#v", got)
	}
}

func TestTranslateTablet(t *testing.T) {
	caps := evdev.Caps{Ev: bitmap(evdev.EvAbs, evdev.EvKey), Key: bitmap(evdev.BtnLeft), Abs: bitmap(evdev.AbsX, evdev.AbsY)}
	var ids touchIDs
	rng := evdev.AbsInfo{Minimum: 0, Maximum: 32767}
	tr := newTranslator("t", caps, &ids, rng, rng, evdev.AbsInfo{}, evdev.AbsInfo{}, 1, 0)
	got := feedAll(tr,
		evdev.Event{Type: evdev.EvAbs, Code: evdev.AbsX, Value: 32767},
		evdev.Event{Type: evdev.EvAbs, Code: evdev.AbsY, Value: 0},
		evdev.Event{Type: evdev.EvKey, Code: evdev.BtnLeft, Value: 1},
		evdev.Event{Type: evdev.EvSyn})
	want := []inputevent.Event{inputevent.PointerAbs{X: 1, Y: 0}, inputevent.Button{Code: evdev.BtnLeft, Pressed: true}, inputevent.Frame{}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	rel := tr.releaseAll(inputevent.Header{})
	if len(rel) != 2 || rel[0] != (inputevent.Button{Code: evdev.BtnLeft}) {
		t.Fatalf("releaseAll: %#v", rel)
	}
}

// pipeSession hands out the read ends of pipes as event nodes: blocking,
// as a session manager may hand them over, written by the test as the
// kernel would, and able to fail (the writer closes) as an unplugged
// device does.
type pipeSession struct {
	t       *testing.T
	writers map[string]*os.File
	closed  []string
}

func (p *pipeSession) Kind() string     { return "pipes" }
func (p *pipeSession) SeatName() string { return "seat0" }
func (p *pipeSession) Active() bool     { return true }
func (p *pipeSession) SwitchVT(int) error {
	return errors.New("no VTs here")
}
func (p *pipeSession) Close() error { return nil }

func (p *pipeSession) OpenDevice(path string) (*os.File, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	p.writers[path] = os.NewFile(uintptr(fds[1]), path+" (writer)")
	p.t.Cleanup(func() { p.writers[path].Close() })
	return os.NewFile(uintptr(fds[0]), path), nil
}

func (p *pipeSession) CloseDevice(f *os.File) error {
	p.closed = append(p.closed, f.Name())
	return f.Close()
}

func (p *pipeSession) write(path string, evs ...evdev.Event) {
	var b []byte
	for _, e := range evs {
		b = evdev.Encode(b, e, evdev.WordSize)
	}
	if _, err := p.writers[path].Write(b); err != nil {
		p.t.Fatal(err)
	}
}

// Input reads a device only when the loop says it is readable, takes
// everything queued in one go without ever blocking the loop (the pipe
// is handed over blocking), and drops a device whose reads fail.
func TestInputReadsOnTheLoop(t *testing.T) {
	sys, dev := fakeDirs(t)
	fakeDevice(t, sys, dev, "event0", "Keyboard", keyboardSysfs())
	s := &pipeSession{t: t, writers: map[string]*os.File{}}
	_, rec := newTestInput(t, s, sys, dev)
	rec.expect(inputevent.DeviceAdded{Name: "Keyboard", Caps: inputevent.DeviceCaps{Keyboard: true}})
	node := filepath.Join(dev, "event0")

	// Exactly two read buffers' worth (2×64 records): the reader must
	// read on until the queue is empty, and a blocking read there would
	// hang the loop. If it does, the watchdog's extra report unblocks it
	// and the test fails.
	var evs []evdev.Event
	var want []inputevent.Event
	for i := range 32 {
		code := uint16(evdev.KeyA + i)
		evs = append(evs,
			evdev.Event{Type: evdev.EvKey, Code: code, Value: 1}, evdev.Event{Type: evdev.EvSyn},
			evdev.Event{Type: evdev.EvKey, Code: code, Value: 0}, evdev.Event{Type: evdev.EvSyn})
		want = append(want, inputevent.Key{Code: uint32(code), Pressed: true}, inputevent.Key{Code: uint32(code)})
	}
	s.write(node, evs...)
	if len(rec.got) != 0 {
		t.Fatalf("events handled before the loop ran: %#v", rec.got)
	}
	blocked := make(chan bool, 1)
	watchdog := time.AfterFunc(2*time.Second, func() {
		blocked <- true
		s.write(node, evdev.Event{Type: evdev.EvSyn})
	})
	rec.loop.iterate(time.Second)
	watchdog.Stop()
	select {
	case <-blocked:
		t.Fatal("reading the device blocked the loop")
	default:
	}
	if len(rec.got) != len(want) {
		t.Fatalf("one readable handled %d events, want all %d", len(rec.got), len(want))
	}
	rec.expect(want...)

	// The writer goes away: the device is gone, not paused.
	s.writers[node].Close()
	rec.expect(inputevent.DeviceRemoved{Name: "Keyboard", Caps: inputevent.DeviceCaps{Keyboard: true}})
	if len(s.closed) != 1 || s.closed[0] != node {
		t.Fatalf("session closed %v, want %s", s.closed, node)
	}
	if n := rec.loop.watching(); n != 0 {
		t.Fatalf("%d fds still watched after the device failed", n)
	}
}

// A hotplugged device that cannot be opened yet (udev is not done with
// it: logind answers ENODEV, the node lacks its group, or udev has yet to
// create it, as here) is retried on the loop's timer.
func TestInputHotplugRetries(t *testing.T) {
	sys, dev := fakeDirs(t)
	s, _ := OpenDirect(Options{DirectKeepConsole: true})
	defer s.Close()
	in, rec := newTestInput(t, s, sys, dev)
	mouse := map[string]string{"ev": "17", "key": "70000 0 0 0 0", "rel": "103"}
	fakeDevice(t, sys, dev, "event4", "Mouse", mouse)
	node := filepath.Join(dev, "event4")
	if err := os.Rename(node, node+".later"); err != nil {
		t.Fatal(err)
	}
	in.hotplug("add", "event4")
	if len(in.retries) != 1 || len(rec.got) != 0 {
		t.Fatalf("a node that is not there: %d retries pending, %d events; want 1 and none", len(in.retries), len(rec.got))
	}
	if err := os.Rename(node+".later", node); err != nil {
		t.Fatal(err)
	}
	rec.expect(inputevent.DeviceAdded{Name: "Mouse", Caps: inputevent.DeviceCaps{Pointer: true}})
	if len(in.retries) != 0 {
		t.Fatalf("retries pending after the device opened: %v", in.retries)
	}
	in.hotplug("remove", "event4")
	rec.expect(inputevent.DeviceRemoved{Name: "Mouse", Caps: inputevent.DeviceCaps{Pointer: true}})

	// A node that never shows up stops being retried.
	fakeDevice(t, sys, dev, "event5", "Mouse", mouse)
	os.Remove(filepath.Join(dev, "event5"))
	in.hotplug("add", "event5")
	rec.loop.runUntil("the retries to give up", func() bool { return len(in.retries) == 0 })
	if len(rec.got) != 0 {
		t.Fatalf("events for a node that never appeared: %#v", rec.got)
	}
}

// A handler that pauses input (a VT switch key does, under seatd) gets
// nothing of the device after its removal, not even the rest of the read
// that carried the key.
func TestInputHandlerClosesDevice(t *testing.T) {
	sys, dev := fakeDirs(t)
	fakeDevice(t, sys, dev, "event0", "Keyboard", keyboardSysfs())
	s := &pipeSession{t: t, writers: map[string]*os.File{}}
	rec := &inputRecorder{loop: newTestLoop(t)}
	var in *Input
	in, err := NewInput(s, rec.loop, func(e inputevent.Event) {
		rec.handle(e)
		if k, ok := e.(inputevent.Key); ok && k.Pressed {
			in.Pause()
		}
	}, InputOptions{DevDir: dev, SysClassDir: sys, NoHotplug: true})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s.write(filepath.Join(dev, "event0"),
		evdev.Event{Type: evdev.EvKey, Code: evdev.KeyA, Value: 1}, evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvKey, Code: evdev.KeyA + 1, Value: 1}, evdev.Event{Type: evdev.EvSyn})
	rec.loop.iterate(time.Second)
	caps := inputevent.DeviceCaps{Keyboard: true}
	rec.expect(inputevent.DeviceAdded{Name: "Keyboard", Caps: caps},
		inputevent.Key{Code: evdev.KeyA, Pressed: true},
		inputevent.Key{Code: evdev.KeyA},
		inputevent.DeviceRemoved{Name: "Keyboard", Caps: caps, Paused: true})
	if len(rec.got) != 0 {
		t.Fatalf("events after the device was closed: %#v", rec.got)
	}
}
