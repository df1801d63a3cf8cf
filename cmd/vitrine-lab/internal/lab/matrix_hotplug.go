package lab

import (
	"errors"
	"fmt"
	"image"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hotplugScenarios prove that connectors coming and going on a real
// driver add and remove vitrine's outputs and their wl_output globals.
func hotplugScenarios() []Scenario {
	return []Scenario{hotplugScenario(), onlyOutputScenario(), hotplugVTScenario()}
}

// hotplugCycles is how many times the hotplug row plugs and unplugs the
// second monitor; the fd count after the first and the last cycle must
// be equal.
const hotplugCycles = 3

// Sizes in the hotplug row: head 0 keeps virtio-gpu's default; head 1
// gets a size no other row uses, so a stale or default mode shows.
var (
	hotplugHead0 = image.Pt(1280, 800)
	hotplugHead1 = image.Pt(1024, 768)
)

// hotplugScenario plugs a monitor into the second head of a virtio-gpu
// (the host's request reaches the guest as a display change event and
// the driver's HOTPLUG=1 uevent, as a real plug would), then pulls it
// out, hotplugCycles times, with shm-client --watch-outputs fullscreen
// on the first head printing the wl_output globals it sees come and go
// and the outputs its window enters and leaves. On the first plug a
// second client goes fullscreen on the new output: the second head's
// screendump must be its quadrants at the new mode, and when the
// monitor goes, that client must move to the first head and redraw at
// its size. Then the first head's monitor is pulled while it is the
// only one: vitrine must survive having no display, keep the clients'
// wl_output (a placeholder stands in: they see no change at all) and
// show them again when it comes back. Last, the first monitor goes while the
// second is there (both windows move to the second and redraw at its
// size), comes back, and the second goes (they return). Throughout,
// the first head's screendump is the quadrants pixel for pixel.
func hotplugScenario() Scenario {
	return Scenario{
		Name:         "kms-hotplug-virtio",
		Displays:     []string{"virtio-dual"},
		NeedsVitrine: true,
		Timeout:      3 * time.Minute,
		Command:      hotplugCommand,
		Check:        hotplugCheck,
	}
}

// hotplugFuncs are the hotplug rows' shell helpers: awaitin FILE PATTERN
// COUNT WHAT polls FILE until PATTERN occurs COUNT times (20 s at most)
// or vitrine died; fail ends the run with vitrine's log; now prints
// milliseconds since boot.
const hotplugFuncs = `log=/tmp/vitrine.log
fail() {
	echo "FAIL: $*"
	[ -n "${second:-}" ] && kill $second 2>/dev/null
	[ -n "${pid:-}" ] && kill $pid 2>/dev/null
	grep -vF '"event":"frame"' $log | tail -n 60 | sed 's/^/vitrine| /'
	[ -f /tmp/second.log ] && sed 's/^/second| /' /tmp/second.log
	exit 1
}
awaitin() {
	i=0
	while [ "$(grep -c -- "$2" $1)" -lt "$3" ]; do
		kill -0 $pid 2>/dev/null || fail "vitrine exited while waiting for $4"
		i=$((i+1))
		[ $i -lt 400 ] || fail "no $4 within 20s (want $3 lines matching '$2' in $1, have $(grep -c -- "$2" $1))"
		sleep 0.05
	done
}
# busybox date has no %N; /proc/uptime counts in hundredths.
now() {
	read u _ </proc/uptime
	echo $(( ${u%.*} * 1000 + 1${u#*.} * 10 - 1000 ))
}
`

// hotplugShell starts a root (--session none) hotplug row's script.
const hotplugShell = `export XDG_RUNTIME_DIR=/tmp/xdg
mkdir -p -m 700 $XDG_RUNTIME_DIR
` + hotplugFuncs + eventShell

var hotplugCommand = hotplugShell + fmt.Sprintf(`vitrine --backend drm --session direct --log-level debug --log-format json --socket wayland-hp -- shm-client --pattern quadrants --fullscreen --watch-outputs >$log 2>&1 &
pid=$!
awaitin $log '^first-frame ' 1 'the first frame'
awaitin $log '^output-added Virtual-1 ' 1 'the client seeing Virtual-1'
sleep %[1]s
lab-screendump start >/dev/null || fail "screendump start"
c=1
while [ $c -le %[2]d ]; do
	t0=$(now)
	vitrine-lab guest-head virtio-dual:1 %[3]dx%[4]d || fail "plug head 1"
	t1=$(now)
	awaitev $log output.added $c "vitrine adding Virtual-2 (plug $c)" '"name":"Virtual-2"'
	t2=$(now)
	awaitin $log '^output-added Virtual-2 ' $c "the client seeing Virtual-2 (plug $c)"
	t3=$(now)
	echo "plug $c request-ms=$((t1-t0)) vitrine-ms=$((t2-t0)) client-ms=$((t3-t0))"
	if [ $c = 1 ]; then
		WAYLAND_DISPLAY=wayland-hp shm-client --pattern quadrants --output Virtual-2 >/tmp/second.log 2>&1 &
		second=$!
		awaitin /tmp/second.log '^first-frame ' 1 'the second client on Virtual-2'
		sleep %[1]s
		lab-screendump head1 virtio-dual:1 >/dev/null || fail "screendump head1"
		lab-screendump plugged >/dev/null || fail "screendump plugged"
	fi
	t0=$(now)
	vitrine-lab guest-head virtio-dual:1 off || fail "unplug head 1"
	t1=$(now)
	awaitev $log output.off $c "vitrine removing Virtual-2 (unplug $c)" '"output":"Virtual-2"'
	t2=$(now)
	awaitin $log '^output-removed Virtual-2$' $c "the client seeing Virtual-2 go (unplug $c)"
	t3=$(now)
	echo "unplug $c request-ms=$((t1-t0)) vitrine-ms=$((t2-t0)) client-ms=$((t3-t0))"
	if [ $c = 1 ]; then
		awaitin /tmp/second.log '^resized ' 1 'the second client redrawn on Virtual-1'
		sleep %[1]s
		lab-screendump unplugged >/dev/null || fail "screendump unplugged"
		fds1=$(ls /proc/$pid/fd | wc -l)
	fi
	c=$((c+1))
done
fds=$(ls /proc/$pid/fd | wc -l)
echo "fds cycle1=$fds1 cycle%[2]d=$fds"
ls -l /proc/$pid/fd | sed 's/^/fds| /'
# QEMU forwards a size only when it differs from the last one asked
# for, so head 0 is first given the size it already has.
vitrine-lab guest-head virtio-dual:0 %[5]dx%[6]d || fail "head 0 size"
t0=$(now)
vitrine-lab guest-head virtio-dual:0 off || fail "unplug head 0"
awaitev $log output.off 1 "vitrine removing Virtual-1" '"output":"Virtual-1"'
awaitev $log output.placeholder 1 "a placeholder standing in for Virtual-1" '"output":"Virtual-1"'
echo "unplug-only request-to-placeholder-ms=$(( $(now) - t0 ))"
sleep 1
kill -0 $pid 2>/dev/null || fail "vitrine exited with no output left"
lab-screendump gone >/dev/null || fail "screendump gone"
frames=$(matchev $log frame)
t0=$(now)
vitrine-lab guest-head virtio-dual:0 %[5]dx%[6]d || fail "replug head 0"
awaitev $log output.added 2 "vitrine adding Virtual-1 again" '"name":"Virtual-1"'
awaitev $log frame $((frames + 1)) "a frame on Virtual-1 again"
echo "replug-only request-to-frame-ms=$(( $(now) - t0 ))"
sleep %[1]s
lab-screendump back >/dev/null || fail "screendump back"
# The first monitor goes while the second stays: both windows move to
# it and redraw at its size; the first comes back (to the right of the
# second, windows staying put), then the second goes and the windows
# return to the first.
c=$((%[2]d + 1))
vitrine-lab guest-head virtio-dual:1 %[3]dx%[4]d || fail "plug head 1"
awaitev $log output.added $c "vitrine adding Virtual-2 (plug $c)" '"name":"Virtual-2"'
awaitin $log '^output-added Virtual-2 ' $c "the client seeing Virtual-2 (plug $c)"
vitrine-lab guest-head virtio-dual:0 off || fail "unplug head 0"
awaitev $log output.off 2 "vitrine removing Virtual-1 while Virtual-2 stays" '"output":"Virtual-1"'
awaitin /tmp/second.log '^resized %[3]dx%[4]d$' 1 "the second client redrawn on Virtual-2"
sleep %[1]s
lab-screendump moved virtio-dual:1 >/dev/null || fail "screendump moved"
vitrine-lab guest-head virtio-dual:0 %[5]dx%[6]d || fail "replug head 0"
awaitev $log output.added 3 "vitrine adding Virtual-1 beside Virtual-2" '"name":"Virtual-1"'
awaitin $log '^output-added Virtual-1 ' 2 "the client seeing Virtual-1 beside Virtual-2"
vitrine-lab guest-head virtio-dual:1 off || fail "unplug head 1"
awaitev $log output.off $c "vitrine removing Virtual-2 (unplug $c)" '"output":"Virtual-2"'
awaitin /tmp/second.log '^resized %[5]dx%[6]d$' 2 "the second client back on Virtual-1"
sleep %[1]s
lab-screendump final >/dev/null || fail "screendump final"
# The first client has been hidden under the second since the first
# unplug: vitrine holds back the frame callbacks of hidden surfaces, so
# it has not shown a frame of its new sizes yet. Uncovered, it must.
kill $second
wait $second
second=
awaitin $log '^resized %[5]dx%[6]d$' 1 "the first client redrawn once uncovered"
sleep %[1]s
lab-screendump uncovered >/dev/null || fail "screendump uncovered"
kill -TERM $pid
wait $pid
echo "vitrine-exit=$?"
grep -vF '"event":"frame"' $log | sed 's/^/vitrine| /'
sed 's/^/second| /' /tmp/second.log
`, settle, hotplugCycles, hotplugHead1.X, hotplugHead1.Y, hotplugHead0.X, hotplugHead0.Y)

// hotplugCheck judges hotplugScenario's run.
func hotplugCheck(env *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out := string(res.Output)
	if t, err := hotplugTimings(out); err == nil && env != nil && env.Log != nil {
		env.Log.Info("hotplug: slowest delays from the host's request (ms)",
			"plug_vitrine", t["plug"][0], "plug_client", t["plug"][1],
			"unplug_vitrine", t["unplug"][0], "unplug_client", t["unplug"][1])
	}
	problems := judgeHotplugOutput(out, hotplugCycles)
	if res.ExitCode != 0 {
		problems = append(problems, fmt.Sprintf("guest script exited %d", res.ExitCode))
	}
	head0 := quadrantsImage(hotplugHead0.X, hotplugHead0.Y, quadrantColors)
	for _, name := range []string{"start", "plugged", "unplugged", "back", "final", "uncovered"} {
		if err := compareScreendump(res, name, head0); err != nil {
			problems = append(problems, name+": "+err.Error())
		}
	}
	head1 := quadrantsImage(hotplugHead1.X, hotplugHead1.Y, quadrantColors)
	for _, name := range []string{"head1", "moved"} {
		if err := compareScreendump(res, name, head1); err != nil {
			problems = append(problems, name+" (Virtual-2): "+err.Error())
		}
	}
	// With no monitor QEMU shows something else than vitrine's last
	// frame, or "back" would prove no repaint.
	if err := differsFromScreendump(res, "gone", head0); err != nil {
		problems = append(problems, "gone: "+err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(nonFrameLines(out), 40)))
	}
	return nil
}

var (
	hotplugFDs    = regexp.MustCompile(`(?m)^fds cycle1=(\d+) cycle\d+=(\d+)$`)
	hotplugTiming = regexp.MustCompile(`(?m)^(plug|unplug) (\d+) request-ms=(\d+) vitrine-ms=(\d+) client-ms=(\d+)$`)
)

// judgeHotplugOutput checks the guest script's text: vitrine's log (as
// "vitrine| " lines), both clients' lines and the script's own.
func judgeHotplugOutput(out string, cycles int) []string {
	var problems []string
	problems = append(problems, failLines.FindAllString(out, -1)...)
	if !regexp.MustCompile(`(?m)^vitrine-exit=0$`).MatchString(out) {
		problems = append(problems, "vitrine did not exit 0 on SIGTERM")
	}
	vlog := tagged(out, "vitrine")
	evs := vitrineEvents(vlog)
	problems = append(problems, errorEvents(evs)...)
	for _, l := range vlog {
		if strings.Contains(l, "panic:") {
			problems = append(problems, "vitrine logged: "+l)
		}
	}
	// The client's lines are in vitrine's log (its child's output).
	var client []string
	for _, l := range vlog {
		if strings.HasPrefix(l, "output-") || strings.HasPrefix(l, "surface-") {
			client = append(client, l)
		}
	}
	head0 := fmt.Sprintf("output-added Virtual-1 %dx%d", hotplugHead0.X, hotplugHead0.Y)
	head1 := fmt.Sprintf("output-added Virtual-2 %dx%d", hotplugHead1.X, hotplugHead1.Y)
	want := []string{head0, "surface-enter Virtual-1"}
	for range cycles {
		want = append(want, head1, "output-removed Virtual-2")
	}
	// Virtual-1 alone goes and comes back: a placeholder stands in, so
	// the client sees nothing at all (same wl_output, same size).
	// Virtual-1 goes while Virtual-2 is there, comes back, then
	// Virtual-2 goes.
	want = append(want, head1, "surface-leave Virtual-1", "output-removed Virtual-1", "surface-enter Virtual-2",
		head0, "surface-leave Virtual-2", "output-removed Virtual-2", "surface-enter Virtual-1")
	if strings.Join(client, "\n") != strings.Join(want, "\n") {
		problems = append(problems, fmt.Sprintf("the client saw\n%s\nwant\n%s", indent(strings.Join(client, "\n")), indent(strings.Join(want, "\n"))))
	}
	// Virtual-2 is plugged once more than the cycles, and is unplugged
	// as often.
	if n := countEvents(evs, "output.added", "name", "Virtual-2"); n != cycles+1 {
		problems = append(problems, fmt.Sprintf("vitrine added Virtual-2 %d times, want %d", n, cycles+1))
	}
	if n := countEvents(evs, "output.on", "output", "Virtual-2"); n != cycles+1 {
		problems = append(problems, fmt.Sprintf("vitrine lit Virtual-2 %d times, want %d", n, cycles+1))
	}
	if n := countEvents(evs, "output.off", "output", "Virtual-2"); n != cycles+1 {
		problems = append(problems, fmt.Sprintf("vitrine switched Virtual-2 off %d times, want %d", n, cycles+1))
	}
	// Virtual-1: lit at start and after each of its two returns, off
	// when unplugged (twice) and at exit.
	if n := countEvents(evs, "output.added", "name", "Virtual-1"); n != 3 {
		problems = append(problems, fmt.Sprintf("vitrine added Virtual-1 %d times, want 3", n))
	}
	if n := countEvents(evs, "output.placeholder", "output", "Virtual-1"); n != 1 {
		problems = append(problems, fmt.Sprintf("vitrine stood a placeholder in for Virtual-1 %d times, want 1 (when it was alone and went)", n))
	}
	if n := countEvents(evs, "output.added", "name", "Virtual-1", "replaces_placeholder", "Virtual-1"); n != 1 {
		problems = append(problems, fmt.Sprintf("Virtual-1 took the placeholder's place %d times, want 1", n))
	}
	if n := countEvents(evs, "output.off", "output", "Virtual-1"); n != 3 {
		problems = append(problems, fmt.Sprintf("vitrine switched Virtual-1 off %d times, want 3 (two unplugs, exit)", n))
	}
	if countEvents(evs, "stats", "output", "Virtual-1") != 1 {
		problems = append(problems, "no stats line for Virtual-1: vitrine did not exit cleanly")
	}
	// The second client, fullscreen on Virtual-2, moves to Virtual-1
	// when Virtual-2 goes, and redraws at its size.
	second := tagged(out, "second")
	if !slices.Contains(second, "surface-enter Virtual-2") {
		problems = append(problems, "the second client's window never entered Virtual-2")
	}
	on0 := fmt.Sprintf("resized %dx%d", hotplugHead0.X, hotplugHead0.Y)
	on1 := fmt.Sprintf("resized %dx%d", hotplugHead1.X, hotplugHead1.Y)
	if err := subsequence(second, []string{
		fmt.Sprintf("first-frame %dx%d", hotplugHead1.X, hotplugHead1.Y),
		"surface-leave Virtual-2", "output-removed Virtual-2", "surface-enter Virtual-1", on0,
		"surface-leave Virtual-1", "output-removed Virtual-1", "surface-enter Virtual-2", on1,
		"surface-leave Virtual-2", "output-removed Virtual-2", "surface-enter Virtual-1", on0,
	}); err != nil {
		problems = append(problems, "the second client (shm-client --output Virtual-2): "+err.Error())
	}
	// The first client, hidden under the second from the first unplug
	// on, shows its frames once uncovered: the one at Virtual-2's size
	// it drew while hidden, then one at Virtual-1's.
	if err := subsequence(vlog, []string{fmt.Sprintf("first-frame %dx%d", hotplugHead0.X, hotplugHead0.Y), on1, on0}); err != nil {
		problems = append(problems, "the first client: "+err.Error())
	}
	if m := hotplugFDs.FindStringSubmatch(out); m == nil {
		problems = append(problems, "no fd counts")
	} else if m[1] != m[2] {
		problems = append(problems, fmt.Sprintf("vitrine's open fds went from %s after the first hotplug cycle to %s after the last", m[1], m[2]))
	}
	if n := len(hotplugTiming.FindAllString(out, -1)); n != 2*cycles {
		problems = append(problems, fmt.Sprintf("%d plug/unplug timing lines, want %d", n, 2*cycles))
	}
	return problems
}

// subsequence wants each of want as a whole line, in this order.
func subsequence(lines, want []string) error {
	i := 0
	for _, l := range lines {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) {
		return fmt.Errorf("printed %q, without %q after %q", lines, want[i], want[:i])
	}
	return nil
}

// hotplugTimings returns the slowest request-to-vitrine and
// request-to-client delays (ms) of the plugs and unplugs, for the report.
func hotplugTimings(out string) (map[string][2]int, error) {
	worst := map[string][2]int{}
	for _, m := range hotplugTiming.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(m[4])
		c, _ := strconv.Atoi(m[5])
		w := worst[m[1]]
		worst[m[1]] = [2]int{max(w[0], v), max(w[1], c)}
	}
	if len(worst) == 0 {
		return nil, errors.New("no plug/unplug timing lines")
	}
	return worst, nil
}

// onlyOutputCards are the single-connector drivers of the only-output
// row; they are card1 and card2, after the virtio-dual doorbell.
var onlyOutputCards = []string{"bochs", "cirrus"}

// onlyOutputScenario takes the only connector of bochs and of cirrus
// away and gives it back, with vitrine and shm-client --watch-outputs
// fullscreen on it: vitrine must switch its only output off, keep
// running, and show the client's quadrants again, pixel-exact, when the
// connector returns; meanwhile a placeholder keeps the client's
// wl_output, so the client sees no output go or come (only a new mode
// if the connector comes back with another). Then cirrus boots with
// its connector off: the client must start on the placeholder and
// show, once the connector is on, fullscreen at its mode.
//
// These drivers have no hotplug interrupt, QEMU cannot unplug their
// monitor, and their probe helpers do not poll: the connector is forced
// off and back to detect through its sysfs status (the driver's probe
// then reports it), but nothing in the kernel sends a HOTPLUG=1 uevent
// for that, and a synthetic uevent written to the card's uevent file
// carries its keys as SYNTH_ARG_*, never HOTPLUG=1. So the row rings a
// doorbell: a monitor plugged into or pulled from the virtio-dual's
// second head (card0) makes the kernel send a real HOTPLUG=1 uevent,
// on which vitrine re-reads the connectors of the card it drives, as it
// does on every DRM hotplug uevent.
func onlyOutputScenario() Scenario {
	var b strings.Builder
	b.WriteString(hotplugShell)
	b.WriteString(`# doorbell: a real HOTPLUG=1 uevent, from card0's second head.
bell=off
doorbell() {
	if [ $bell = off ]; then bell=1024x768; else bell=off; fi
	vitrine-lab guest-head virtio-dual:1 $bell || fail "doorbell (virtio-dual:1 $bell)"
}
`)
	for i, d := range onlyOutputCards {
		fmt.Fprintf(&b, `tag=%[2]s
card=card%[1]d
conn=$(ls -d /sys/class/drm/$card-* | head -n 1)
name=${conn##*/$card-}
echo "$tag-connector=$name"
log=/tmp/$tag.log
vitrine --backend drm --session direct --drm-device /dev/dri/$card --log-level debug --log-format json --socket wayland-$tag -- shm-client --pattern quadrants --fullscreen --watch-outputs >$log 2>&1 &
pid=$!
awaitin $log '^first-frame ' 1 "the first frame ($tag)"
awaitin $log "^output-added $name " 1 "the client seeing $name ($tag)"
sleep %[3]s
lab-screendump $tag-start $tag >/dev/null || fail "screendump $tag-start"
t0=$(now)
echo off >$conn/status || fail "force $name off"
doorbell
awaitev $log output.off 1 "vitrine removing $name ($tag)" "\"output\":\"$name\""
awaitev $log output.placeholder 1 "a placeholder standing in for $name ($tag)" "\"output\":\"$name\""
echo "$tag-off-ms=$(( $(now) - t0 ))"
sleep 1
kill -0 $pid 2>/dev/null || fail "vitrine exited with no output left ($tag)"
lab-screendump $tag-gone $tag >/dev/null || fail "screendump $tag-gone"
frames=$(matchev $log frame)
t0=$(now)
echo detect >$conn/status || fail "$name back to detect"
doorbell
awaitev $log output.added 2 "vitrine adding $name again ($tag)" "\"name\":\"$name\""
awaitev $log frame $((frames + 1)) "a frame on $name again ($tag)"
echo "$tag-back-ms=$(( $(now) - t0 ))"
sleep %[3]s
lab-screendump $tag-back $tag >/dev/null || fail "screendump $tag-back"
kill -TERM $pid
wait $pid
echo "$tag-exit=$?"
grep -vF '"event":"frame"' $log | sed "s/^/$tag| /"
`, i+1, d, settle)
	}
	// cirrus (card2) again, its connector off before vitrine starts: a
	// kiosk booted before its screen.
	fmt.Fprintf(&b, `tag=%[1]s
card=card2
conn=$(ls -d /sys/class/drm/$card-* | head -n 1)
name=${conn##*/$card-}
log=/tmp/$tag.log
echo off >$conn/status || fail "force $name off before the start"
vitrine --backend drm --session direct --drm-device /dev/dri/$card --log-level debug --log-format json --socket wayland-$tag -- shm-client --pattern quadrants --fullscreen --watch-outputs >$log 2>&1 &
pid=$!
awaitev $log output.placeholder 1 "a placeholder for $name ($tag)" "\"output\":\"$name\""
awaitin $log '^first-frame ' 1 "the client's first frame on the placeholder ($tag)"
sleep 1
lab-screendump $tag-dark cirrus >/dev/null || fail "screendump $tag-dark"
frames=$(matchev $log frame)
t0=$(now)
echo detect >$conn/status || fail "$name back to detect"
doorbell
awaitev $log output.added 1 "vitrine lighting $name ($tag)" "\"name\":\"$name\""
awaitev $log frame $((frames + 1)) "a frame on $name ($tag)"
echo "$tag-on-ms=$(( $(now) - t0 ))"
sleep %[2]s
lab-screendump $tag-on cirrus >/dev/null || fail "screendump $tag-on"
kill -TERM $pid
wait $pid
echo "$tag-exit=$?"
grep -vF '"event":"frame"' $log | sed "s/^/$tag| /"
`, onlyOutputBootTag, settle)
	return Scenario{
		Name:         "kms-hotplug-only-output",
		Displays:     append([]string{"virtio-dual"}, onlyOutputCards...),
		NeedsVitrine: true,
		Timeout:      2 * time.Minute,
		Command:      b.String(),
		Check:        onlyOutputCheck,
	}
}

// onlyOutputCheck judges onlyOutputScenario's run.
func onlyOutputCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out := string(res.Output)
	var problems []string
	if res.ExitCode != 0 {
		problems = append(problems, fmt.Sprintf("guest script exited %d", res.ExitCode))
	}
	problems = append(problems, failLines.FindAllString(out, -1)...)
	if err := judgeBootWithoutDisplay(res, out); err != nil {
		problems = append(problems, onlyOutputBootTag+": "+err.Error())
	}
	for _, tag := range onlyOutputCards {
		start, back, err := judgeOnlyOutput(out, tag)
		if err != nil {
			problems = append(problems, tag+": "+err.Error())
		}
		if start == (image.Point{}) {
			continue
		}
		want := quadrantsImage(start.X, start.Y, quadrantColors)
		if err := compareScreendump(res, tag+"-start", want); err != nil {
			problems = append(problems, err.Error())
		}
		// QEMU's bochs-display keeps its last picture when the scanout
		// is switched off, so only cirrus proves that the screen showed
		// something else in between (and that "back" is a repaint).
		if tag == "cirrus" {
			if err := differsFromScreendump(res, tag+"-gone", want); err != nil {
				problems = append(problems, err.Error())
			}
		}
		if back != (image.Point{}) {
			if err := compareScreendump(res, tag+"-back", quadrantsImage(back.X, back.Y, quadrantColors)); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(nonFrameLines(out), 40)))
	}
	return nil
}

// onlyOutputBootTag tags the only-output row's start with the
// connector off.
const onlyOutputBootTag = "cirrus-boot"

// judgeBootWithoutDisplay checks the start with cirrus's connector off:
// the client saw one output, the placeholder (PlaceholderMode's
// 1920x1080: a forced-off connector reports no modes), drew its first
// frame there, and, once the connector was on, was shown fullscreen at
// the connector's mode without seeing an output come or go.
func judgeBootWithoutDisplay(res *Result, out string) error {
	tag := onlyOutputBootTag
	var problems []string
	vlog := tagged(out, tag)
	joined := strings.Join(vlog, "\n")
	if !regexp.MustCompile(`(?m)^` + tag + `-exit=0$`).MatchString(out) {
		problems = append(problems, "vitrine did not exit 0 on SIGTERM")
	}
	evs := vitrineEvents(vlog)
	problems = append(problems, errorEvents(evs)...)
	ph := findEvents(evs, "output.placeholder")
	if len(ph) == 0 {
		return errors.New("no placeholder output at the start")
	}
	name := ph[0].Str("output")
	if w, h, _ := eventSize(ph[0]); w != 1920 || h != 1080 {
		problems = append(problems, fmt.Sprintf("placeholder %dx%d, want 1920x1080 (a forced-off connector reports no modes)", w, h))
	}
	if first, err := firstFrameSize(joined, ""); err != nil {
		problems = append(problems, err.Error())
	} else if first != image.Pt(1920, 1080) {
		problems = append(problems, fmt.Sprintf("first frame %dx%d on the placeholder, want 1920x1080", first.X, first.Y))
	}
	var client []string
	for _, l := range vlog {
		if strings.HasPrefix(l, "output-") || strings.HasPrefix(l, "surface-") {
			client = append(client, l)
		}
	}
	want := []string{"output-added " + name + " 1920x1080", "surface-enter " + name}
	if !slices.Equal(client, want) {
		problems = append(problems, fmt.Sprintf("the client saw\n%s\nwant\n%s", indent(strings.Join(client, "\n")), indent(strings.Join(want, "\n"))))
	}
	added := findEvents(evs, "output.added")
	if len(added) != 1 || !added[0].is("output.added", "name", name, "replaces_placeholder", name) {
		problems = append(problems, fmt.Sprintf("want one output.added event for %s replacing the placeholder, have %v", name, added))
	} else {
		w, h, _ := eventSize(added[0])
		if !slices.Contains(vlog, fmt.Sprintf("resized %dx%d", w, h)) {
			problems = append(problems, fmt.Sprintf("%s lit at %dx%d but the client never redrew at that size", name, w, h))
		}
		if err := compareScreendump(res, tag+"-on", quadrantsImage(w, h, quadrantColors)); err != nil {
			problems = append(problems, err.Error())
		}
		if err := differsFromScreendump(res, tag+"-dark", quadrantsImage(w, h, quadrantColors)); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// judgeOnlyOutput checks one card's run of the only-output row and
// returns the client's size before the connector went and after it
// came back. The mode may differ: bochs has lost its EDID by then and
// falls back to 1024x768.
func judgeOnlyOutput(out, tag string) (start, back image.Point, err error) {
	var problems []string
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(tag) + `-connector=(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		return start, back, errors.New("no connector name")
	}
	name := m[1]
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(tag) + `-exit=0$`).MatchString(out) {
		problems = append(problems, "vitrine did not exit 0 on SIGTERM")
	}
	vlog := tagged(out, tag)
	joined := strings.Join(vlog, "\n")
	evs := vitrineEvents(vlog)
	problems = append(problems, errorEvents(evs)...)
	if start, err = firstFrameSize(joined, ""); err != nil {
		return start, back, err
	}
	var client []string
	for _, l := range vlog {
		if strings.HasPrefix(l, "output-") || strings.HasPrefix(l, "surface-") {
			client = append(client, l)
		}
	}
	// A placeholder keeps the client's wl_output while the connector
	// is off: it sees the output once, and its window enter it once.
	want := []string{fmt.Sprintf("output-added %s %dx%d", name, start.X, start.Y), "surface-enter " + name}
	if !slices.Equal(client, want) {
		problems = append(problems, fmt.Sprintf("the client saw\n%s\nwant\n%s", indent(strings.Join(client, "\n")), indent(strings.Join(want, "\n"))))
	}
	if countEvents(evs, "output.placeholder", "output", name) == 0 {
		problems = append(problems, "no placeholder stood in for "+name)
	}
	if added := findEvents(evs, "output.added", "name", name, "replaces_placeholder", name); len(added) == 1 {
		back.X, back.Y, _ = eventSize(added[0])
	}
	// A connector back with another mode makes the client redraw at
	// the new size.
	if back != (image.Point{}) && back != start && !slices.Contains(vlog, fmt.Sprintf("resized %dx%d", back.X, back.Y)) {
		problems = append(problems, fmt.Sprintf("%s came back at %dx%d but the client never redrew at that size", name, back.X, back.Y))
	}
	if n := countEvents(evs, "output.added", "name", name); n != 2 {
		problems = append(problems, fmt.Sprintf("vitrine added %s %d times, want 2 (start, return)", name, n))
	}
	if n := countEvents(evs, "output.off", "output", name); n != 2 {
		problems = append(problems, fmt.Sprintf("vitrine switched %s off %d times, want 2 (forced off, exit)", name, n))
	}
	if countEvents(evs, "stats", "output", name) != 1 {
		problems = append(problems, "no stats line for "+name+": vitrine did not exit cleanly")
	}
	if len(problems) > 0 {
		return start, back, errors.New(strings.Join(problems, "\n"))
	}
	return start, back, nil
}
