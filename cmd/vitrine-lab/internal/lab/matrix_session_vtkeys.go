package lab

import (
	"fmt"
	"image"
	"regexp"
	"slices"
	"strings"
)

// logindTouchFrames is the one-finger tap the logind row plays as the
// session user.
var logindTouchFrames = [][]touchAction{
	{{"down", 0, 2048, 1024}},
	{{"up", 0, 0, 0}},
}

// vtKeysScenario proves vitrine's Ctrl+Alt+F2 under logind: with polkit
// in the image, logind's Seat.SwitchTo lets the active session's user
// switch, so the key leaves for VT 2; the text console's own
// Ctrl+Alt+F1 brings vitrine back, and a key reaches the client after
// the resume. With --no-vt-switch the same keys reach the client and
// the VT stays. First the session user touches the screen through
// /dev/uinput (group input, the image's udev rule) with vitrine's
// devices coming from logind's TakeDevice.
func vtKeysScenario() Scenario {
	return Scenario{
		Name:         "vitrine-vt-keys-logind",
		Session:      SessionLogind,
		NeedsVitrine: true,
		Command:      vtKeysCommand(),
		Check:        vtKeysCheck,
	}
}

// ctrlAlt presses Ctrl+Alt+KEY through the virtio keyboard.
func ctrlAlt(key string) string {
	return `lab-input <<EOF || fail "lab-input"
key ctrl down
key alt down
key ` + key + `
key alt up
key ctrl up
EOF
`
}

// awaitVTShell defines awaitvt TTY WHAT: poll tty0's active VT, 10 s at
// most, then print it as WHAT=ttyN.
const awaitVTShell = `awaitvt() {
	i=0
	while [ "$(cat /sys/class/tty/tty0/active)" != "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
	echo "$2=$(cat /sys/class/tty/tty0/active)"
}
`

func vtKeysCommand() string {
	return awaitShell + eventShell + awaitVTShell + "cat >/tmp/tap.script <<'EOF'\n" + touchScript(logindTouchFrames) + "EOF\n" +
		`echo "user=$(id -un)"
echo "uinput=$(stat -c '%G %a' /dev/uinput)"
set -- $(cat /sys/class/drm/card0-*/modes | head -n 1)
echo "panel=$1"
log=/tmp/keys.log
vitrine --backend drm --log-level debug --log-format json --trace-protocol -- input-echo >$log 2>&1 &
pid=$!
await '^keyboard-enter' 1 'keyboard focus'
echo "before=$(cat /sys/class/tty/tty0/active)"
lab-touch /tmp/tap.script >/tmp/tap.out 2>&1 &
tpid=$!
awaitev $log input.added 1 'vitrine adding the touchscreen' 'vitrine-lab touchscreen'
awaitev $log request 1 'input-echo asking for wl_touch' '"request":"get_touch"'
kill -USR1 $tpid
await '^touch-frame$' 2 'the tap'
kill $tpid
wait $tpid
echo "keys-touch-exit=$?"
sed 's/^/keys-touch| /' /tmp/tap.out
# The touchscreen is gone again: what comes back is what is open now.
nadd=$(matchev $log input.added)
nopen=$((nadd - $(matchev $log input.removed)))
` + ctrlAlt("f2") + `awaitev $log session.active 1 'pause by Ctrl+Alt+F2' '"active":false'
awaitvt tty2 after-ctrl-alt-f2
# VT 2 is a text console: the kernel's own Ctrl+Alt+F1 switches back.
` + ctrlAlt("f1") + `awaitev $log session.active 1 'resume by Ctrl+Alt+F1' '"active":true'
awaitvt tty1 after-ctrl-alt-f1
awaitev $log input.added $((nadd + nopen)) 'input devices back'
printf 'key a\n' | lab-input || fail "lab-input"
await '^key code=30 state=released' 1 'the key a after coming back'
kill $pid
wait $pid
grep -v -e '"event":"frame"' -e '"event":"request"' $log | sed 's/^/keys| /'
log=/tmp/novt.log
vitrine --backend drm --no-vt-switch --log-level debug --log-format json -- input-echo >$log 2>&1 &
pid=$!
await '^keyboard-enter' 1 'keyboard focus (--no-vt-switch)'
` + ctrlAlt("f2") + `await '^key code=29 state=released' 1 'Ctrl+Alt+F2 reaching the client (--no-vt-switch)'
# A switch, had one been asked for, has had the key's whole round trip to start.
sleep 0.5
echo "novt-active=$(cat /sys/class/tty/tty0/active)"
kill $pid
wait $pid
grep -vF '"event":"frame"' $log | sed 's/^/novt| /'
`
}

// vtKeysCheck judges vtKeysScenario's output.
func vtKeysCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out, problems := guestOutput(res)
	for _, w := range []struct{ pat, why string }{
		{`(?m)^user=lab$`, "the command did not run as the autologin user"},
		{`(?m)^uinput=input 660$`, "/dev/uinput is not group input, mode 0660 (the image's udev rule)"},
		{`(?m)^before=tty1$`, "vitrine did not start on VT 1"},
		{`(?m)^after-ctrl-alt-f2=tty2$`, "Ctrl+Alt+F2 under logind did not make tty2 the active VT"},
		{`(?m)^after-ctrl-alt-f1=tty1$`, "the console's Ctrl+Alt+F1 did not bring VT 1 back"},
		{`(?m)^keys\| key code=30 state=released$`, "no key reached the client after coming back"},
		{`(?m)^novt\| key code=60 state=pressed$`, "with --no-vt-switch, F2 did not reach the client (input-echo printed no key code=60 state=pressed)"},
		{`(?m)^novt-active=tty1$`, "with --no-vt-switch, Ctrl+Alt+F2 still left VT 1"},
	} {
		if !regexp.MustCompile(w.pat).MatchString(out) {
			problems = append(problems, w.why)
		}
	}
	keys := tagged(out, "keys")
	novt := tagged(out, "novt")
	keyEvs := vitrineEvents(keys)
	if !slices.ContainsFunc(findEvents(keyEvs, "logind.took_device"), func(e logEvent) bool { return strings.HasPrefix(e.Str("path"), "/dev/input/event") }) {
		problems = append(problems, "vitrine did not take the input devices from logind (no logind.took_device event for /dev/input/event*)")
	}
	if countEvents(keyEvs, "logind.active", "active", "false") == 0 {
		problems = append(problems, "logind did not pause the session on Ctrl+Alt+F2 (no logind.active event with active=false)")
	}
	for _, l := range keys {
		if strings.HasPrefix(l, "key code=60 ") {
			problems = append(problems, "F2 reached the client although it was vitrine's Ctrl+Alt+F2: "+l)
			break
		}
	}
	for tag, lines := range map[string][]string{"keys": keys, "novt": novt} {
		evs := vitrineEvents(lines)
		bad := errorEvents(evs)
		if countEvents(evs, "vt.switch_failed") > 0 {
			bad = append(bad, "a vt.switch_failed event")
		}
		if len(bad) > 0 {
			problems = append(problems, tag+": "+strings.Join(bad, "\n"))
		}
	}
	if countEvents(vitrineEvents(novt), "session.active", "active", "false") > 0 {
		problems = append(problems, "with --no-vt-switch the session was paused (a session.active event with active=false)")
	}
	if m := panelLine.FindStringSubmatch(out); m == nil {
		problems = append(problems, "no panel=WxH line (the mode of card0's connector)")
	} else {
		var panel image.Point
		fmt.Sscanf(m[1]+" "+m[2], "%d %d", &panel.X, &panel.Y)
		if err := judgeTouchPhase(out, "keys", 0, panel, logindTouchFrames); err != nil {
			problems = append(problems, "touch as the session user: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
	}
	return nil
}
