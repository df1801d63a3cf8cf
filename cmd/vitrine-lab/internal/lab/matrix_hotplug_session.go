package lab

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hotplugVTScenario plugs a monitor into virtio-gpu's second head while
// VT 2 has the display, under a real logind session, and pulls it out
// the same way. vitrine, run by the autologin user with its devices
// from logind, has shm-client --watch-outputs fullscreen on Virtual-1.
// While the session is away vitrine cannot light anything (logind has
// taken DRM master), so on the hotplug uevent it must only say that it
// will rescan on return, and add nothing; on return it must add
// Virtual-2 before relighting the rest, the client must see the new
// wl_output, and a second client fullscreen on Virtual-2 must show its
// quadrants pixel for pixel on head 1. Then the reverse: away, head 1
// pulled, back: vitrine removes Virtual-2, the client sees the global
// go, the second client moves to Virtual-1 and redraws there; head 0's
// screendump is the quadrants pixel for pixel each time vitrine has the
// display, and something else while VT 2 has it.
func hotplugVTScenario() Scenario {
	return Scenario{
		Name:         "vitrine-hotplug-vt-logind",
		Displays:     []string{"virtio-dual"},
		Session:      SessionLogind,
		NeedsVitrine: true,
		UdevRules:    hotplugVTUnbindRules,
		// A systemd boot took up to 70s on a loaded host; the script
		// itself takes about 30s.
		Timeout: 4 * time.Minute,
		Command: hotplugVTCommand,
		Check:   hotplugVTCheck,
	}
}

// hotplugVTShell is hotplugFuncs (the session's login shell has its own
// XDG_RUNTIME_DIR) plus saw, and vt N (vtSwitchShell) switches VTs.
const hotplugVTShell = hotplugFuncs + `# saw FILE PATTERN COUNT: awaitin for 5 s that only reports, so a
# vitrine without the away line still shows what it does on return.
saw() {
	i=0
	while [ "$(grep -c -- "$2" $1)" -lt "$3" ]; do
		i=$((i+1))
		[ $i -lt 100 ] || return 1
		sleep 0.05
	done
}
`

var hotplugVTCommand = hotplugVTShell + vtSwitchShell + eventShell + fmt.Sprintf(`echo "user=$(id -un)"
vitrine --backend drm --log-level debug --log-format json --socket wayland-hp -- shm-client --pattern quadrants --fullscreen --watch-outputs >$log 2>&1 &
pid=$!
awaitin $log '^first-frame ' 1 'the first frame'
awaitin $log '^output-added Virtual-1 ' 1 'the client seeing Virtual-1'
echo "vitrine-user=$(ps -o user= -p $pid)"
sleep %[1]s
lab-screendump start >/dev/null || fail "screendump start"
away='"event":"hotplug.deferred"'
v2='"output":"Virtual-2"'
status=/sys/class/drm/card0-Virtual-2/status
echo "before status=$(cat $status)"
vt 2
awaitev $log session.active 1 'the pause (VT 2)' '"active":false'
lab-screendump away >/dev/null || fail "screendump away"
t0=$(now)
vitrine-lab guest-head virtio-dual:1 %[2]dx%[3]d || fail "plug head 1"
if saw $log "$away" 1; then
	echo "away-plug-ms=$(( $(now) - t0 ))"
else
	echo "away-plug: no away line within 5s"
fi
# Time for a wrong rescan while away to show in the counts.
sleep 1
echo "away-plug status=$(cat $status) vitrine-lit=$(matchev $log output.on "$v2") vitrine-added=$(matchev $log output.added '"name":"Virtual-2"') client-added=$(grep -c '^output-added Virtual-2 ' $log)"
t0=$(now)
vt 1
awaitev $log output.added 1 'vitrine adding Virtual-2 on return' '"name":"Virtual-2"'
t1=$(now)
awaitin $log '^output-added Virtual-2 ' 1 'the client seeing Virtual-2 on return'
t2=$(now)
awaitev $log session.active 1 'the resume' '"active":true'
echo "return-plug vitrine-ms=$((t1-t0)) client-ms=$((t2-t0))"
WAYLAND_DISPLAY=wayland-hp shm-client --pattern quadrants --output Virtual-2 >/tmp/second.log 2>&1 &
second=$!
awaitin /tmp/second.log '^first-frame ' 1 'the second client on Virtual-2'
sleep %[1]s
lab-screendump head1 virtio-dual:1 >/dev/null || fail "screendump head1"
lab-screendump plugged >/dev/null || fail "screendump plugged"
vt 2
awaitev $log session.active 2 'the second pause (VT 2)' '"active":false'
n=$(grep -c -- "$away" $log)
t0=$(now)
vitrine-lab guest-head virtio-dual:1 off || fail "unplug head 1"
if saw $log "$away" $((n + 1)); then
	echo "away-unplug-ms=$(( $(now) - t0 ))"
else
	echo "away-unplug: no away line within 5s"
fi
sleep 1
echo "away-unplug status=$(cat $status) vitrine-off=$(matchev $log output.off "$v2") client-removed=$(grep -c '^output-removed Virtual-2$' $log)"
t0=$(now)
vt 1
awaitev $log output.off 1 'vitrine removing Virtual-2 on return' "$v2"
t1=$(now)
awaitin $log '^output-removed Virtual-2$' 1 'the client seeing Virtual-2 go on return'
t2=$(now)
awaitev $log session.active 2 'the second resume' '"active":true'
echo "return-unplug vitrine-ms=$((t1-t0)) client-ms=$((t2-t0))"
awaitin /tmp/second.log '^resized %[4]dx%[5]d$' 1 'the second client redrawn on Virtual-1'
sleep %[1]s
lab-screendump unplugged >/dev/null || fail "screendump unplugged"
kill $second
wait $second
second=
kill -TERM $pid
wait $pid
echo "vitrine-exit=$?"
grep -vF '"event":"frame"' $log | sed 's/^/vitrine| /'
sed 's/^/second| /' /tmp/second.log
`, settle, hotplugHead1.X, hotplugHead1.Y, hotplugHead0.X, hotplugHead0.Y) + hotplugVTUnbindCommand

// hotplugVTCheck judges hotplugVTScenario's run.
func hotplugVTCheck(env *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out := string(res.Output)
	if env != nil && env.Log != nil {
		var args []any
		for _, k := range hotplugVTDelayNames {
			if v, ok := hotplugVTDelays(out)[k]; ok {
				args = append(args, k, v)
			}
		}
		if len(args) > 0 {
			env.Log.Info("hotplug across VT switches: delays (ms)", args...)
		}
	}
	problems := judgeHotplugVTOutput(out)
	problems = append(problems, judgeHotplugVTUnbind(env, res)...)
	if res.ExitCode != 0 {
		problems = append(problems, fmt.Sprintf("guest script exited %d", res.ExitCode))
	}
	head0 := quadrantsImage(hotplugHead0.X, hotplugHead0.Y, quadrantColors)
	for _, name := range []string{"start", "plugged", "unplugged"} {
		if err := compareScreendump(res, name, head0); err != nil {
			problems = append(problems, name+": "+err.Error())
		}
	}
	if err := compareScreendump(res, "head1", quadrantsImage(hotplugHead1.X, hotplugHead1.Y, quadrantColors)); err != nil {
		problems = append(problems, "head1 (Virtual-2): "+err.Error())
	}
	// VT 2 really had the display, so "plugged" is a repaint.
	if err := differsFromScreendump(res, "away", head0); err != nil {
		problems = append(problems, "away: "+err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(nonFrameLines(out), 40)))
	}
	return nil
}

// hotplugVTTiming is one of the script's delay lines: from the host's
// request to vitrine's away line, and from VT_ACTIVATE back to vitrine
// and to the client seeing the output come or go.
var hotplugVTTiming = regexp.MustCompile(`(?m)^(away-plug|away-unplug)-ms=(\d+)$|^(return-plug|return-unplug) vitrine-ms=(\d+) client-ms=(\d+)$`)

// hotplugVTDelayNames are the keys of hotplugVTDelays, all wanted.
var hotplugVTDelayNames = []string{
	"away-plug", "return-plug-vitrine", "return-plug-client",
	"away-unplug", "return-unplug-vitrine", "return-unplug-client",
}

// hotplugVTDelays returns the script's delays (ms) by name.
func hotplugVTDelays(out string) map[string]int {
	d := map[string]int{}
	for _, m := range hotplugVTTiming.FindAllStringSubmatch(out, -1) {
		if m[1] != "" {
			d[m[1]], _ = strconv.Atoi(m[2])
			continue
		}
		d[m[3]+"-vitrine"], _ = strconv.Atoi(m[4])
		d[m[3]+"-client"], _ = strconv.Atoi(m[5])
	}
	return d
}

// hotplugVTSequence reduces vitrine's log to the events whose order the
// row proves, as the judge's want list spells them ("on Virtual-2",
// "away", ...), a run of repeated away events (one uevent per connector
// change is not promised) counted once.
func hotplugVTSequence(evs []logEvent) []string {
	var seq []string
	for _, e := range evs {
		var ev string
		switch e.Event() {
		case "session.active":
			ev = "resume"
			if e.is("session.active", "active", "false") {
				ev = "pause"
			}
		case "hotplug.deferred":
			ev = "away"
		case "output.on":
			ev = "on " + e.Str("output")
		case "output.added":
			ev = "added " + e.Str("name")
		case "output.off":
			ev = "off " + e.Str("output")
		default:
			continue
		}
		if ev != "away" || len(seq) == 0 || seq[len(seq)-1] != "away" {
			seq = append(seq, ev)
		}
	}
	return seq
}

// judgeHotplugVTOutput checks the guest script's text: its own lines,
// vitrine's log (as "vitrine| " lines, the first client's among them)
// and the second client's.
func judgeHotplugVTOutput(out string) []string {
	var problems []string
	problems = append(problems, failLines.FindAllString(out, -1)...)
	for _, pat := range []string{
		`(?m)^user=lab$`, `(?m)^vitrine-user=lab$`, `(?m)^vitrine-exit=0$`,
		// Virtual-2 starts unplugged, the plug and unplug reach the
		// kernel while VT 2 has the display, and vitrine does nothing
		// but wait meanwhile.
		`(?m)^before status=disconnected$`,
		`(?m)^away-plug status=connected vitrine-lit=0 vitrine-added=0 client-added=0$`,
		`(?m)^away-unplug status=disconnected vitrine-off=0 client-removed=0$`,
	} {
		if !regexp.MustCompile(pat).MatchString(out) {
			problems = append(problems, fmt.Sprintf("output lacks %q", pat))
		}
	}
	vlog := tagged(out, "vitrine")
	evs := vitrineEvents(vlog)
	// A real logind session: the devices came from TakeDevice.
	if countEvents(evs, "session.logind") == 0 {
		problems = append(problems, "vitrine did not use logind (no session.logind event)")
	}
	if countEvents(evs, "logind.took_device", "path", "/dev/dri/card0") == 0 {
		problems = append(problems, "logind did not hand vitrine /dev/dri/card0 (no logind.took_device event)")
	}
	problems = append(problems, errorEvents(evs)...)
	for _, l := range vlog {
		if strings.Contains(l, "panic:") {
			problems = append(problems, "vitrine panicked: "+l)
		}
	}
	// Nothing lit or added while away; on return Virtual-2 is added
	// (and removed) before the session is marked active and repainted.
	want := []string{
		"on Virtual-1", "added Virtual-1",
		"pause", "away", "on Virtual-2", "added Virtual-2", "resume",
		"pause", "away", "off Virtual-2", "resume",
		"off Virtual-1",
	}
	if got := hotplugVTSequence(evs); !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("vitrine's log went\n%s\nwant\n%s", indent(strings.Join(got, "\n")), indent(strings.Join(want, "\n"))))
	}
	mode := fmt.Sprintf("%dx%d@", hotplugHead1.X, hotplugHead1.Y)
	if !slices.ContainsFunc(findEvents(evs, "output.on", "output", "Virtual-2"), func(e logEvent) bool {
		return strings.HasPrefix(e.Str("mode"), mode)
	}) {
		problems = append(problems, fmt.Sprintf("vitrine did not light Virtual-2 at %dx%d", hotplugHead1.X, hotplugHead1.Y))
	}
	var client []string
	for _, l := range vlog {
		if strings.HasPrefix(l, "output-") || strings.HasPrefix(l, "surface-") {
			client = append(client, l)
		}
	}
	head0 := fmt.Sprintf("output-added Virtual-1 %dx%d", hotplugHead0.X, hotplugHead0.Y)
	head1 := fmt.Sprintf("output-added Virtual-2 %dx%d", hotplugHead1.X, hotplugHead1.Y)
	if want := []string{head0, "surface-enter Virtual-1", head1, "output-removed Virtual-2"}; !slices.Equal(client, want) {
		problems = append(problems, fmt.Sprintf("the client on Virtual-1 saw\n%s\nwant\n%s", indent(strings.Join(client, "\n")), indent(strings.Join(want, "\n"))))
	}
	if countEvents(evs, "stats", "output", "Virtual-1") == 0 {
		problems = append(problems, "no stats event for Virtual-1: vitrine did not exit cleanly")
	}
	if err := subsequence(tagged(out, "second"), []string{
		head1, "surface-enter Virtual-2",
		fmt.Sprintf("first-frame %dx%d", hotplugHead1.X, hotplugHead1.Y),
		"surface-leave Virtual-2", "output-removed Virtual-2", "surface-enter Virtual-1",
		fmt.Sprintf("resized %dx%d", hotplugHead0.X, hotplugHead0.Y),
	}); err != nil {
		problems = append(problems, "the second client (shm-client --output Virtual-2): "+err.Error())
	}
	delays := hotplugVTDelays(out)
	for _, k := range hotplugVTDelayNames {
		if _, ok := delays[k]; !ok {
			problems = append(problems, "no delay "+k)
		}
	}
	return problems
}
