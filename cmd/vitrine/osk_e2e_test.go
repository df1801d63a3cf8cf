package main

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// needGTK skips (or, in CI, fails) when GTK 4 for Python is missing.
func needGTK(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import gi; gi.require_version('Gtk', '4.0'); from gi.repository import Gtk").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("GTK 4 for Python is not installed (CI must install python3-gi gir1.2-gtk-4.0: see .ci/install): %s", out)
		}
		t.Skipf("GTK 4 for Python is not installed (apt-get install python3-gi gir1.2-gtk-4.0): %s", out)
	}
	script, err := filepath.Abs("testdata/gtk-entry.py")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GSK_RENDERER", "cairo")
	t.Setenv("GTK_IM_MODULE", "wayland")
	return script
}

// A GTK 4 text field with the keyboard focus enables its text input;
// an input method (a raw client here, as an on-screen keyboard or IME
// is) is activated for it, and the text it commits appears in the
// field: GTK prints it.
func TestGTKTextFieldTypedByInputMethod(t *testing.T) {
	script := needGTK(t)
	c := startVitrine(t, "--output", "640x480", "--privileged-clients", "all", "--", "/usr/bin/python3", script)
	im, err := protocoltest.Dial(c.socketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	g, reg, err := im.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seat := bind(im, g, reg, "wl_seat", 5)
	mgr := bind(im, g, reg, "zwp_input_method_manager_v2", 1)
	id := im.NewID()
	if err := im.Send(mgr, 0, seat, id); err != nil {
		t.Fatal(err)
	}
	c.stdout.wait(t, `^entry focused$`, 20*time.Second)
	// activate, the field's state, done: the input method may type.
	dones, activated := uint32(0), false
	deadline := time.Now().Add(10 * time.Second)
	for !activated || dones == 0 {
		e, err := im.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for the input method to be activated by GTK's text field: %v\nvitrine log:\n%s", err, c.log())
		}
		switch {
		case e.Object == 1 && e.Opcode == 0:
			t.Fatalf("protocol error: %s", e.String(2))
		case e.Object == id && e.Opcode == 0:
			activated = true
		case e.Object == id && e.Opcode == 5:
			dones++
		case e.Object == id && e.Opcode == 6:
			t.Fatal("input method unavailable")
		}
	}
	if err := im.Send(id, 0, "vitrine"); err != nil { // commit_string
		t.Fatal(err)
	}
	if err := im.Send(id, 3, dones); err != nil { // commit
		t.Fatal(err)
	}
	c.stdout.wait(t, `^text: vitrine$`, 10*time.Second)
}

// oskHeight is the on-screen keyboard's height in the tests, on a
// 640x480 output; wvkbd-mobintl lays its six rows out 40 px each.
const oskHeight = 240

// checkAboveKeyboard judges a grim screenshot: the GTK window's red
// background fills every row above the keyboard (below the text field
// at its top), and no row of the keyboard's strip is the window's red.
func checkAboveKeyboard(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	top := b.Dy() - oskHeight
	red := [3]uint8{0xff, 0, 0}
	for y := 60; y < top; y++ {
		for _, x := range []int{0, b.Dx() / 2, b.Dx() - 1} {
			if got := rgb(img.At(x, y)); got != red {
				t.Fatalf("(%d,%d) = %v, want the window's red above the keyboard (rows 60..%d)", x, y, got, top-1)
			}
		}
	}
	redRows := 0
	for y := top; y < b.Dy(); y++ {
		if rgb(img.At(b.Dx()-1, y)) == red && rgb(img.At(0, y)) == red {
			redRows++
		}
	}
	if redRows > 0 {
		t.Fatalf("%d rows of the keyboard's strip (%d..%d) show the window's red: the window is under the keyboard", redRows, top, b.Dy()-1)
	}
}

// wvkbd-mobintl shows at the bottom of the screen and the kiosk window
// is configured to the height left above it: GTK reports its size and
// grim shows the window above the keyboard.
func TestWvkbdAtBottomAppAbove(t *testing.T) {
	need(t, "wvkbd-mobintl", "grim")
	script := needGTK(t)
	c := startVitrine(t, "--output", "640x480", "--privileged-clients", "all", "--", "/usr/bin/python3", script)
	c.stdout.wait(t, `^window 640x480$`, 20*time.Second)
	c.client("wvkbd-mobintl", "-H", fmt.Sprint(oskHeight))
	c.stdout.wait(t, fmt.Sprintf(`^window 640x%d$`, 480-oskHeight), 10*time.Second)
	time.Sleep(300 * time.Millisecond) // GTK's frame at the new size
	checkAboveKeyboard(t, c.screenshot())
}

// With --osk, wvkbd starts hidden and shows once the GTK text field has
// the keyboard focus (its text input enabled); a tap on its "q" key,
// through a virtual pointer as a touch screen's tap goes, types q into
// the field.
func TestOSKShowsForTextFieldAndTypes(t *testing.T) {
	need(t, "wvkbd-mobintl", "grim")
	script := needGTK(t)
	// Privileged: grim, this test's own virtual pointer (the test binary),
	// and wvkbd only because it is the --osk keyboard.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := startVitrine(t, "--output", "640x480", "--privileged-clients", filepath.Base(exe)+",grim", "--osk", fmt.Sprintf("wvkbd-mobintl --hidden -H %d", oskHeight), "--", "/usr/bin/python3", script)
	c.stdout.wait(t, `^entry focused$`, 20*time.Second)
	c.stdout.wait(t, fmt.Sprintf(`^window 640x%d$`, 480-oskHeight), 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	checkAboveKeyboard(t, c.screenshot())

	vp, err := protocoltest.Dial(c.socketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer vp.Close()
	g, reg, err := vp.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seat := bind(vp, g, reg, "wl_seat", 5)
	mgr := bind(vp, g, reg, "zwlr_virtual_pointer_manager_v1", 1)
	ptr := vp.NewID()
	vp.Send(mgr, 0, seat, ptr)
	if err := vp.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The new device gives the seat the pointer capability: let wvkbd
	// bind its wl_pointer before the tap.
	time.Sleep(300 * time.Millisecond)
	// "q": the third row from the keyboard's top, the second key.
	x, y := uint32(62), uint32(480-oskHeight+100)
	const btnLeft = 0x110
	vp.Send(ptr, 1, uint32(0), x, y, uint32(640), uint32(480)) // motion_absolute
	vp.Send(ptr, 4)                                            // frame
	vp.Send(ptr, 2, uint32(10), uint32(btnLeft), uint32(1))    // button pressed
	vp.Send(ptr, 4)
	vp.Send(ptr, 2, uint32(60), uint32(btnLeft), uint32(0)) // released
	vp.Send(ptr, 4)
	if err := vp.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	c.stdout.wait(t, `^text: q$`, 10*time.Second)

	// Another window on top (weston-simple-shm, 250x250 in the middle)
	// takes the keyboard from the field: the keyboard hides (SIGUSR1),
	// and the GTK window under the new one fills the output again, its
	// red down to the bottom row.
	need(t, "weston-simple-shm")
	c.client("weston-simple-shm")
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := c.screenshot()
		if red := [3]uint8{0xff, 0, 0}; rgb(img.At(5, 475)) == red && rgb(img.At(635, 250)) == red {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the keyboard is still shown after the text field lost the keyboard focus: (5,475)=%v (635,250)=%v", rgb(img.At(5, 475)), rgb(img.At(635, 250)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
