package main

import (
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
	c := startVitrine(t, "--output", "640x480", "--", "/usr/bin/python3", script)
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
