package lab

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/qmp"
)

// inputStep is one line of an input script: either events sent together
// or a pause.
type inputStep struct {
	events []qmp.InputEvent
	pause  time.Duration
}

// parseInputScript reads the lab's input script language, one command a
// line ('#' starts a comment):
//
//	key QCODE [down|up]       QEMU key name (a, ret, spc, shift, ctrl, f1...);
//	                          without down/up: press and release
//	type TEXT                 press and release each letter, digit or space
//	button NAME [down|up]     left, right, middle, wheel-up, wheel-down
//	move X Y                  absolute pointer, 0..32767 on both axes
//	rel DX DY                 relative pointer motion
//	touch down X Y | touch move X Y | touch up
//	sleep MS
//
// QEMU 7.2 has no multi-touch events, so a touch is the virtio-tablet's
// single contact: absolute motion plus its left button.
func parseInputScript(script string) ([]inputStep, error) {
	var steps []inputStep
	sc := bufio.NewScanner(strings.NewReader(script))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		step, err := parseInputLine(f)
		if err != nil {
			return nil, fmt.Errorf("input script line %d %q: %w", n, strings.TrimSpace(line), err)
		}
		steps = append(steps, step...)
	}
	return steps, sc.Err()
}

func parseInputLine(f []string) ([]inputStep, error) {
	one := func(ev ...qmp.InputEvent) []inputStep { return []inputStep{{events: ev}} }
	press := func(mk func(bool) qmp.InputEvent, f []string) ([]inputStep, error) {
		if len(f) == 0 {
			return []inputStep{{events: []qmp.InputEvent{mk(true)}}, {events: []qmp.InputEvent{mk(false)}}}, nil
		}
		switch f[0] {
		case "down":
			return one(mk(true)), nil
		case "up":
			return one(mk(false)), nil
		}
		return nil, fmt.Errorf("want down or up, got %q", f[0])
	}
	switch f[0] {
	case "key":
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("usage: key QCODE [down|up]")
		}
		return press(func(d bool) qmp.InputEvent { return qmp.KeyEvent(f[1], d) }, f[2:])
	case "type":
		var steps []inputStep
		text := strings.Join(f[1:], " ")
		for _, r := range text {
			code, ok := typeable(r)
			if !ok {
				return nil, fmt.Errorf("type: %q has no plain key (use key lines)", r)
			}
			steps = append(steps, inputStep{events: []qmp.InputEvent{qmp.KeyEvent(code, true)}},
				inputStep{events: []qmp.InputEvent{qmp.KeyEvent(code, false)}})
		}
		return steps, nil
	case "button":
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("usage: button NAME [down|up]")
		}
		return press(func(d bool) qmp.InputEvent { return qmp.ButtonEvent(f[1], d) }, f[2:])
	case "move":
		x, y, err := twoInts(f[1:], 0, qmp.AbsMax)
		if err != nil {
			return nil, fmt.Errorf("move: %w", err)
		}
		return one(qmp.AbsEvent("x", x), qmp.AbsEvent("y", y)), nil
	case "rel":
		x, y, err := twoInts(f[1:], -1<<15, 1<<15)
		if err != nil {
			return nil, fmt.Errorf("rel: %w", err)
		}
		return one(qmp.RelEvent("x", x), qmp.RelEvent("y", y)), nil
	case "touch":
		if len(f) == 2 && f[1] == "up" {
			return one(qmp.ButtonEvent("left", false)), nil
		}
		if len(f) != 4 || (f[1] != "down" && f[1] != "move") {
			return nil, fmt.Errorf("usage: touch down X Y | touch move X Y | touch up")
		}
		x, y, err := twoInts(f[2:], 0, qmp.AbsMax)
		if err != nil {
			return nil, fmt.Errorf("touch: %w", err)
		}
		if f[1] == "down" {
			return one(qmp.AbsEvent("x", x), qmp.AbsEvent("y", y), qmp.ButtonEvent("left", true)), nil
		}
		return one(qmp.AbsEvent("x", x), qmp.AbsEvent("y", y)), nil
	case "sleep":
		if len(f) != 2 {
			return nil, fmt.Errorf("usage: sleep MS")
		}
		ms, err := strconv.Atoi(f[1])
		if err != nil || ms < 0 || ms > 600000 {
			return nil, fmt.Errorf("sleep: bad milliseconds %q", f[1])
		}
		return []inputStep{{pause: time.Duration(ms) * time.Millisecond}}, nil
	}
	return nil, fmt.Errorf("unknown command %q", f[0])
}

func typeable(r rune) (string, bool) {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return string(r), true
	case r == ' ':
		return "spc", true
	}
	return "", false
}

func twoInts(f []string, lo, hi int) (int, int, error) {
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("want two numbers")
	}
	a, err1 := strconv.Atoi(f[0])
	b, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || a < lo || a > hi || b < lo || b > hi {
		return 0, 0, fmt.Errorf("want two integers in %d..%d, got %q %q", lo, hi, f[0], f[1])
	}
	return a, b, nil
}
