package lab

import (
	"fmt"
	"image"
	"strings"
	"time"
)

// randrSizes: the lab's virtio display starts at 1280x800 and lists
// 1024x768 among its standard modes.
const (
	randrW, randrH   = 1280, 800
	randrW2, randrH2 = 1024, 768
)

// randrScenario proves that wlr-randr changes a KMS output while it
// runs: Debian's wlr-randr lists Virtual-1 with its modes, switches it to
// 1024x768, turns it 90°, and puts it back, with the quadrants client
// redrawn fullscreen each time and the screendump exact. It runs once on
// atomic KMS and once on legacy (SETCRTC), in one boot.
func randrScenario() Scenario {
	return Scenario{
		Name:         "vitrine-randr-modeset",
		HostRoot:     true,
		NeedsVitrine: true,
		Timeout:      3 * time.Minute,
		Command:      randrCommand(),
		Check:        randrCheck,
	}
}

func randrCommand() string {
	var b strings.Builder
	b.WriteString(hostClientShell)
	for _, run := range []struct{ tag, flags string }{{"atomic", ""}, {"legacy", "--legacy-kms"}} {
		fmt.Fprintf(&b, `rm -f $log
vitrine --backend drm --session direct --log-format json --socket wayland-randr --privileged-clients wlr-randr %[2]s -- \
	shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
export WAYLAND_DISPLAY=wayland-randr
await '^first-frame ' 1 '%[1]s: the first frame'
sleep 0.5
lab-screendump %[1]s-start >/dev/null || fail 'screendump %[1]s-start'
wlr-randr >/tmp/list 2>&1 || fail "%[1]s: wlr-randr lists nothing: $(cat /tmp/list)"
sed 's/^/%[1]s-list| /' /tmp/list
wlr-randr --output Virtual-1 --mode %[3]dx%[4]d >/tmp/set 2>&1 || fail "%[1]s: wlr-randr --mode: $(cat /tmp/set)"
awaitev $log output.modeset 1 '%[1]s: the output relit at %[3]dx%[4]d'
await '^resized %[3]dx%[4]d$' 1 '%[1]s: the client redrawn at %[3]dx%[4]d'
sleep 0.5
lab-screendump %[1]s-mode >/dev/null || fail 'screendump %[1]s-mode'
wlr-randr --output Virtual-1 --transform 90 >/tmp/set 2>&1 || fail "%[1]s: wlr-randr --transform: $(cat /tmp/set)"
awaitev $log output.modeset 2 '%[1]s: the output relit turned'
await '^resized %[4]dx%[3]d$' 1 '%[1]s: the client redrawn at %[4]dx%[3]d'
sleep 0.5
lab-screendump %[1]s-turned >/dev/null || fail 'screendump %[1]s-turned'
wlr-randr --output Virtual-1 --mode %[5]dx%[6]d --transform normal >/tmp/set 2>&1 || fail "%[1]s: wlr-randr back: $(cat /tmp/set)"
await '^resized %[5]dx%[6]d$' 1 '%[1]s: the client redrawn at %[5]dx%[6]d'
sleep 0.5
lab-screendump %[1]s-back >/dev/null || fail 'screendump %[1]s-back'
# A mode the display does not list is refused and changes nothing.
if wlr-randr --output Virtual-1 --custom-mode 1234x567 >/tmp/set 2>&1; then fail "%[1]s: a custom mode was accepted"; fi
sed 's/^/%[1]s-refused| /' /tmp/set
kill $pid
wait $pid
echo "%[1]s-exit=$?"
sed 's/^/%[1]s| /' $log
`, run.tag, run.flags, randrW2, randrH2, randrW, randrH)
	}
	return b.String()
}

// randrCheck judges randrScenario's run.
func randrCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out, problems := guestOutput(res)
	problems = append(problems, failLines.FindAllString(out, -1)...)
	quad := quadrantsImage(randrW, randrH, quadrantColors)
	small := quadrantsImage(randrW2, randrH2, quadrantColors)
	// The client draws its quadrants upright at the turned size; the
	// framebuffer holds them turned counter-clockwise.
	turned := turnCounterClockwise(quadrantsImage(randrH2, randrW2, quadrantColors))
	for _, tag := range []string{"atomic", "legacy"} {
		if !strings.Contains(out, "\n"+tag+"-exit=0\n") {
			problems = append(problems, tag+": vitrine did not exit 0 on SIGTERM")
		}
		list := strings.Join(tagged(out, tag+"-list"), "\n")
		for _, want := range []string{"Virtual-1", fmt.Sprintf("%dx%d px", randrW, randrH), fmt.Sprintf("%dx%d px", randrW2, randrH2)} {
			if !strings.Contains(list, want) {
				problems = append(problems, fmt.Sprintf("%s: wlr-randr's listing has no %q", tag, want))
			}
		}
		for name, want := range map[string]image.Image{"start": quad, "mode": small, "turned": turned, "back": quad} {
			if err := compareScreendump(res, tag+"-"+name, want); err != nil {
				problems = append(problems, tag+": "+err.Error())
			}
		}
		evs := vitrineEvents(tagged(out, tag))
		modesets := findEvents(evs, "output.modeset")
		// The way back sets the mode (turned: 800x1280), then the
		// transform.
		wantSeq := []string{fmt.Sprintf("%dx%d", randrW2, randrH2), fmt.Sprintf("%dx%d", randrH2, randrW2), fmt.Sprintf("%dx%d", randrH, randrW), fmt.Sprintf("%dx%d", randrW, randrH)}
		var got []string
		for _, e := range modesets {
			got = append(got, e.Str("size"))
		}
		if strings.Join(got, " ") != strings.Join(wantSeq, " ") {
			problems = append(problems, fmt.Sprintf("%s: output.modeset sizes %v, want %v", tag, got, wantSeq))
		}
		if n := countEvents(evs, "output.configured"); n != 3 {
			problems = append(problems, fmt.Sprintf("%s: %d output.configured events, want 3 (mode, transform, back)", tag, n))
		}
		if errs := errorEvents(evs); len(errs) > 0 {
			problems = append(problems, tag+": errors logged: "+strings.Join(errs, "; "))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 30)))
	}
	return nil
}
