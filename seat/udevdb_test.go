package seat

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/seat/evdev"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// installUdevData copies a fixture from testdata/udev into dir under the
// name udevd gives the database file of character device number. The
// fixtures carry plain names: a ':' has no place in a module's files.
func installUdevData(t *testing.T, dir, number, fixture string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "udev", fixture))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c"+number), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadUdevProperties(t *testing.T) {
	dir := t.TempDir()
	installUdevData(t, dir, "13:65", "touchscreen")
	installUdevData(t, dir, "13:66", "badmatrix")

	got, err := readUdevProperties(dir, "13:65")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"WL_OUTPUT":                   "HDMI-A-2",
		"LIBINPUT_CALIBRATION_MATRIX": "0 -1 1 1 0 0",
		"ID_INPUT_TOUCHSCREEN":        "1",
		"LIBINPUT_DEVICE_GROUP":       "3/222a/1:usb-0000:01:00.0-1.3",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	// S:, L:, I:, G:, Q: and V: records are not properties.
	if len(got) != 7 {
		t.Errorf("got %d properties, want the 7 E: lines: %v", len(got), got)
	}

	got, err = readUdevProperties(dir, "13:66")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ID_INPUT": "1", "ID_INPUT_TABLET": "1", "LIBINPUT_CALIBRATION_MATRIX": "1 0 0 0 1",
		"EMPTY_VALUE": "", "VALUE_WITH_EQUALS": "a=b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	// No udevd (a container, a bare initramfs): no file, no properties,
	// no error.
	if got, err := readUdevProperties(dir, "13:67"); err != nil || len(got) != 0 {
		t.Errorf("missing database file: %v, %v", got, err)
	}
	if got, err := readUdevProperties(dir, ""); err != nil || len(got) != 0 {
		t.Errorf("no device number: %v, %v", got, err)
	}
	if _, err := readUdevProperties(dir, "../../etc/passwd"); err == nil {
		t.Error("a device number with a slash was read")
	}
	// A database directory that cannot be read is an error, not silence.
	if _, err := readUdevProperties(filepath.Join(dir, "c13:65"), "13:65"); err == nil {
		t.Error("reading under a file gave no error")
	}
}

func TestParseInputMapping(t *testing.T) {
	for in, want := range map[string]InputMapping{
		"ILITEK ILITEK-TP=HDMI-A-2": {"ILITEK ILITEK-TP", "HDMI-A-2"},
		"/dev/input/event3=DSI-1":   {"/dev/input/event3", "DSI-1"},
		"odd=name=HDMI-A-1":         {"odd=name", "HDMI-A-1"},
	} {
		got, err := ParseInputMapping(in)
		if err != nil || got != want {
			t.Errorf("ParseInputMapping(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "touch", "=HDMI-A-1", "touch="} {
		if _, err := ParseInputMapping(bad); err == nil || !strings.Contains(err.Error(), "DEVICE=OUTPUT") {
			t.Errorf("ParseInputMapping(%q): %v", bad, err)
		}
	}
}

// touchSysfs is a multi-touch screen's sysfs capabilities: EV_SYN,
// EV_KEY, EV_ABS; BTN_TOUCH; ABS_X, ABS_Y, ABS_MT_SLOT,
// ABS_MT_POSITION_X/Y, ABS_MT_TRACKING_ID.
func touchSysfs() map[string]string {
	return map[string]string{"ev": "b", "key": "400 0 0 0 0 0", "abs": "260800000000003"}
}

// TestInputMapsTouchscreens: the output comes from udev's WL_OUTPUT
// unless --map-input names the device (by name or node), and udev's
// calibration matrix is applied to every position; a device with a
// malformed matrix is used uncalibrated.
func TestInputMapsTouchscreens(t *testing.T) {
	sys, dev := fakeDirs(t)
	udev := t.TempDir()
	for i, name := range []string{"Touch A", "Touch B", "Touch C"} {
		node := "event" + string(rune('0'+i))
		fakeDevice(t, sys, dev, node, name, touchSysfs())
		number := "13:" + string(rune('4'+i)) + "0"
		if err := os.WriteFile(filepath.Join(sys, node, "dev"), []byte(number+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fixture := "touchscreen"
		if i == 2 {
			fixture = "badmatrix"
		}
		installUdevData(t, udev, number, fixture)
	}
	s, _ := OpenDirect(Options{DirectKeepConsole: true})
	defer s.Close()
	rec := &inputRecorder{loop: newTestLoop(t)}
	var logs strings.Builder
	in, err := NewInput(s, rec.loop, rec.handle, InputOptions{DevDir: dev, SysClassDir: sys, NoHotplug: true, UdevDataDir: udev,
		Log:      testLogger(&logs),
		MapInput: []InputMapping{{Device: filepath.Join(dev, "event1"), Output: "DSI-1"}, {Device: "Touch C", Output: "HDMI-A-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	caps := inputevent.DeviceCaps{Touch: true}
	rec.expect(inputevent.DeviceAdded{Name: "Touch A", Caps: caps}, inputevent.DeviceAdded{Name: "Touch B", Caps: caps},
		inputevent.DeviceAdded{Name: "Touch C", Caps: caps})

	// A FIFO has no axis ranges (EVIOCGABS fails), so every position
	// normalizes to 0,0; the fixture's matrix (90 degrees clockwise)
	// takes that to 1,0.
	abs := func(code uint16, v int32) evdev.Event { return evdev.Event{Type: evdev.EvAbs, Code: code, Value: v} }
	for i, want := range []inputevent.TouchDown{
		{Output: "HDMI-A-2", X: 1, Y: 0}, // udev's WL_OUTPUT and matrix
		{Output: "DSI-1", X: 1, Y: 0},    // the flag, by node, wins over udev
		{Output: "HDMI-A-1", X: 0, Y: 0}, // the flag, by name; the malformed matrix ignored
	} {
		writeEvents(t, filepath.Join(dev, "event"+string(rune('0'+i))),
			abs(evdev.AbsMTSlot, 0), abs(evdev.AbsMTTrackingID, 1), abs(evdev.AbsMTPositionX, 10), abs(evdev.AbsMTPositionY, 20),
			evdev.Event{Type: evdev.EvSyn})
		got := stripHeader(rec.next())
		want.ID = int32(i)
		if got != want {
			t.Errorf("device %d: got %#v, want %#v", i, got, want)
		}
		rec.expect(inputevent.TouchFrame{})
	}
	log := logs.String()
	for _, want := range []string{
		`"event":"input.mapped"`, `"output":"HDMI-A-2","source":"udev","calibration":"0 -1 1 1 0 0"`,
		`"output":"DSI-1","source":"flag"`, `"output":"HDMI-A-1","source":"flag","calibration":"1 0 0 0 1 0"`,
		`ignoring LIBINPUT_CALIBRATION_MATRIX`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if n := strings.Count(log, `"event":"input.mapped"`); n != 3 {
		t.Errorf("%d input.mapped events, want one per device", n)
	}
}

// TestTranslateCalibratedTouch: the matrix is applied to the normalized
// position of every down and motion, and to a tablet's position.
func TestTranslateCalibratedTouch(t *testing.T) {
	caps := evdev.Caps{Ev: bitmap(evdev.EvAbs, evdev.EvKey), Key: bitmap(evdev.BtnTouch),
		Abs: bitmap(evdev.AbsMTSlot, evdev.AbsMTPositionX, evdev.AbsMTPositionY, evdev.AbsMTTrackingID)}
	rng := evdev.AbsInfo{Minimum: 0, Maximum: 1000}
	var ids touchIDs
	tr := newTranslator("t", caps, &ids, evdev.AbsInfo{}, evdev.AbsInfo{}, rng, rng, 2, 0)
	// A panel whose sensor is mirrored left-right and only uses the
	// middle half of its height: x' = 1-x, y' = 2y-0.5.
	tr.calibration = inputevent.Calibration{-1, 0, 1, 0, 2, -0.5}
	tr.output = "DSI-1"
	abs := func(code uint16, v int32) evdev.Event { return evdev.Event{Type: evdev.EvAbs, Code: code, Value: v} }
	syn := evdev.Event{Type: evdev.EvSyn}
	got := feedAll(tr,
		abs(evdev.AbsMTTrackingID, 1), abs(evdev.AbsMTPositionX, 250), abs(evdev.AbsMTPositionY, 500), syn,
		abs(evdev.AbsMTPositionY, 375), syn,
		abs(evdev.AbsMTPositionY, 900), syn) // off the active area: clamped
	want := []inputevent.Event{
		inputevent.TouchDown{ID: 0, X: 0.75, Y: 0.5, Output: "DSI-1"}, inputevent.TouchFrame{},
		inputevent.TouchMotion{ID: 0, X: 0.75, Y: 0.25, Output: "DSI-1"}, inputevent.TouchFrame{},
		inputevent.TouchMotion{ID: 0, X: 0.75, Y: 1, Output: "DSI-1"}, inputevent.TouchFrame{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%#v\nwant\n%#v", got, want)
	}

	tabCaps := evdev.Caps{Ev: bitmap(evdev.EvAbs, evdev.EvKey), Key: bitmap(evdev.BtnLeft), Abs: bitmap(evdev.AbsX, evdev.AbsY)}
	tab := newTranslator("tab", tabCaps, &ids, rng, rng, evdev.AbsInfo{}, evdev.AbsInfo{}, 1, 0)
	tab.calibration = inputevent.Calibration{0, 1, 0, -1, 0, 1} // 90 degrees counter-clockwise
	tab.output = "HDMI-A-2"
	got = feedAll(tab, abs(evdev.AbsX, 200), abs(evdev.AbsY, 100), syn)
	want = []inputevent.Event{inputevent.PointerAbs{X: 0.1, Y: 0.8, Output: "HDMI-A-2"}, inputevent.Frame{}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tablet: got %#v, want %#v", got, want)
	}
}

// testLogger writes JSON lines, as --log-format json does, into b.
func testLogger(b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestInputWaitsForUdevOnHotplug: a touchscreen announced by the
// kernel's uevent is opened once udevd has recorded it (its WL_OUTPUT
// is in the database), not before; without udevd nothing waits.
func TestInputWaitsForUdevOnHotplug(t *testing.T) {
	sys, dev := fakeDirs(t)
	udev := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(udev, 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := OpenDirect(Options{DirectKeepConsole: true})
	defer s.Close()
	rec := &inputRecorder{loop: newTestLoop(t)}
	in, err := NewInput(s, rec.loop, rec.handle, InputOptions{DevDir: dev, SysClassDir: sys, NoHotplug: true, UdevDataDir: udev})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	fakeDevice(t, sys, dev, "event3", "Touch", touchSysfs())
	os.WriteFile(filepath.Join(sys, "event3", "dev"), []byte("13:67\n"), 0o644)
	in.hotplug("add", "event3")
	if len(in.retries) != 1 || len(rec.got) != 0 {
		t.Fatalf("before udev recorded the device: %d retries pending, %d events; want 1 and none", len(in.retries), len(rec.got))
	}
	installUdevData(t, udev, "13:67", "touchscreen")
	rec.expect(inputevent.DeviceAdded{Name: "Touch", Caps: inputevent.DeviceCaps{Touch: true}})
	if got := in.devices[filepath.Join(dev, "event3")].tr.output; got != "HDMI-A-2" {
		t.Fatalf("mapped to %q, want udev's HDMI-A-2", got)
	}

	// No udevd: opened at once, on the first output.
	in.udevDir = filepath.Join(t.TempDir(), "none")
	fakeDevice(t, sys, dev, "event4", "Touch 2", touchSysfs())
	os.WriteFile(filepath.Join(sys, "event4", "dev"), []byte("13:68\n"), 0o644)
	in.hotplug("add", "event4")
	if len(in.retries) != 0 {
		t.Fatalf("waited for a udevd that does not run")
	}
	rec.expect(inputevent.DeviceAdded{Name: "Touch 2", Caps: inputevent.DeviceCaps{Touch: true}})
}
