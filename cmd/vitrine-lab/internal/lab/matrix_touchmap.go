package lab

import (
	"errors"
	"fmt"
	"image"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The touch-mapping row's setup: the lab touchscreen is mapped to
// virtio-dual's second head by a udev rule, as a kiosk builder writes
// one, with a calibration matrix for a sensor glued in turned 90
// degrees clockwise.
const (
	touchMapOutput = "Virtual-2"
	touchMapMatrix = "0 -1 1 1 0 0"
	touchMapRules  = `SUBSYSTEM=="input", KERNEL=="event*", ATTRS{name}=="` + touchName + `", ENV{WL_OUTPUT}="` + touchMapOutput +
		`", ENV{LIBINPUT_CALIBRATION_MATRIX}="` + touchMapMatrix + `"`
)

// touchMapTap is the raw point the row taps, in the touchscreen's
// units: off the centre and the diagonals, so a matrix applied the
// wrong way round, or not at all, lands elsewhere.
var touchMapTap = [2]int32{1024, 3072}

// touchMapPhases are the row's vitrine runs, in one boot: udev's
// mapping and matrix; the same with the second head turned (the matrix
// comes before the output's rotation); and --map-input putting the
// device back on the first head (the flag wins over WL_OUTPUT, the
// matrix still applies).
var touchMapPhases = []struct {
	tag, flags string
	output     string // where the touch must land
	rotate     int
	source     string // input.mapped's source
}{
	{"udev", "--app-output input-echo=" + touchMapOutput, touchMapOutput, 0, "udev"},
	{"udev-rot90", "--app-output input-echo=" + touchMapOutput + " --rotate " + touchMapOutput + "=90", touchMapOutput, 90, "udev"},
	{"flag", "--map-input '" + touchName + "=Virtual-1'", "Virtual-1", 0, "flag"},
}

// touchMapScenario proves touchscreen mapping and calibration on a real
// kernel with real udev: under logind (the disk image runs udevd, which
// records the rule's properties in /run/udev/data as vitrine reads
// them), a lab-touch tap lands in input-echo, fullscreen on the head the
// device is mapped to, at the calibrated point.
func touchMapScenario() Scenario {
	return Scenario{
		Name:         "vitrine-touch-map-logind",
		Displays:     []string{"virtio-dual"},
		Session:      SessionLogind,
		UdevRules:    touchMapRules,
		NeedsVitrine: true,
		Command:      touchMapCommand(),
		Check:        touchMapCheck,
	}
}

func touchMapCommand() string {
	var b strings.Builder
	b.WriteString("log=/tmp/none.log\n" + awaitShell + eventShell + "cat >/tmp/tap.script <<'EOF'\n" +
		touchScript([][]touchAction{{{"down", 0, touchMapTap[0], touchMapTap[1]}}, {{"up", 0, 0, 0}}}) + "EOF\n")
	fmt.Fprintf(&b, `vitrine-lab guest-head virtio-dual:1 %dx%d || fail "plug head 1"
for c in Virtual-1 Virtual-2; do
	set -- $(cat /sys/class/drm/card0-$c/modes | head -n 1)
	echo "panel-$c=$1"
done
`, hotplugHead1.X, hotplugHead1.Y)
	for _, p := range touchMapPhases {
		fmt.Fprintf(&b, `log=/tmp/%[1]s.log
vitrine --backend drm --log-format json --log-level debug --trace-protocol %[2]s -- input-echo >$log 2>&1 &
pid=$!
await '^first-frame' 1 'input-echo first frame (%[1]s)'
lab-touch /tmp/tap.script >/tmp/%[1]s.touch 2>&1 &
tpid=$!
awaitev $log input.mapped 1 'the touchscreen mapped (%[1]s)' '"name":"%[3]s"'
awaitev $log request 1 'input-echo asking for wl_touch (%[1]s)' '"request":"get_touch"'
kill -USR1 $tpid
await '^touch-frame$' 2 'the tap (%[1]s)'
kill $tpid
wait $tpid
echo "%[1]s-touch-exit=$?"
kill $pid
wait $pid
grep -v -e '"event":"frame"' -e '"event":"request"' $log | sed 's/^/%[1]s| /'
pid=
`, p.tag, p.flags, touchName)
	}
	return b.String()
}

var (
	panelOfLine = regexp.MustCompile(`(?m)^panel-(Virtual-\d)=(\d+)x(\d+)$`)
	touchDownXY = regexp.MustCompile(`^touch-down id=\d+ x=(-?[0-9.]+) y=(-?[0-9.]+)$`)
)

// touchMapCheck judges touchMapScenario's run.
func touchMapCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out, problems := guestOutput(res)
	panels := map[string]image.Point{}
	for _, m := range panelOfLine.FindAllStringSubmatch(out, -1) {
		w, _ := strconv.Atoi(m[2])
		h, _ := strconv.Atoi(m[3])
		panels[m[1]] = image.Pt(w, h)
	}
	// The matrix, by hand: x' = 1 - y, y' = x on the normalized point.
	nx, ny := float64(touchMapTap[0])/TouchMax, float64(touchMapTap[1])/TouchMax
	cx, cy := 1-ny, nx
	for _, p := range touchMapPhases {
		panel, ok := panels[p.output]
		if !ok {
			problems = append(problems, fmt.Sprintf("no panel-%s=WxH line", p.output))
			continue
		}
		if err := judgeTouchMapPhase(out, p.tag, p.output, p.source, p.rotate, panel, cx, cy); err != nil {
			problems = append(problems, p.tag+": "+err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
	}
	return nil
}

func judgeTouchMapPhase(out, tag, output, source string, rot int, panel image.Point, cx, cy float64) error {
	lines := tagged(out, tag)
	if err := judgeTouchRun(out, tag, rot, panel); err != nil {
		return err
	}
	evs := vitrineEvents(lines)
	if errs := errorEvents(evs); len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	// The flag names where the touch goes; udev's WL_OUTPUT does
	// otherwise. The matrix comes from udev either way.
	mapped := findEvents(evs, "input.mapped", "name", touchName)
	if len(mapped) != 1 {
		return fmt.Errorf("%d input.mapped events for %q in vitrine's log, want 1", len(mapped), touchName)
	}
	if m := mapped[0]; !m.is("input.mapped", "output", output, "source", source, "calibration", touchMapMatrix) {
		return fmt.Errorf("vitrine's input.mapped event for the touchscreen has output=%q source=%q calibration=%q, want %q %q %q",
			m.Str("output"), m.Str("source"), m.Str("calibration"), output, source, touchMapMatrix)
	}
	pt := panelToSurface(rot, panel, cx, cy)
	for _, l := range lines {
		m := touchDownXY.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		// wl_fixed has 1/256 of a pixel; input-echo prints two decimals.
		if math.Abs(x-pt[0]) > 0.02 || math.Abs(y-pt[1]) > 0.02 {
			return fmt.Errorf("%s: want the tap at %.2f,%.2f (raw %d,%d calibrated to %.4f,%.4f on %s)", l, pt[0], pt[1], touchMapTap[0], touchMapTap[1], cx, cy, output)
		}
		return nil
	}
	return fmt.Errorf("input-echo printed no touch-down: %q", grepPrefix(lines, "touch-"))
}

func grepPrefix(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// kioskClientScenarios are the rows of issue 11's kiosk claims that need
// the real udev or the host's clients.
func kioskClientScenarios() []Scenario {
	return []Scenario{touchMapScenario()}
}
