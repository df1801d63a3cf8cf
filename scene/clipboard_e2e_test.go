package scene_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// needTool skips without a client on a developer machine and fails in
// CI, which installs them all.
func needTool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s %v fails (CI must install it: see .ci/install): %v\n%s", name, args, err, out)
	}
	t.Skipf("%s %v fails (install it: see .ci/install): %v\n%s", name, args, err, out)
}

// TestGtkCopyPastesInFoot copies in a GTK 4 window and pastes with
// Ctrl+Shift+V in foot, given as key presses on the compositor's seat:
// foot types the clipboard into its shell, which runs it.
func TestGtkCopyPastesInFoot(t *testing.T) {
	needTool(t, "foot", "--version")
	needTool(t, "/usr/bin/python3", "-c", "import gi; gi.require_version('Gtk', '4.0'); from gi.repository import Gtk")
	p := startInProcess(t, 640, 480, render.Normal)
	p.input(inputevent.DeviceAdded{Header: inputevent.Header{Device: "kbd"}, Caps: inputevent.DeviceCaps{Keyboard: true}})
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+p.runtime, "WAYLAND_DISPLAY="+p.display, "GSK_RENDERER=cairo")

	gtk := exec.Command("/usr/bin/python3", "../cmd/vitrine/testdata/gtk-clipboard.py", "A")
	gtk.Env = env
	stdin, err := gtk.StdinPipe()
	must(t, err)
	out := &echo{}
	lw := newLineWriter(out)
	gtk.Stdout, gtk.Stderr = lw, lw
	must(t, gtk.Start())
	t.Cleanup(func() { stdin.Close(); gtk.Process.Kill(); gtk.Wait() })
	out.waitFor(t, "ready A")
	file := filepath.Join(t.TempDir(), "pasted")
	fmt.Fprintf(stdin, "copy echo pasted-from-gtk > %s\n", file)
	out.waitFor(t, "copied echo pasted-from-gtk > "+file)

	// foot maps on top and takes keyboard focus, and with it the
	// selection.
	foot := exec.Command("foot", "sh")
	foot.Env = env
	must(t, foot.Start())
	t.Cleanup(func() { foot.Process.Kill(); foot.Wait() })
	const keyLeftCtrl, keyLeftShift, keyV, keyEnter = 29, 42, 47, 28
	deadline := time.Now().Add(15 * time.Second)
	for {
		// Until foot has mapped, the keys go to the GTK window, which
		// ignores them; once foot has focus one round pastes.
		p.input(
			inputevent.Key{Code: keyLeftCtrl, Pressed: true}, inputevent.Key{Code: keyLeftShift, Pressed: true},
			inputevent.Key{Code: keyV, Pressed: true}, inputevent.Key{Code: keyV, Pressed: false},
			inputevent.Key{Code: keyLeftShift, Pressed: false}, inputevent.Key{Code: keyLeftCtrl, Pressed: false},
			inputevent.Key{Code: keyEnter, Pressed: true}, inputevent.Key{Code: keyEnter, Pressed: false},
		)
		time.Sleep(200 * time.Millisecond)
		if b, err := os.ReadFile(file); err == nil && string(b) == "pasted-from-gtk\n" {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(file)
			t.Fatalf("foot's shell never ran the command copied in GTK: %s holds %q", file, b)
		}
	}
}

// lineWriter feeds a process's output to an echo, line by line.
type lineWriter struct {
	e       *echo
	partial *string
}

func newLineWriter(e *echo) lineWriter { return lineWriter{e, new(string)} }

func (w lineWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	lines := strings.Split(*w.partial+string(p), "\n")
	*w.partial = lines[len(lines)-1]
	w.e.lines = append(w.e.lines, lines[:len(lines)-1]...)
	return len(p), nil
}
