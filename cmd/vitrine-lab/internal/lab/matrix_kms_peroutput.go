package lab

import (
	"fmt"
	"image"
	"regexp"
	"slices"
	"strings"
	"time"
)

// perOutputHead0 is the mode --mode asks for on Virtual-1: not
// virtio-gpu's preferred 1280x800, so the default would show.
var perOutputHead0 = image.Pt(1024, 768)

// perOutputScenario proves --rotate and --mode given per output: two
// monitors on a virtio-gpu (head 1 plugged before vitrine starts), one
// at a chosen mode and upright, the other at its preferred mode and
// turned 90°. A quadrants client fullscreen on each; each head's
// screendump must be its own picture, pixel for pixel.
func perOutputScenario() Scenario {
	return Scenario{
		Name:         "kms-per-output-virtio",
		Displays:     []string{"virtio-dual"},
		NeedsVitrine: true,
		Timeout:      2 * time.Minute,
		Command:      perOutputCommand,
		Check:        perOutputCheck,
	}
}

var perOutputCommand = hotplugShell + fmt.Sprintf(`vitrine-lab guest-head virtio-dual:1 %[2]dx%[3]d || fail "plug head 1"
i=0
until grep -q '^connected' /sys/class/drm/card0-Virtual-2/status; do
	i=$((i+1)); [ $i -lt 100 ] || fail "Virtual-2 never connected"; sleep 0.05
done
vitrine --backend drm --session direct --log-level debug --log-format json --socket wayland-po --mode Virtual-1=%[4]dx%[5]d --rotate Virtual-2=90 -- shm-client --pattern quadrants --output Virtual-1 >$log 2>&1 &
pid=$!
awaitin $log '^first-frame ' 1 'the client on Virtual-1'
WAYLAND_DISPLAY=wayland-po shm-client --pattern quadrants --output Virtual-2 >/tmp/second.log 2>&1 &
second=$!
awaitin /tmp/second.log '^first-frame ' 1 'the client on Virtual-2'
sleep %[1]s
lab-screendump head0 virtio-dual:0 >/dev/null || fail "screendump head0"
lab-screendump head1 virtio-dual:1 >/dev/null || fail "screendump head1"
kill $second; wait $second; second=
kill -TERM $pid
wait $pid
echo "vitrine-exit=$?"
grep -vF '"event":"frame"' $log | sed 's/^/vitrine| /'
sed 's/^/second| /' /tmp/second.log
`, settle, hotplugHead1.X, hotplugHead1.Y, perOutputHead0.X, perOutputHead0.Y)

// perOutputCheck judges perOutputScenario's run.
func perOutputCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out := string(res.Output)
	problems := judgePerOutput(out)
	if res.ExitCode != 0 {
		problems = append(problems, fmt.Sprintf("guest script exited %d", res.ExitCode))
	}
	head0 := quadrantsImage(perOutputHead0.X, perOutputHead0.Y, quadrantColors)
	if err := compareScreendump(res, "head0", head0); err != nil {
		problems = append(problems, "Virtual-1 (upright, --mode): "+err.Error())
	}
	// The client on the turned output draws upright at the logical
	// (portrait) size; the monitor shows it turned counter-clockwise.
	head1 := turnCounterClockwise(quadrantsImage(hotplugHead1.Y, hotplugHead1.X, quadrantColors))
	if err := compareScreendump(res, "head1", head1); err != nil {
		problems = append(problems, "Virtual-2 (--rotate 90): "+err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(nonFrameLines(out), 40)))
	}
	return nil
}

// judgePerOutput checks the log: each output lit with its own mode and
// transform, each client sized by it.
func judgePerOutput(out string) []string {
	var problems []string
	problems = append(problems, failLines.FindAllString(out, -1)...)
	if !regexp.MustCompile(`(?m)^vitrine-exit=0$`).MatchString(out) {
		problems = append(problems, "vitrine did not exit 0 on SIGTERM")
	}
	lines := tagged(out, "vitrine")
	evs := vitrineEvents(lines)
	for _, w := range []struct {
		what, name, transform string
		size                  image.Point
	}{
		{"Virtual-1 at the --mode size, upright", "Virtual-1", "normal", perOutputHead0},
		{"Virtual-2 at its preferred size, turned 90", "Virtual-2", "90", hotplugHead1},
	} {
		if !slices.ContainsFunc(findEvents(evs, "output.added", "name", w.name, "transform", w.transform), func(e logEvent) bool {
			x, y, ok := eventSize(e)
			return ok && image.Pt(x, y) == w.size
		}) {
			problems = append(problems, "vitrine's log lacks "+w.what+" (an output.added event)")
		}
	}
	if want := fmt.Sprintf("first-frame %dx%d", perOutputHead0.X, perOutputHead0.Y); !slices.Contains(lines, want) {
		problems = append(problems, "vitrine's log lacks the first client at Virtual-1's size: want "+want)
	}
	second := strings.Join(tagged(out, "second"), "\n")
	if want := fmt.Sprintf("first-frame %dx%d", hotplugHead1.Y, hotplugHead1.X); !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(second) {
		problems = append(problems, "the second client did not draw at Virtual-2's portrait size: want "+want)
	}
	return problems
}
