package lab

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// TestTabletSurfacePointTurnsBack checks the expected input numbers
// against the forward direction of the convention: the panel shows the
// logical image turned 90° counter-clockwise, so turning the expected
// logical point that way must land on the tablet's panel point.
func TestTabletSurfacePointTurnsBack(t *testing.T) {
	nx, ny := float64(tabletX)/tabletMax, float64(tabletY)/tabletMax
	for _, tc := range []struct {
		rot     int
		surface image.Point
	}{{0, image.Pt(1280, 800)}, {90, image.Pt(800, 1280)}} {
		l := tabletSurfacePoint(tc.rot, tc.surface)
		var px, py, pw, ph float64
		switch tc.rot {
		case 0:
			px, py, pw, ph = l[0], l[1], float64(tc.surface.X), float64(tc.surface.Y)
		case 90:
			// Counter-clockwise: logical top edge becomes the panel's
			// left edge, read bottom to top.
			px, py = l[1], float64(tc.surface.X)-l[0]
			pw, ph = float64(tc.surface.Y), float64(tc.surface.X)
		}
		if d := px/pw - nx; d > 1e-9 || d < -1e-9 {
			t.Errorf("rotate %d: logical %v is panel x %.4f of the width, want %.4f", tc.rot, l, px/pw, nx)
		}
		if d := py/ph - ny; d > 1e-9 || d < -1e-9 {
			t.Errorf("rotate %d: logical %v is panel y %.4f of the height, want %.4f", tc.rot, l, py/ph, ny)
		}
	}
	if got := fmt.Sprintf("%.2f,%.2f", tabletSurfacePoint(90, image.Pt(800, 1280))[0], tabletSurfacePoint(90, image.Pt(800, 1280))[1]); got != "199.98,320.01" {
		t.Errorf("rotate 90 point = %s, want 199.98,320.01", got)
	}
}

func writeQuadrants(t *testing.T, dir, name string, w, h int, c [4]color.RGBA, spoil bool) string {
	t.Helper()
	img := quadrantsImage(w, h, c)
	if spoil {
		img.Set(w-1, h-1, color.RGBA{0x12, 0x34, 0x56, 0xff})
	}
	p := filepath.Join(dir, name+".png")
	if err := screencheck.WritePNG(p, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// addedEvent is vitrine's output.added record in run tag (keys in
// vitrine's order, which the judges must not rely on).
func addedEvent(tag, transform string) string {
	return tag + `| {"time":"x","level":"INFO","msg":"output added","name":"Virtual-1","size":{"X":1280,"Y":800},"refresh_mhz":60000,"transform":"` + transform + `","event":"output.added"}` + "\n"
}

// inputOutput is what a good vitrine-input run prints, with the pointer
// press at the given surface positions.
func inputOutput(rot0, rot90 string) string {
	var b strings.Builder
	b.WriteString("quit-exit=0\n")
	b.WriteString(addedEvent("rot0", "normal"))
	b.WriteString("rot0| first-frame 1280x800\n")
	for _, k := range echoKeys[:4] {
		b.WriteString("rot0| " + k + "\n")
	}
	// The tablet's events may arrive between the keys.
	b.WriteString("rot0| pointer-motion x=" + rot0 + "\nrot0| button code=272 state=pressed\nrot0| button code=272 state=released\n")
	for _, k := range echoKeys[4:] {
		b.WriteString("rot0| " + k + "\n")
	}
	b.WriteString(`rot0| {"time":"x","level":"INFO","msg":"Ctrl+Alt+Backspace: quitting","event":"quit.key"}` + "\n")
	b.WriteString(addedEvent("rot90q", "90") + "rot90q| first-frame 800x1280\n")
	b.WriteString(addedEvent("rot90", "90"))
	b.WriteString("rot90| first-frame 800x1280\nrot90| pointer-enter x=0.00 y=0.00\n")
	b.WriteString("rot90| pointer-motion x=" + rot90 + "\nrot90| button code=272 state=pressed\nrot90| button code=272 state=released\n")
	b.WriteString("no-quit-key-alive=yes\n")
	return b.String()
}

func TestInputCheck(t *testing.T) {
	dir := t.TempDir()
	c := quadrantColors
	turned := [4]color.RGBA{c[1], c[3], c[0], c[2]}
	good := writeQuadrants(t, dir, "rot90", 1280, 800, turned, false)
	res := &Result{Output: []byte(inputOutput("320.01 y=600.02", "199.98 y=320.01")), Screendumps: []string{good}}
	if err := inputCheck(nil, res, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}

	bad := []struct {
		name string
		res  *Result
		want string
	}{
		{"rotated the wrong way", &Result{Output: []byte(inputOutput("320.01 y=600.02", "600.02 y=960.00")), Screendumps: []string{good}}, "rotate 90: tablet"},
		{"not rotated", &Result{Output: []byte(inputOutput("320.01 y=600.02", "320.01 y=600.02")), Screendumps: []string{good}}, "rotate 90: tablet"},
		{"shift lost", &Result{Output: []byte(strings.Replace(inputOutput("320.01 y=600.02", "199.98 y=320.01"), "depressed=1 ", "depressed=0 ", 1)), Screendumps: []string{good}}, "modifiers depressed=1"},
		{"screen turned clockwise", &Result{Output: []byte(inputOutput("320.01 y=600.02", "199.98 y=320.01")),
			Screendumps: []string{writeQuadrants(t, t.TempDir(), "rot90", 1280, 800, [4]color.RGBA{c[2], c[0], c[3], c[1]}, false)}}, "rotate 90:"},
		{"quit despite --no-quit-key", &Result{Output: []byte(strings.Replace(inputOutput("320.01 y=600.02", "199.98 y=320.01"), "no-quit-key-alive=yes", "", 1)), Screendumps: []string{good}}, "--no-quit-key"},
		{"rot90q not turned", &Result{Output: []byte(strings.Replace(inputOutput("320.01 y=600.02", "199.98 y=320.01"), addedEvent("rot90q", "90"), addedEvent("rot90q", "normal"), 1)), Screendumps: []string{good}}, "rot90q: no output.added event with transform=90"},
		{"an error in the rot90q run", &Result{Output: []byte(inputOutput("320.01 y=600.02", "199.98 y=320.01") + `rot90q| {"time":"x","level":"ERROR","msg":"present failed","err":"bad file descriptor"}` + "\n"), Screendumps: []string{good}}, `rot90q: vitrine logged: {"err":"bad file descriptor"`},
		{"no quit", &Result{Output: []byte(strings.Replace(inputOutput("320.01 y=600.02", "199.98 y=320.01"), `"event":"quit.key"`, `"event":"x"`, 1)), Screendumps: []string{good}}, "Ctrl+Alt+Backspace"},
	}
	for _, b := range bad {
		err := inputCheck(nil, b.res, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}

// rec is one JSON record of vitrine's as the guest prints it after
// "TAG| ", level and event first, then the keys kv (JSON text values).
func rec(tag, level, event string, kv ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `%s| {"time":"x","level":%q,"msg":"m"`, tag, level)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, `,%q:%s`, kv[i], kv[i+1])
	}
	fmt.Fprintf(&b, `,"event":%q}`+"\n", event)
	return b.String()
}

// failedStart is what a vitrine that exits with cause prints.
func failedStart(tag, cause string) string {
	return rec(tag, "INFO", "backend.selected", "backend", `"drm"`) +
		rec(tag, "ERROR", "exit.error", "err", `"it failed"`, "cause", `"`+cause+`"`) +
		tag + "| vitrine: it failed, in words for people\n"
}

// vtOutput is what a good VT cycle run under session prints: 20
// cycles, pause 4 finding a frame in flight.
func vtOutput(session string, fd1, fd20 int) string {
	return vtCyclesOutput(session, vtCycles, 4, fd1, fd20)
}

// vtCyclesOutput is what a VT cycle run of cycles under session
// prints, pause inFlight (counted from 1; 0 for none) finding a frame
// in flight, with fd1 and fdN open fds after the first and last cycle.
func vtCyclesOutput(session string, cycles, inFlight, fd1, fdN int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "user=lab\nfirst-frame 64x40\nvitrine-user=lab\ncycles=%d ms=31000\nfds cycle1=%d cycle%d=%d\ncard0-fds=1\nbox-animates-after-cycles\nsecond-exit=1\n", cycles, fd1, cycles, fdN)
	b.WriteString(failedStart("second", "session_busy"))
	switches := cycles
	if session == SessionLogind {
		b.WriteString("noseatd-exit=1\n" + failedStart("noseatd", "seatd_missing"))
		b.WriteString(rec("vitrine", "INFO", "session.logind", "session", `"1"`, "seat", `"seat0"`))
		b.WriteString(rec("vitrine", "DEBUG", "logind.took_device", "path", `"/dev/dri/card0"`, "major", "226", "minor", "0"))
		b.WriteString(rec("vitrine", "DEBUG", "logind.took_device", "path", `"/dev/input/event0"`, "major", "13", "minor", "64"))
	} else {
		switches++
		b.WriteString("after-ctrl-alt-f2=tty2\n")
		b.WriteString(rec("vitrine", "INFO", "session.seatd", "seat", `"seat0"`))
		b.WriteString(rec("vitrine", "DEBUG", "seatd.seat_open", "seat", `"seat0"`, "socket", `"/run/seatd.sock"`))
	}
	for i := 0; i < switches; i++ {
		if session == SessionLogind {
			b.WriteString(rec("vitrine", "INFO", "logind.active", "active", "false"))
		} else {
			b.WriteString(rec("vitrine", "INFO", "seatd.seat_disabled"))
		}
		// vitrine's order: the frame in flight, then the pause.
		if i+1 == inFlight {
			b.WriteString(rec("vitrine", "INFO", "session.paused_in_flight", "output", `"Virtual-1"`, "stage", `"flip"`))
		}
		b.WriteString(rec("vitrine", "INFO", "session.active", "active", "false"))
		if session == SessionLogind {
			b.WriteString(rec("vitrine", "INFO", "logind.active", "active", "true"))
		} else {
			b.WriteString(rec("vitrine", "INFO", "seatd.seat_enabled"))
		}
		b.WriteString(rec("vitrine", "INFO", "session.active", "active", "true"))
	}
	if session == SessionSeatd {
		b.WriteString(`echo| keyboard-enter keys=
echo| modifiers depressed=0 latched=0 locked=0 group=0
echo| key code=29 state=pressed
echo| modifiers depressed=4 latched=0 locked=0 group=0
echo| key code=56 state=pressed
echo| modifiers depressed=12 latched=0 locked=0 group=0
echo| keyboard-leave
echo| keyboard-enter keys=
echo| modifiers depressed=0 latched=0 locked=0 group=0
echo| key code=30 state=pressed
echo| key code=30 state=released
`)
	}
	return b.String()
}

// eventFirst rewrites out's records with the event key first: the
// judges must not depend on the order of keys.
func eventFirst(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, `,"event":"`); i >= 0 && strings.HasSuffix(l, "}") {
			j := strings.Index(l, "{")
			l = l[:j+1] + l[i+1:len(l)-1] + "," + l[j+1:i] + "}"
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func TestVTCycleCheck(t *testing.T) {
	dir := t.TempDir()
	before := writeQuadrants(t, dir, "before", 64, 40, quadrantColors, false)
	after := writeQuadrants(t, dir, "after", 64, 40, quadrantColors, false)
	away := writeQuadrants(t, dir, "away", 64, 40, [4]color.RGBA{}, false)
	shots := []string{before, away, after}
	staleAway := writeQuadrants(t, t.TempDir(), "away", 64, 40, quadrantColors, false)
	spoiltAfter := writeQuadrants(t, t.TempDir(), "after", 64, 40, quadrantColors, true)
	for _, session := range []string{SessionLogind, SessionSeatd} {
		s := vtCycleScenario(session)
		out := vtOutput(session, 23, 23)
		if err := s.Check(nil, &Result{Output: []byte(out), Screendumps: shots}, nil); err != nil {
			t.Fatalf("%s: a good run failed: %v", session, err)
		}
		if err := s.Check(nil, &Result{Output: []byte(eventFirst(out)), Screendumps: shots}, nil); err != nil {
			t.Fatalf("%s: a good run with the event key first failed: %v", session, err)
		}
		// The seatd row's Ctrl+Alt+F2 is one more switch after the cycles.
		switches := func(cycles int) int {
			if session == SessionSeatd {
				return cycles + 1
			}
			return cycles
		}
		// No frame in flight in the first 26 pauses: the script went on
		// and stopped at the 27th, which had one.
		if err := s.Check(nil, &Result{Output: []byte(vtCyclesOutput(session, 27, 27, 23, 23)), Screendumps: shots}, nil); err != nil {
			t.Fatalf("%s: a good run of 27 cycles failed: %v", session, err)
		}
		// The last pause of all found one: the script gave up at 60.
		if err := s.Check(nil, &Result{Output: []byte(vtCyclesOutput(session, 60, switches(60), 23, 23)), Screendumps: shots}, nil); err != nil {
			t.Fatalf("%s: a good run of 60 cycles failed: %v", session, err)
		}
		type bad struct {
			name  string
			out   string
			shots []string
			want  string
		}
		cases := []bad{
			{"fd leak", vtOutput(session, 23, 42), shots, "grew from 23 after cycle 1 to 42"},
			{"stale screen on VT 2", out, []string{before, staleAway, after}, "kept showing it"},
			{"one pixel wrong after the cycles", out, []string{before, away, spoiltAfter}, "1 of 2560 pixels differ"},
			{"no screendump", out, []string{before, away}, `no screendump "after"`},
			{"a warning beside the error", strings.Replace(out, "second| vitrine:", rec("second", "WARN", "output.none_connected")+"second| vitrine:", 1), shots, "second: a log record besides the error"},
			{"second refused for the wrong cause", strings.Replace(out, failedStart("second", "session_busy"), failedStart("second", "device_busy"), 1), shots, `second: want one exit.error event with cause session_busy, got 1 with causes ["device_busy"]`},
			{"second without exit.error", strings.Replace(out, rec("second", "ERROR", "exit.error", "err", `"it failed"`, "cause", `"session_busy"`), "", 1), shots, "second: want one exit.error event with cause session_busy, got 0"},
			{"second's line not the last", strings.Replace(out, "second| vitrine: it failed, in words for people\n", "second| vitrine: it failed, in words for people\n"+rec("second", "INFO", "stats"), 1), shots, `second: want exactly one line "vitrine: ...", the last`},
			{"errors in vitrine's log", out + rec("vitrine", "ERROR", "", "err", `"bad file descriptor"`), shots, `vitrine logged errors:`},
			{"missed pauses", strings.Replace(out, rec("vitrine", "INFO", "session.active", "active", "false"), "", 2), shots, "session.active events with active=false for"},
			{"no frame in flight in 20 cycles", vtCyclesOutput(session, 20, 0, 23, 23), shots, "no session.paused_in_flight event in 20 VT cycles"},
			{"no frame in flight in 60 cycles", vtCyclesOutput(session, 60, 0, 23, 23), shots, "no session.paused_in_flight event in 60 VT cycles"},
			{"27 cycles claimed, 20 run", strings.NewReplacer("cycles=20 ms", "cycles=27 ms", "cycle20=", "cycle27=").Replace(out), shots,
				fmt.Sprintf("%d session.active events with active=false for %d VT switches", switches(20), switches(27))},
			{"26 cycles claimed, 27 run", strings.Replace(vtCyclesOutput(session, 27, 27, 23, 23), "cycles=27 ms", "cycles=26 ms", 1), shots,
				fmt.Sprintf("%d session.active events with active=true for %d VT switches", switches(27), switches(26))},
			{"a pause too many", out + rec("vitrine", "INFO", "session.active", "active", "false"), shots,
				fmt.Sprintf("%d session.active events with active=false for %d VT switches", switches(20)+1, switches(20))},
			{"fd count from another cycle", strings.Replace(out, "cycle20=", "cycle19=", 1), shots, "fd count is for cycle 19, but the script ran 20"},
			{"went on after a frame in flight", vtCyclesOutput(session, 27, 5, 23, 23), shots, "went on to 27 VT cycles, but pause 5 already found"},
			{"more cycles than allowed", vtCyclesOutput(session, 61, 61, 23, 23), shots, "ran 61 VT cycles, want 20 to 60"},
			{"no cycles line", strings.Replace(out, "cycles=20 ms=31000\n", "", 1), shots, "no cycles=N line"},
		}
		if session == SessionLogind {
			cases = append(cases,
				bad{"input devices opened, not taken", strings.Replace(out, rec("vitrine", "DEBUG", "logind.took_device", "path", `"/dev/input/event0"`, "major", "13", "minor", "64"), "", 1), shots, "did not take the input devices from logind"},
				bad{"card opened, not taken", strings.Replace(out, `"/dev/dri/card0"`, `"/dev/dri/card1"`, 1), shots, "did not take /dev/dri/card0 from logind"},
				bad{"not logind", strings.Replace(out, `"event":"session.logind"`, `"event":"session.direct"`, 1), shots, "no session.logind event"},
				bad{"no seatd: wrong cause", strings.Replace(out, failedStart("noseatd", "seatd_missing"), failedStart("noseatd", "other"), 1), shots, `noseatd: want one exit.error event with cause seatd_missing`},
			)
		} else {
			cases = append(cases,
				bad{"a seat enable missing", strings.Replace(out, rec("vitrine", "INFO", "seatd.seat_enabled"), "", 1), shots, "20 seatd.seat_enabled events for 21 VT switches"},
				bad{"stopped before a frame in flight", vtCyclesOutput(session, 27, 28, 23, 23), shots, "stopped after 27 VT cycles, before a pause found"},
				bad{"seat not opened", strings.Replace(out, `"event":"seatd.seat_open"`, `"event":"x"`, 1), shots, "no seatd.seat_open event"},
				bad{"an error in the input-echo run", out + rec("echo", "ERROR", "vt.switch_failed"), shots, "input-echo run: vitrine logged"},
				bad{"modifiers stuck after Ctrl+Alt+F2", strings.Replace(out, "echo| keyboard-enter keys=\necho| modifiers depressed=0 latched=0 locked=0 group=0\necho| key code=30", "echo| key code=30", 1), shots, "modifiers depressed=12"},
			)
		}
		for _, b := range cases {
			err := s.Check(nil, &Result{Output: []byte(b.out), Screendumps: b.shots}, nil)
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("%s: %s: got %v, want an error mentioning %q", session, b.name, err, b.want)
			}
		}
	}
}

func TestRootErrorCheck(t *testing.T) {
	good := "root-exit=1\n" + failedStart("root", "root_refused") + "busy-exit=1\n" + failedStart("busy", "device_busy") +
		rec("first", "INFO", "output.added", "transform", `"normal"`) + "first| first-frame 1280x800\n"
	if err := rootErrorCheck(nil, &Result{Output: []byte(good)}, nil); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	for _, b := range []struct{ name, out, want string }{
		{"busy for another cause", strings.Replace(good, `"device_busy"`, `"session_busy"`, 1), "busy: want one exit.error event with cause device_busy"},
		{"root not refused", strings.Replace(good, `"root_refused"`, `"permission"`, 1), "root: want one exit.error event with cause root_refused"},
		{"root exit 0", strings.Replace(good, "root-exit=1", "root-exit=0", 1), `root-exit=1`},
		{"the first vitrine hurt", good + rec("first", "ERROR", "display.unusable"), "the first vitrine: vitrine logged"},
	} {
		err := rootErrorCheck(nil, &Result{Output: []byte(b.out)}, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}

func TestOneErrorLine(t *testing.T) {
	exit := `x| {"time":"1","level":"ERROR","msg":"vitrine exits","err":"e","cause":"seatd_missing","event":"exit.error"}` + "\n"
	for _, tc := range []struct {
		out string
		ok  bool
	}{
		{`x| {"time":"1","level":"INFO","msg":"a"}` + "\n" + exit + "x| vitrine: no\n", true},
		{exit + "x| vitrine: no\nx| vitrine: again\n", false},
		{exit + "x| vitrine: no\n" + `x| {"time":"1","level":"INFO","msg":"after"}` + "\n", false},
		{`x| {"time":"1","level":"ERROR","msg":"a"}` + "\n" + exit + "x| vitrine: no\n", false},
		{exit + exit + "x| vitrine: no\n", false},
		{"x| vitrine: no\n", false},
		{exit + "x| panic: oops\nx| vitrine: no\n", false},
		{strings.Replace(exit, "seatd_missing", "other", 1) + "x| vitrine: no\n", false},
		{"y| vitrine: other tag\n", false},
	} {
		if err := oneErrorLine(tc.out, "x", "seatd_missing"); (err == nil) != tc.ok {
			t.Errorf("oneErrorLine(%q) = %v, want ok=%v", tc.out, err, tc.ok)
		}
	}
}
