package lab

import (
	"fmt"
	"image"
	"strings"
	"testing"
)

// TestPanelToSurfaceMatchesScene restates scene's worked example
// (scene/input_test.go TestInputFollowsOutputRotation): on a 640x480
// panel at rotate 90, panel point (0.75, 0.25) is logical (360, 480).
func TestPanelToSurfaceMatchesScene(t *testing.T) {
	panel := image.Pt(640, 480)
	for _, tc := range []struct {
		rot    int
		nx, ny float64
		want   [2]float64
	}{
		{0, 0.75, 0.25, [2]float64{480, 120}},
		{90, 0.75, 0.25, [2]float64{360, 480}},
		// The panel's top-left corner shows the logical top-right one.
		{90, 0, 0, [2]float64{480, 0}},
		{180, 0.75, 0.25, [2]float64{160, 360}},
		{270, 0.75, 0.25, [2]float64{120, 160}},
	} {
		if got := panelToSurface(tc.rot, panel, tc.nx, tc.ny); got != tc.want {
			t.Errorf("rotate %d: panel (%.2f, %.2f) -> %v, want %v", tc.rot, tc.nx, tc.ny, got, tc.want)
		}
	}
}

// touchEcho is what input-echo prints for frames when vitrine maps the
// touchscreen through rotation mapRot, handing out ids 0, 1, 2... in the
// order fingers touch down.
func touchEcho(tag string, mapRot int, panel image.Point, frames [][]touchAction) string {
	var b strings.Builder
	ids := map[int]int{}
	next := 0
	for _, f := range frames {
		for _, a := range f {
			p := touchSurfacePoint(mapRot, panel, a.x, a.y)
			switch a.op {
			case "down":
				ids[a.finger] = next
				next++
				fmt.Fprintf(&b, "%s| touch-down id=%d x=%.2f y=%.2f\n", tag, ids[a.finger], p[0], p[1])
			case "move":
				fmt.Fprintf(&b, "%s| touch-motion id=%d x=%.2f y=%.2f\n", tag, ids[a.finger], p[0], p[1])
			case "up":
				fmt.Fprintf(&b, "%s| touch-up id=%d\n", tag, ids[a.finger])
			}
		}
		fmt.Fprintf(&b, "%s| touch-frame\n", tag)
	}
	return b.String()
}

// touchAdded is vitrine's JSON record of opening the lab touchscreen,
// tagged for a phase.
func touchAdded(tag string) string {
	return tag + `| {"time":"x","level":"INFO","msg":"input: device added","path":"/dev/input/event4","name":"vitrine-lab touchscreen","caps":"touch","event":"input.added"}` + "\n"
}

func touchRunOutput(rot90 string) string {
	panel := image.Pt(1280, 800)
	return "panel=1280x800\nrot0-touch-exit=0\nrot0| first-frame 1280x800\nrot0| capabilities pointer=true keyboard=true touch=true\n" + touchAdded("rot0") +
		touchEcho("rot0", 0, panel, touchFrames) +
		"rot90-touch-exit=0\nrot90| first-frame 800x1280\n" + touchAdded("rot90") + rot90 +
		"rot270-touch-exit=0\nrot270| first-frame 800x1280\n" + touchAdded("rot270") + touchEcho("rot270", 270, panel, touchFrames)
}

func TestTouchCheck(t *testing.T) {
	panel := image.Pt(1280, 800)
	good := touchEcho("rot90", 90, panel, touchFrames)
	if err := touchCheck(nil, &Result{Output: []byte(touchRunOutput(good))}, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	if err := touchCheck(nil, &Result{Output: []byte(strings.ReplaceAll(touchRunOutput(good), `"msg":"input: device added"`, `"msg":"new input device"`))}, nil); err != nil {
		t.Fatalf("a good run with vitrine's message reworded failed: %v", err)
	}
	// The exact numbers of the first touch: 1024/4095 of 1280 is 320.08,
	// 3072/4095 of 800 is 600.15; turned back clockwise at rotate 90.
	if !strings.Contains(good, "rot90| touch-down id=0 x=199.85 y=320.08\n") {
		t.Errorf("expected numbers changed:\n%s", good)
	}

	lines := strings.SplitAfter(good, "\n")
	without := func(i int) string { return strings.Join(append(append([]string{}, lines[:i]...), lines[i+1:]...), "") }
	bad := []struct {
		name, out, want string
	}{
		{"turned the wrong way", touchRunOutput(touchEcho("rot90", 270, panel, touchFrames)), "rotate 90: frame 1: no line for down 0"},
		{"not turned", touchRunOutput(touchEcho("rot90", 0, panel, touchFrames)), "rotate 90: frame 1"},
		{"touch-down lost", touchRunOutput(without(0)), "frame 1: got"},
		{"frame lost", touchRunOutput(without(2)), "printed 5 touch frames, want 6"},
		{"motion of the finger that stood still", touchRunOutput(strings.Replace(good, "rot90| touch-motion id=0 x=199.85 y=480.12\n",
			"rot90| touch-motion id=0 x=199.85 y=480.12\nrot90| touch-motion id=1 x=699.98 y=960.23\n", 1)), "frame 2: got"},
		{"Y forgotten when only X moved", touchRunOutput(strings.Replace(good, "x=199.85 y=480.12", "x=800.00 y=480.12", 1)), "frame 2: no line for move 0"},
		{"ids swapped", touchRunOutput(strings.Replace(good, "touch-motion id=0 x=199.85", "touch-motion id=1 x=199.85", 1)), "frame 2: no line for move 0 (id 0"},
		{"up of the wrong id", touchRunOutput(strings.Replace(good, "rot90| touch-up id=0\n", "rot90| touch-up id=1\n", 1)), "frame 4: no line for up 0"},
		{"one id for two points", touchRunOutput(strings.Replace(good, "touch-down id=2 ", "touch-down id=1 ", 1)), "frame 5: no line for down 2"},
		{"events after the last frame", touchRunOutput(good + "rot90| touch-down id=3 x=1.00 y=1.00\n"), "after the last touch-frame"},
		{"surface not the panel turned", strings.Replace(touchRunOutput(good), "rot90| first-frame 800x1280", "rot90| first-frame 1280x800", 1), "surface is 1280x800, want 800x1280"},
		{"270 turned like 90", strings.Replace(touchRunOutput(good), touchEcho("rot270", 270, panel, touchFrames), touchEcho("rot270", 90, panel, touchFrames), 1), "rotate 270: frame 1"},
		{"helper failed", strings.Replace(touchRunOutput(good), "rot0-touch-exit=0", "rot0-touch-exit=1\nrot0-touch| lab-touch: open /dev/uinput: permission denied", 1), "rotate 0: lab-touch did not exit 0: lab-touch: open /dev/uinput"},
		{"no panel size", strings.Replace(touchRunOutput(good), "panel=1280x800\n", "", 1), "no panel=WxH"},
		{"no touches at all", touchRunOutput(""), "printed 0 touch frames"},
		// vitrine's JSON log.
		{"touchscreen not added", strings.Replace(touchRunOutput(good), `"name":"vitrine-lab touchscreen","caps":"touch","event":"input.added"}
rot90|`, `"name":"vitrine-lab touchscreen","caps":"touch","event":"input.removed"}
rot90|`, 1), "rotate 90: no input.added event for \"vitrine-lab touchscreen\""},
		{"touchscreen added without touch", strings.Replace(touchRunOutput(good), `"caps":"touch"`, `"caps":"tablet"`, 1), "rotate 0: no input.added event"},
		{"another device added", strings.Replace(touchRunOutput(good), `"name":"vitrine-lab touchscreen"`, `"name":"QEMU Virtio Tablet"`, 1), "rotate 0: no input.added event"},
		{"an error", touchRunOutput(good) + `rot270| {"time":"x","level":"ERROR","msg":"read input","err":"EIO"}` + "\n", "rotate 270: vitrine logged"},
	}
	for _, b := range bad {
		err := touchCheck(nil, &Result{Output: []byte(b.out)}, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
	if err := touchCheck(nil, &Result{Output: []byte(touchRunOutput(good)), ExitCode: 1}, nil); err == nil || !strings.Contains(err.Error(), "exited 1") {
		t.Errorf("guest exit 1: %v", err)
	}
}

func TestTouchScriptPlaysTouchFrames(t *testing.T) {
	steps, err := parseTouchScript(touchScript(touchFrames))
	if err != nil {
		t.Fatal(err)
	}
	var got [][]touchAction
	for _, s := range steps {
		if s.actions != nil {
			got = append(got, s.actions)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(touchFrames) {
		t.Errorf("script plays %v, want %v", got, touchFrames)
	}
	if steps[0].waitOpen != "vitrine" || !steps[1].waitUsr1 || !steps[len(steps)-1].hold {
		t.Errorf("script does not wait for vitrine and the signal, or does not hold: %+v", steps)
	}
}

// vtKeysOutput is what a good vitrine-vt-keys-logind run prints.
func vtKeysOutput() string {
	return `user=lab
uinput=input 660
panel=1280x800
before=tty1
keys-touch-exit=0
keys-touch| touchscreen /dev/input/event4 "vitrine-lab touchscreen" 0..4095
keys| {"time":"x","level":"DEBUG","msg":"logind: took device","path":"/dev/input/event1","major":13,"minor":65,"event":"logind.took_device"}
keys| first-frame 1280x800
keys| keyboard-enter keys=
keys| touch-down id=0 x=640.16 y=200.05
keys| touch-frame
keys| touch-up id=0
keys| touch-frame
keys| key code=29 state=pressed
keys| key code=56 state=pressed
keys| {"time":"x","level":"INFO","msg":"logind: session active changed","active":false,"event":"logind.active"}
keys| {"time":"x","level":"INFO","msg":"session","active":false,"event":"session.active"}
after-ctrl-alt-f2=tty2
after-ctrl-alt-f1=tty1
keys| key code=30 state=pressed
keys| key code=30 state=released
novt| keyboard-enter keys=
novt| key code=29 state=pressed
novt| key code=56 state=pressed
novt| key code=60 state=pressed
novt| key code=60 state=released
novt| key code=56 state=released
novt| key code=29 state=released
novt-active=tty1
`
}

func TestVTKeysCheck(t *testing.T) {
	good := vtKeysOutput()
	if err := vtKeysCheck(nil, &Result{Output: []byte(good)}, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	for _, b := range []struct{ name, out, want string }{
		{"no switch (polkit said no)", strings.Replace(good, "after-ctrl-alt-f2=tty2", "after-ctrl-alt-f2=tty1", 1) +
			`keys| {"time":"x","level":"WARN","msg":"switch VT","vt":2,"err":"switch to VT 2: Access denied","event":"vt.switch_failed"}` + "\n", "did not make tty2 the active VT"},
		{"switch refused is reported", good + `keys| {"time":"x","level":"WARN","msg":"switch VT","vt":2,"err":"Access denied","event":"vt.switch_failed"}` + "\n", "vt.switch_failed"},
		{"not back", strings.Replace(good, "after-ctrl-alt-f1=tty1", "after-ctrl-alt-f1=tty2", 1), "did not bring VT 1 back"},
		{"no key after resume", strings.Replace(good, "keys| key code=30 state=released\n", "", 1), "no key reached the client after coming back"},
		{"F2 leaked to the client", strings.Replace(good, "keys| key code=30 state=pressed", "keys| key code=60 state=pressed\nkeys| key code=30 state=pressed", 1), "F2 reached the client although"},
		{"--no-vt-switch ignored", strings.Replace(strings.Replace(good, "novt| key code=60 state=pressed\n", "", 1), "novt-active=tty1", "novt-active=tty2", 1), "F2 did not reach the client"},
		{"--no-vt-switch still paused", good + `novt| {"time":"x","level":"INFO","msg":"session","active":false,"event":"session.active"}` + "\n", "the session was paused"},
		{"uinput not for the input group", strings.Replace(good, "uinput=input 660", "uinput=root 600", 1), "/dev/uinput is not group input"},
		{"devices opened directly", strings.Replace(good, `"path":"/dev/input/event1"`, `"path":"/dev/dri/card0"`, 1), "did not take the input devices from logind"},
		{"tap lost", strings.Replace(good, "keys| touch-down id=0 x=640.16 y=200.05\nkeys| touch-frame\n", "", 1), "touch as the session user"},
		{"tap misplaced", strings.Replace(good, "x=640.16 y=200.05", "x=200.05 y=640.16", 1), "touch as the session user: frame 1"},
		{"an error", good + `keys| {"time":"x","level":"ERROR","msg":"resume failed"}` + "\n", "resume failed"},
		{"logind never paused", strings.Replace(good, `"event":"logind.active"`, `"event":"x"`, 1), "logind did not pause the session"},
	} {
		err := vtKeysCheck(nil, &Result{Output: []byte(b.out)}, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}
