package lab

import (
	"errors"
	"fmt"
	"image"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// kmsScenarios prove the KMS output on real drivers: modeset, damage clips, legacy path,
// rotation, probe, console restore.
func kmsScenarios() []Scenario {
	quadrants := "shm-client --pattern quadrants --fullscreen"
	movingBox := "shm-client --pattern moving-box --fullscreen --frames 200 --seconds 120"
	var rows []Scenario
	for _, d := range []string{"virtio", "bochs", "cirrus"} {
		rows = append(rows, vitrineScenario("kms-quadrants-"+d, []string{d}, "",
			vitrineRun{tag: "quadrants", client: quadrants, want: showQuadrants}))
	}
	rows = append(rows,
		vitrineScenario("kms-moving-box-virtio", []string{"virtio"}, "",
			vitrineRun{tag: "box", client: movingBox, until: finalBoxLine, want: showFinalBox, damageRule: true}),
		vitrineScenario("kms-moving-box-virtio-legacy", []string{"virtio"}, "",
			vitrineRun{tag: "box", flags: "--legacy-kms", client: movingBox, until: finalBoxLine, want: showFinalBox, damageRule: true}),
		vitrineScenario("kms-rotate90", []string{"virtio"}, "",
			vitrineRun{tag: "rot90", flags: "--rotate 90", client: quadrants, want: showQuadrants, rotate: 90}),
		vitrineScenario("kms-rotate180", []string{"virtio"}, "",
			vitrineRun{tag: "rot180", flags: "--rotate 180", client: quadrants, want: showQuadrants, rotate: 180}),
		// At --scale 2 the client draws at half the mode and every one
		// of its pixels is a 2x2 block on the display: its 64x64 box is
		// 128x128 in the screendump, where a client at the full mode
		// would show 64x64.
		vitrineScenario("kms-scale2", []string{"virtio"}, "",
			vitrineRun{tag: "scale2", flags: "--scale 2", client: "shm-client --pattern moving-box --fullscreen --frames 30 --seconds 120", until: finalBoxLine, want: showFinalBox, scale: 2}),
		perOutputScenario(),
		probeScenario(),
		consoleRestoreScenario(),
	)
	return rows
}

// What a run's screendump must show.
type screenWant int

const (
	showQuadrants screenWant = iota // the quadrants pattern at the client's first-frame size
	showFinalBox                    // the moving box where the client's final-box line puts it
	// showQuadrantsNV12 is the quadrants as dmabuf-client --format nv12
	// encodes them and render's reference decodes them, within ±1.
	showQuadrantsNV12
	// showBoxWithVideo is the final moving box with dmabuf-client's
	// --video-subsurface (NV12 quadrants, scaled 2×) where its last
	// video-at line puts it, within ±1.
	showBoxWithVideo
)

// Which way a client's buffers reach the screen.
type bufferPath int

const (
	anyPath     bufferPath = iota
	scanoutPath            // every client frame scanned out: nothing copied but the initial clear
	copyPath               // every client frame composited: no scanout
)

// Client lines that say the frame to judge is on screen.
const (
	firstFrameLine = "^first-frame "
	finalBoxLine   = "^final-box "
)

// vitrineRun is one vitrine session in a row's guest script: vitrine
// as root on the drm backend with a client, a wait for the client line
// that says its frame is shown, a screendump named after the tag,
// SIGTERM, and vitrine's log (at debug level) prefixed "TAG| ".
type vitrineRun struct {
	tag    string
	flags  string // extra vitrine flags
	client string
	until  string // grep pattern of the client line to wait for (default firstFrameLine)
	want   screenWant
	rotate int // vitrine's --rotate: the screendump is the client's image turned
	// scale is vitrine's whole --scale: the screendump is the client's
	// image with each pixel a scale×scale block (0: 1).
	scale int
	path  bufferPath
	// refusal is the errno vitrine's debug line must name when the
	// display refuses to import the client's dma-buf (copyPath rows).
	refusal string
	// damageRule applies copyPerFrame to a moving-box run.
	damageRule bool
	// mid takes this many screendumps (TAG-mid1...) while a moving-box
	// client runs, each of which must be a whole frame.
	mid int
	// beforeStart and afterExit are shell run before vitrine starts and
	// after it exited.
	beforeStart, afterExit string
}

// vitrineScenario is a row of vitrine runs, one after another in one
// boot, each judged by judgeRun.
func vitrineScenario(name string, displays []string, render string, runs ...vitrineRun) Scenario {
	return Scenario{
		Name:         name,
		Displays:     displays,
		Render:       render,
		NeedsVitrine: true,
		Timeout:      2 * time.Minute,
		Command:      runsScript(runs),
		Check: func(env *Env, res *Result, runErr error) error {
			if runErr != nil {
				return runErr
			}
			var problems []string
			if res.ExitCode != 0 {
				problems = append(problems, fmt.Sprintf("guest script exited %d", res.ExitCode))
			}
			problems = append(problems, failLines.FindAllString(string(res.Output), -1)...)
			for _, r := range runs {
				if err := r.judge(env, name, res); err != nil {
					problems = append(problems, r.tag+": "+err.Error())
				}
			}
			if len(problems) > 0 {
				return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(nonFrameLines(string(res.Output)), 25)))
			}
			return nil
		},
	}
}

// guestHelpers are the shell functions of the rows' scripts.
// waitfor LOG PATTERN SECONDS: poll LOG until PATTERN matches or vitrine
// ($pid) died; problems go to stdout as "FAIL: ..." and set status=1.
const guestHelpers = `export XDG_RUNTIME_DIR=/tmp/xdg
mkdir -p -m 700 $XDG_RUNTIME_DIR
status=0
fail() { echo "FAIL: $*"; status=1; }
waitfor() {
	i=0
	while ! grep -q -- "$2" "$1"; do
		if ! kill -0 $pid 2>/dev/null; then fail "vitrine exited before '$2' appeared in $1"; return 1; fi
		i=$((i+1))
		if [ $i -gt $(($3 * 10)) ]; then fail "no '$2' in $1 within $3 s"; return 1; fi
		sleep 0.1
	done
}
`

// settle is how long a row waits after the client's line before the
// screendump: the line comes with the frame callback, and QEMU shows a
// virtio-gpu transfer or a cirrus blit a moment later.
const settle = "0.5"

func runsScript(runs []vitrineRun) string {
	var b strings.Builder
	b.WriteString(guestHelpers)
	for _, r := range runs {
		b.WriteString(r.script())
	}
	b.WriteString("exit $status\n")
	return b.String()
}

func (r vitrineRun) script() string {
	until := r.until
	if until == "" {
		until = firstFrameLine
	}
	var b strings.Builder
	fmt.Fprintf(&b, "log=/tmp/%s.log\n%s", r.tag, r.beforeStart)
	if r.beforeStart != "" && !strings.HasSuffix(r.beforeStart, "\n") {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "vitrine --backend drm --session direct --log-level debug --log-format json %s -- %s >$log 2>&1 &\npid=$!\n", r.flags, r.client)
	if r.mid > 0 {
		fmt.Fprintf(&b, "waitfor $log %q 60\n", firstFrameLine)
		for i := 1; i <= r.mid; i++ {
			fmt.Fprintf(&b, "lab-screendump %s-mid%d >/dev/null || fail 'screendump %s-mid%d'\n", r.tag, i, r.tag, i)
		}
	}
	fmt.Fprintf(&b, `if waitfor $log %q 90; then
	sleep %s
	lab-screendump %s >/dev/null || fail 'screendump %s'
fi
kill -TERM $pid
wait $pid
echo "%s-exit=$?"
sed 's/^/%s| /' $log
`, until, settle, r.tag, r.tag, r.tag, r.tag)
	b.WriteString(r.afterExit)
	return b.String()
}

// judge checks one run: vitrine exited 0 on SIGTERM without errors, the
// screendump shows what the client drew, and its stats match the buffer
// path the row claims.
func (r vitrineRun) judge(env *Env, row string, res *Result) error {
	out := string(res.Output)
	lines := tagged(out, r.tag)
	log := strings.Join(lines, "\n")
	evs := vitrineEvents(lines)
	var problems []string
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(r.tag) + `-exit=0$`).MatchString(out) {
		problems = append(problems, "vitrine did not exit 0 on SIGTERM (no "+r.tag+"-exit=0 line)")
	}
	if errs := errorEvents(evs); len(errs) > 0 {
		problems = append(problems, errs[0])
	}
	// --legacy-kms must really take the legacy path, and every other
	// run the atomic one (all three drivers have atomic modesetting).
	wantAtomic := !strings.Contains(r.flags, "--legacy-kms")
	if countEvents(evs, "output.on", "atomic", strconv.FormatBool(wantAtomic)) == 0 {
		problems = append(problems, fmt.Sprintf("no output.on event with atomic=%v in vitrine's log", wantAtomic))
	}
	st, statsErr := parseStats(evs)
	if statsErr != nil {
		problems = append(problems, statsErr.Error())
	}
	size, err := firstFrameSize(log, "")
	if err != nil {
		return errors.New(strings.Join(append(problems, err.Error()), "\n"))
	}
	screen := size
	if r.scale > 1 {
		// The client drew at the logical size; the display has the
		// mode's pixels.
		screen = size.Mul(r.scale)
	}
	if r.rotate == 90 || r.rotate == 270 {
		screen = image.Pt(screen.Y, screen.X)
	}

	var want image.Image
	frames := 0
	tolerance := uint8(0)
	switch r.want {
	case showQuadrants:
		want = quadrantsImage(size.X, size.Y, quadrantColors)
	case showQuadrantsNV12:
		want, tolerance = quadrantsImage(size.X, size.Y, nv12Colors(size)), 1
	case showBoxWithVideo:
		box, n, err := finalBox(log)
		if err == nil {
			var img *image.RGBA
			if img, err = withVideo(boxImage(size.X, size.Y, box), log); err == nil {
				want, frames, tolerance = img, n, 1
			}
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
	case showFinalBox:
		box, n, err := finalBox(log)
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			want, frames = boxImage(size.X, size.Y, box), n
		}
	}
	if r.scale > 1 && want != nil {
		want = enlarge(want, r.scale)
	}
	switch r.rotate {
	case 90:
		want = turnCounterClockwise(want)
	case 180:
		want = turnHalf(want)
	}
	if want != nil {
		if err := compareScreendumpWithin(res, r.tag, want, tolerance); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for i := 1; i <= r.mid; i++ {
		name := fmt.Sprintf("%s-mid%d", r.tag, i)
		img, err := res.Screendump(name)
		if err == nil {
			err = wholeBoxFrame(img)
		}
		if err != nil {
			problems = append(problems, name+": "+err.Error())
		}
	}
	if statsErr == nil {
		problems = append(problems, r.judgePath(st, screen, evs)...)
		if r.damageRule && frames > 0 {
			buffers, err := outputBuffers(evs)
			if err != nil {
				problems = append(problems, err.Error())
			} else {
				per, ratio, err := copyPerFrame(st, screen, 1+buffers, frames)
				if env != nil && env.Log != nil {
					env.Log.Info("damage rule", "row", row, "run", r.tag, "copied_bytes", st.CopiedBytes,
						"full_copies", 1+buffers, "frames", frames, "bytes_per_frame", int64(per), "boxes_per_frame", fmt.Sprintf("%.3f", ratio))
				}
				if err != nil {
					problems = append(problems, err.Error())
				}
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// judgePath checks the stats against the claimed buffer path.
func (r vitrineRun) judgePath(st vitrineStats, screen image.Point, evs []logEvent) []string {
	var problems []string
	switch r.path {
	case scanoutPath:
		clear := int64(screen.X) * int64(screen.Y) * 4
		if st.Scanout == 0 || st.Composited != 0 {
			problems = append(problems, fmt.Sprintf("stats scanout=%d composited=%d, want every frame scanned out", st.Scanout, st.Composited))
		}
		if st.CopiedBytes != clear {
			problems = append(problems, fmt.Sprintf("copied_bytes=%d, want %d (only the initial clear of %dx%d)", st.CopiedBytes, clear, screen.X, screen.Y))
		}
	case copyPath:
		if st.Scanout != 0 || st.Composited == 0 {
			problems = append(problems, fmt.Sprintf("stats scanout=%d composited=%d, want every frame composited", st.Scanout, st.Composited))
		}
	}
	if r.refusal != "" {
		if countEvents(evs, "scanout.refused", "step", "import", "errno", r.refusal) == 0 {
			problems = append(problems, fmt.Sprintf("no scanout.refused event with step=import errno=%s", r.refusal))
		}
	}
	return problems
}

// failLines are what the guest script's fail function printed.
var failLines = regexp.MustCompile(`(?m)^FAIL: .*$`)

// outputBuffers is how many framebuffers vitrine composites into, from
// its output.on event: each is filled whole once.
func outputBuffers(evs []logEvent) (int, error) {
	on := findEvents(evs, "output.on")
	if len(on) == 0 {
		return 0, fmt.Errorf("no output.on event in vitrine's log")
	}
	n, ok := on[0]["buffers"].(float64)
	if !ok {
		return 0, fmt.Errorf("vitrine's output.on event has no numeric buffers key: %v", on[0])
	}
	return int(n), nil
}

// nonFrameLines drops vitrine's per-frame and input-device records so a
// failure's excerpt shows what happened around them.
func nonFrameLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if e, ok := eventOf(l); ok && (e.Event() == "frame" || strings.HasPrefix(e.Event(), "input.")) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// probeScenario runs `vitrine probe --json` with every display and vgem
// and wants LAB.md's import matrix.
func probeScenario() Scenario {
	return Scenario{
		Name:         "kms-probe",
		Displays:     []string{"virtio", "bochs", "cirrus"},
		Render:       "vgem",
		NeedsVitrine: true,
		Command: `vitrine probe --json >/tmp/probe.json 2>/tmp/probe.err
echo "probe-exit=$?"
sed 's/^/probe-stderr| /' /tmp/probe.err
echo json:
cat /tmp/probe.json`,
		Check: func(_ *Env, res *Result, runErr error) error {
			if runErr != nil {
				return runErr
			}
			out := string(res.Output)
			if !strings.Contains(out, "probe-exit=0\n") {
				return fmt.Errorf("vitrine probe --json failed:\n%s", indent(tail(out, 15)))
			}
			return judgeProbe(out)
		},
	}
}

// consoleRestoreScenario writes a line on the cirrus console, runs
// vitrine with the quadrants, stops it with SIGTERM and wants the
// console back as it was.
func consoleRestoreScenario() Scenario {
	s := vitrineScenario("kms-sigterm-console", []string{"cirrus"}, "", vitrineRun{
		tag: "quadrants", client: "shm-client --pattern quadrants --fullscreen", want: showQuadrants,
		beforeStart: `echo 0 > /sys/class/graphics/fbcon/cursor_blink
printf '\033[2J\033[1;1HHELLO CONSOLE: vitrine-lab kms-sigterm-console\n' > /dev/tty1
sleep 1
lab-screendump console-before >/dev/null || fail 'screendump console-before'
`,
		afterExit: `sleep 1
lab-screendump console-after >/dev/null || fail 'screendump console-after'
`,
	})
	runs := s.Check
	s.Check = func(env *Env, res *Result, runErr error) error {
		var problems []string
		if err := runs(env, res, runErr); err != nil {
			problems = append(problems, err.Error())
		}
		if runErr == nil {
			before, err1 := res.Screendump("console-before")
			after, err2 := res.Screendump("console-after")
			switch {
			case err1 != nil:
				problems = append(problems, err1.Error())
			case err2 != nil:
				problems = append(problems, err2.Error())
			default:
				if size, err := firstFrameSize(strings.Join(tagged(string(res.Output), "quadrants"), "\n"), ""); err == nil {
					// The console must really have been something else
					// than vitrine's frame, or "restored" proves nothing.
					if err := differsFromScreendump(res, "console-before", quadrantsImage(size.X, size.Y, quadrantColors)); err != nil {
						problems = append(problems, err.Error())
					}
				}
				if err := consoleHasText(before); err != nil {
					problems = append(problems, err.Error())
				}
				if err := consoleRestored(before, after); err != nil {
					problems = append(problems, err.Error())
				}
			}
		}
		if len(problems) > 0 {
			return errors.New(strings.Join(problems, "\n"))
		}
		return nil
	}
	return s
}
