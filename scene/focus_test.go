package scene_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
)

// lines is what input-echo printed so far.
func (e *echo) snapshot() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.lines...)
}

// stop ends input-echo: its connection closes and its surface goes.
func (e *echo) stop(t *testing.T) {
	t.Helper()
	e.cmd.Process.Kill()
	e.cmd.Wait()
}

// keyLines are the key events among lines.
func keyLines(lines []string) []string {
	var keys []string
	for _, l := range lines {
		if strings.HasPrefix(l, "key ") {
			keys = append(keys, l)
		}
	}
	return keys
}

// TestKeyboardOnlyToFocusedClient: two clients with keyboards; keys
// typed while one has focus reach only that one, the other sees a
// keyboard-leave and no key at all, and focus moving back changes who
// hears them.
func TestKeyboardOnlyToFocusedClient(t *testing.T) {
	p := startInProcess(t, 640, 480, render.Normal)
	p.input(inputevent.DeviceAdded{Header: inputevent.Header{Device: "kbd"}, Caps: inputevent.DeviceCaps{Keyboard: true}})
	const keyA, keyB, keyC = 30, 48, 46

	first := startEcho(t, p)
	first.waitFor(t, "keyboard-enter keys=")
	p.input(inputevent.Key{Code: keyA, Pressed: true}, inputevent.Key{Code: keyA, Pressed: false})
	first.waitFor(t, "key code=30 state=released")

	// The second toplevel maps on top and takes focus.
	second := startEcho(t, p)
	second.waitFor(t, "keyboard-enter keys=")
	first.waitFor(t, "keyboard-leave")
	p.input(inputevent.Key{Code: keyB, Pressed: true}, inputevent.Key{Code: keyB, Pressed: false})
	second.waitFor(t, "key code=48 state=released")

	// Focus returns to the first when the second goes.
	secondKeys := keyLines(second.snapshot())
	second.stop(t)
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(strings.Join(first.snapshot(), "\n"), "keyboard-enter") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("focus did not return to the first client:\n%s", strings.Join(first.snapshot(), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.input(inputevent.Key{Code: keyC, Pressed: true}, inputevent.Key{Code: keyC, Pressed: false})
	first.waitFor(t, "key code=46 state=released")

	want := []string{"key code=30 state=pressed", "key code=30 state=released", "key code=46 state=pressed", "key code=46 state=released"}
	if got := keyLines(first.snapshot()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the first client heard keys %q, want %q (none typed while the second had focus)", got, want)
	}
	wantSecond := []string{"key code=48 state=pressed", "key code=48 state=released"}
	if strings.Join(secondKeys, "|") != strings.Join(wantSecond, "|") {
		t.Errorf("the second client heard keys %q, want %q", secondKeys, wantSecond)
	}
}
