package seat

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/seat/evdev"
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

func nextInput(t *testing.T, in *Input) InputEvent {
	t.Helper()
	select {
	case e, ok := <-in.Events():
		if !ok {
			t.Fatal("input events closed")
		}
		return e
	case <-time.After(3 * time.Second):
		t.Fatal("no input event within 3s")
	}
	return nil
}

// expectInput compares the next events, ignoring headers.
func expectInput(t *testing.T, in *Input, want ...InputEvent) {
	t.Helper()
	for i, w := range want {
		got := stripHeader(nextInput(t, in))
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("event %d: got %#v, want %#v", i, got, w)
		}
	}
}

func stripHeader(e InputEvent) InputEvent {
	v := reflect.New(reflect.TypeOf(e)).Elem()
	v.Set(reflect.ValueOf(e))
	if f := v.FieldByName("Header"); f.IsValid() {
		f.Set(reflect.Zero(f.Type()))
	}
	return v.Interface().(InputEvent)
}

func TestInputThroughSession(t *testing.T) {
	root := t.TempDir()
	sys, dev := filepath.Join(root, "sys"), filepath.Join(root, "dev")
	os.MkdirAll(sys, 0o755)
	os.MkdirAll(dev, 0o755)
	fakeDevice(t, sys, dev, "event0", "Keyboard", map[string]string{"ev": "120013",
		"key": "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe"})
	fakeDevice(t, sys, dev, "event1", "Mouse", map[string]string{"ev": "17", "key": "70000 0 0 0 0", "rel": "103"})
	fakeDevice(t, sys, dev, "event2", "Power Button", map[string]string{"ev": "3", "key": "10000000000000 0"})

	s, _ := OpenDirect(Options{})
	defer s.Close()
	in, err := NewInputWith(s, InputOptions{DevDir: dev, SysClassDir: sys, NoHotplug: true})
	if err != nil {
		t.Fatal(err)
	}
	kbdCaps := DeviceCaps{Keyboard: true}
	mouseCaps := DeviceCaps{Pointer: true}
	expectInput(t, in,
		DeviceAdded{Name: "Keyboard", Caps: kbdCaps},
		DeviceAdded{Name: "Mouse", Caps: mouseCaps})
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
	expectInput(t, in,
		Key{Code: 42, Pressed: true},
		Key{Code: evdev.KeyA, Pressed: true},
		Key{Code: evdev.KeyA, Pressed: false})

	writeEvents(t, mouse,
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelX, Value: 5},
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelY, Value: -3},
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelX, Value: 1},
		evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvKey, Code: evdev.BtnLeft, Value: 1},
		evdev.Event{Type: evdev.EvSyn},
		evdev.Event{Type: evdev.EvRel, Code: evdev.RelWheel, Value: -1},
		evdev.Event{Type: evdev.EvSyn})
	expectInput(t, in,
		PointerMotion{DX: 6, DY: -3}, Frame{},
		Button{Code: evdev.BtnLeft, Pressed: true}, Frame{},
		Axis{Orientation: AxisVertical, Value: 15, Discrete: 1, Value120: 120}, Frame{})

	// A pause releases what is held (shift, the left button) and drops
	// the devices; resume brings them back.
	in.HandleSessionEvent(Event{Kind: Paused})
	seen := map[string]bool{}
	for range 5 {
		switch e := stripHeader(nextInput(t, in)).(type) {
		case Key:
			seen["shift-up"] = e == Key{Code: 42}
		case Button:
			seen["btn-up"] = e == Button{Code: evdev.BtnLeft}
		case Frame:
			seen["frame"] = true
		case DeviceRemoved:
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
	in.HandleSessionEvent(Event{Kind: Resumed})
	expectInput(t, in,
		DeviceAdded{Name: "Keyboard", Caps: kbdCaps},
		DeviceAdded{Name: "Mouse", Caps: mouseCaps},
		DevicesRescanned{})

	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	for e := range in.Events() {
		if r, ok := e.(DeviceRemoved); !ok || r.Paused {
			t.Fatalf("unexpected %#v after Close", e)
		}
	}
}

func feedAll(tr *translator, evs ...evdev.Event) []InputEvent {
	var out []InputEvent
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
	want := []InputEvent{
		TouchDown{ID: 0, Slot: 0, X: 0.25, Y: 0.5}, TouchFrame{},
		TouchMotion{ID: 0, Slot: 0, X: 0.3, Y: 0.5}, TouchDown{ID: 1, Slot: 1, X: 1, Y: 0}, TouchFrame{},
		TouchUp{ID: 0, Slot: 0}, TouchFrame{},
		TouchUp{ID: 1, Slot: 1}, TouchFrame{},
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
	want := []InputEvent{PointerAbs{X: 1, Y: 0}, Button{Code: evdev.BtnLeft, Pressed: true}, Frame{}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	rel := tr.releaseAll(Header{})
	if len(rel) != 2 || rel[0] != (Button{Code: evdev.BtnLeft}) {
		t.Fatalf("releaseAll: %#v", rel)
	}
}

func TestPanelToLogical(t *testing.T) {
	// With the logical image turned 90° clockwise onto the panel, the
	// panel's top-right corner shows the logical top-left.
	cases := []struct {
		rot          int
		px, py       float64
		wantX, wantY float64
	}{
		{0, 0.25, 0.75, 0.25, 0.75},
		{90, 1, 0, 0, 0},
		{90, 1, 1, 1, 0},
		{180, 0, 0, 1, 1},
		{270, 0, 1, 0, 0},
		{-90, 0, 1, 0, 0},
	}
	for _, c := range cases {
		x, y := PanelToLogical(c.px, c.py, c.rot)
		if x != c.wantX || y != c.wantY {
			t.Errorf("rot %d (%v,%v) -> (%v,%v), want (%v,%v)", c.rot, c.px, c.py, x, y, c.wantX, c.wantY)
		}
	}
}
