package lab

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// toggleWindow is the size the dma-buf client keeps once it leaves
// fullscreen; the kiosk layout centres it on black.
var toggleWindow = image.Pt(640, 480)

// fullscreenToggleScenario has one vgem dma-buf client on cirrus leave
// and re-enter fullscreen (SIGUSR1 toggles it): fullscreen it is on the
// primary plane, windowed it is composited, and each side of each switch
// must show exactly the right image.
func fullscreenToggleScenario() Scenario {
	cmd := guestHelpers + eventShell + fmt.Sprintf(`log=/tmp/toggle.log
vitrine --backend drm --session direct --log-level debug --log-format json -- dmabuf-client --alloc vgem --pattern quadrants --fullscreen --toggle-on-usr1 --size %[2]dx%[3]d >$log 2>&1 &
pid=$!
client() {
	for d in /proc/[0-9]*; do
		case "$(tr '\0' ' ' <$d/cmdline 2>/dev/null)" in dmabuf-client*) echo ${d#/proc/}; return;; esac
	done
}
frames() { matchev $log frame; }
if waitfor $log '^first-frame ' 60; then
	sleep %[1]s
	lab-screendump full1 >/dev/null || fail 'screendump full1'
	n1=$(frames)
	kill -USR1 $(client)
	waitfor $log '^resized %[2]dx%[3]d$' 30 || fail 'client did not shrink'
	sleep %[1]s
	lab-screendump windowed >/dev/null || fail 'screendump windowed'
	n2=$(frames)
	kill -USR1 $(client)
	waitfor $log '^resized .*x.*' 30 && sleep 0.3
	waitfor $log 'fullscreen on' 30 || fail 'client did not go back to fullscreen'
	sleep 1
	lab-screendump full2 >/dev/null || fail 'screendump full2'
	n3=$(frames)
	echo "composited-lines full1=$n1 windowed=$n2 full2=$n3"
fi
kill -TERM $pid
wait $pid
echo "toggle-exit=$?"
sed 's/^/toggle| /' $log
exit $status
`, settle, toggleWindow.X, toggleWindow.Y)
	return Scenario{
		Name:         "dmabuf-fullscreen-toggle",
		Displays:     []string{"cirrus"},
		Render:       "vgem",
		NeedsVitrine: true,
		Timeout:      2 * time.Minute,
		Command:      cmd,
		Check: func(_ *Env, res *Result, runErr error) error {
			if runErr != nil {
				return runErr
			}
			if err := judgeToggle(res); err != nil {
				return fmt.Errorf("%w\noutput ends:\n%s", err, indent(tail(nonFrameLines(string(res.Output)), 25)))
			}
			return nil
		},
	}
}

var toggleCounts = regexp.MustCompile(`(?m)^composited-lines full1=(\d+) windowed=(\d+) full2=(\d+)$`)

// windowedImage is the quadrants of a w×h window centred on a black
// screen of size screen.
func windowedImage(screen, win image.Point) *image.RGBA {
	img := image.NewRGBA(image.Rectangle{Max: screen})
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{A: 0xff}), image.Point{}, draw.Src)
	off := screen.Sub(win).Div(2)
	q := quadrantsImage(win.X, win.Y, quadrantColors)
	draw.Draw(img, q.Bounds().Add(off), q, image.Point{}, draw.Src)
	return img
}

// judgeToggle checks the three screendumps and that the frames went
// scanout (fullscreen), composite (windowed), scanout (fullscreen).
func judgeToggle(res *Result) error {
	out := string(res.Output)
	_, size, problems, err := judgeQuadrantsScript(res, "toggle", "full1", "full2")
	if err != nil {
		return err
	}
	if err := compareScreendump(res, "windowed", windowedImage(size, toggleWindow)); err != nil {
		problems = append(problems, err.Error())
	}
	m := toggleCounts.FindStringSubmatch(out)
	if m == nil {
		problems = append(problems, "no composited-lines counts: the script did not get through the toggles")
	} else {
		full1, _ := strconv.Atoi(m[1])
		windowed, _ := strconv.Atoi(m[2])
		full2, _ := strconv.Atoi(m[3])
		if full1 != 0 {
			problems = append(problems, fmt.Sprintf("%d composited frames while fullscreen, want 0 (scanout)", full1))
		}
		if windowed == full1 {
			problems = append(problems, "no composited frame while windowed: a centred window cannot be scanned out")
		}
		if full2 > windowed+1 {
			problems = append(problems, fmt.Sprintf("%d composited frames after going fullscreen again, want at most the one that repaints the leaving window", full2-windowed))
		}
	}
	if st, err := parseStats(vitrineEvents(tagged(out, "toggle"))); err != nil {
		problems = append(problems, err.Error())
	} else if st.Scanout < 2 || st.Composited < 1 {
		problems = append(problems, fmt.Sprintf("stats scanout=%d composited=%d, want scanout >= 2 (both fullscreen phases) and composited >= 1", st.Scanout, st.Composited))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}
