package lab

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// sessionScenarios prove vitrine in logind and seatd sessions: VT switches, input.
func sessionScenarios() []Scenario {
	return []Scenario{
		vtCycleScenario(SessionLogind),
		vtCycleScenario(SessionSeatd),
		inputScenario(),
		rootErrorScenario(),
		touchScenario(),
		vtKeysScenario(),
		cursorScenario(),
	}
}

// vtCycles is how many times the VT cycle rows switch away and back.
const vtCycles = 20

// vtCycleScenario starts vitrine with shm-client's quadrants as the
// autologin user, switches to VT 2 and back vtCycles times, and wants
// the quadrants pixel-exact before and after, something else on the
// screen while VT 2 is shown (so "after" proves a repaint, not a stale
// scanout), and no file descriptor gained between the first and the
// last cycle. The session's error cases that need a running compositor
// (a second vitrine; seatd missing) are checked at the end, each by
// the one line vitrine prints. The seatd row also leaves once by
// vitrine's own Ctrl+Alt+F2 and then wants no modifier left stuck.
func vtCycleScenario(session string) Scenario {
	want := []string{
		`(?m)^user=lab$`,
		`(?m)^vitrine-user=lab$`,
		`(?m)^card0-fds=1$`,
		`(?m)^second-exit=1$`,
		`(?m)^box-animates-after-cycles$`,
	}
	flag := ""
	switch session {
	case SessionLogind:
		want = append(want,
			`(?m)^vitrine\| .*msg="session: using logind"`,
			`(?m)^vitrine\| .*msg="logind: session active changed" active=false`,
			// The devices came from logind (TakeDevice), not open(2).
			`(?m)^vitrine\| .*msg="logind: took device" path=/dev/dri/card0 `,
			`(?m)^vitrine\| .*msg="logind: took device" path=/dev/input/event`,
			`(?m)^second\| vitrine: .*another compositor controls this session`,
		)
	case SessionSeatd:
		flag = "--session seatd"
		want = append(want,
			// seatd logs nothing per device; the seat opened through
			// seatd and VT switches arriving as seat disable/enable
			// are the proof.
			`(?m)^vitrine\| .*msg="seatd: seat open" seat=seat0`,
			`(?m)^vitrine\| .*msg="seatd: seat disabled"`,
			`(?m)^vitrine\| .*msg="seatd: seat enabled"`,
			`(?m)^second\| vitrine: .*another compositor holds`,
			`(?m)^after-ctrl-alt-f2=tty2$`,
		)
	}
	return Scenario{
		Name:         "vitrine-vt-" + session,
		Session:      session,
		NeedsVitrine: true,
		Command:      vtCycleCommand(session, flag),
		Check:        vtCycleCheck(want, session),
	}
}

// vtSwitchShell defines vt N: VT_ACTIVATE then VT_WAITACTIVE (linux/vt.h)
// on the session's own terminal. The kernel allows both on a controlling
// tty and need nothing from the session manager but the pause it must
// acknowledge (Seat.SwitchTo, vitrine's own path, is proven by
// vitrine-vt-keys-logind). perl-base is in every Debian.
// VT_WAITACTIVE hangs if the session manager never completes the
// switch (a pause nobody acknowledged), hence the timeout.
const vtSwitchShell = `vt() {
	timeout 15 perl -e 'open(my $f, "+<", "/dev/tty1") or die "open /dev/tty1: $!\n";
		ioctl($f, 0x5606, $ARGV[0]+0) or die "VT_ACTIVATE $ARGV[0]: $!\n";
		ioctl($f, 0x5607, $ARGV[0]+0) or die "VT_WAITACTIVE $ARGV[0]: $!\n"' "$1" || fail "switch to VT $1"
}
`

// seatdKeySwitch is one more cycle in the seatd row, away by vitrine's
// own Ctrl+Alt+F2 (seatd switches the VT for its active client). Under
// logind the same key calls Seat.SwitchTo, which polkit allows the
// active session's user: vitrine-vt-keys-logind proves that.
const seatdKeySwitch = `lab-input <<EOF || fail "lab-input"
key ctrl down
key alt down
key f2
key alt up
key ctrl up
EOF
await 'msg=session active=false' $((npause + c)) "pause by Ctrl+Alt+F2"
# seatd switches the VT only once vitrine acknowledged the disable.
i=0
while [ "$(cat /sys/class/tty/tty0/active)" != tty2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "after-ctrl-alt-f2=$(cat /sys/class/tty/tty0/active)"
frames=$(grep -c 'msg=frame' $log)
vt 1
await 'msg=session active=true' $((nresume + c)) "resume after Ctrl+Alt+F2"
await 'msg=frame' $((frames + 1)) "repaint after Ctrl+Alt+F2"
`

// awaitShell defines await PATTERN COUNT WHAT: poll vitrine's log until
// PATTERN occurs COUNT times, 15 s at most, so no step sleeps longer
// than it must.
//
// The log may not exist yet (the shell redirects in the background
// job's child, after await has started): that counts as no line, where
// grep's empty output used to end the loop at once ("bad number") and
// let the next step race vitrine's start (seen in vitrine-input on a
// loaded machine: the tablet events went out before vitrine had opened
// the tablet).
const awaitShell = `await() {
	i=0
	while [ "$(cat $log 2>/dev/null | grep -c -- "$1")" -lt "$2" ]; do
		i=$((i+1))
		[ $i -lt 300 ] || fail "no $3 within 15s (want $2 lines matching '$1', have $(grep -c -- "$1" $log))"
		sleep 0.05
	done
}
fail() {
	echo "FAIL: $*"
	[ -n "${pid:-}" ] && kill $pid 2>/dev/null
	grep -v -e "msg=frame" -e "\"event\":\"frame\"" $log | tail -n 40 | sed "s/^/vitrine| /"
	exit 1
}
now() { echo $(( $(date +%s%N) / 1000000 )); }
`

func vtCycleCommand(session, flag string) string {
	keySwitch := ""
	if session == SessionSeatd {
		keySwitch = seatdKeySwitch
	}
	var b strings.Builder
	fmt.Fprintf(&b, "log=/tmp/vitrine.log\n%s%s", awaitShell, vtSwitchShell)
	fmt.Fprintf(&b, `echo "user=$(id -un)"
t0=$(now)
vitrine --backend drm %[1]s --log-level debug -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
await '^first-frame' 1 'first frame'
grep -m1 '^first-frame' $log
echo "start-ms=$(( $(now) - t0 ))"
echo "vitrine-user=$(ps -o user= -p $pid)"
ndev=$(grep -c 'input: device added' $log)
npause=$(grep -c 'msg=session active=false' $log)
nresume=$(grep -c 'msg=session active=true' $log)
lab-screendump before >/dev/null || fail "screendump before"
# A small window animating above the quadrants at full rate keeps a
# flip in flight at nearly every pause (the issue's fault "the session
# paused in the middle of a page flip"), and leaves a damage-only
# repaint to do when it goes: the screen must be the quadrants again.
wl=$(sed -n 's/.*msg=listening WAYLAND_DISPLAY=\([^ ]*\).*/\1/p' $log)
WAYLAND_DISPLAY=$wl shm-client --pattern moving-box --size 160x120 >/tmp/box.log 2>&1 &
box=$!
i=0
until grep -q '^first-frame' /tmp/box.log; do
	i=$((i+1))
	[ $i -lt 300 ] || fail "no first frame of the moving box within 15s: $(cat /tmp/box.log)"
	sleep 0.05
done
t0=$(now)
c=1
while [ $c -le %[2]d ]; do
	vt 2
	await 'msg=session active=false' $((npause + c)) "pause $c"
	[ $c = 1 ] && { lab-screendump away >/dev/null || fail "screendump away"; }
	frames=$(grep -c 'msg=frame' $log)
	vt 1
	await 'msg=session active=true' $((nresume + c)) "resume $c"
	await 'msg=frame' $((frames + 1)) "repaint after resume $c"
	await 'input: device added' $((ndev * (c + 1))) "input devices back after resume $c"
	fds=$(ls /proc/$pid/fd | wc -l)
	[ $c = 1 ] && { fd1=$fds; ls -l /proc/$pid/fd | sed 's/^/fd1| /'; }
	c=$((c + 1))
done
echo "cycles=%[2]d ms=$(( $(now) - t0 ))"
echo "paused-in-flight=$(grep -c 'event=session.paused_in_flight' $log) revoked=$(grep -c 'event=output.revoked' $log)"
echo "fds cycle1=$fd1 cycle%[2]d=$fds"
ls -l /proc/$pid/fd | sed 's/^/fd%[2]d| /'
echo "card0-fds=$(ls -l /proc/$pid/fd | grep -c ' -> /dev/dri/card0$')"
%[3]sframes=$(grep -c 'msg=frame' $log)
await 'msg=frame' $((frames + 30)) "30 frames of the moving box after the cycles"
kill -0 $box 2>/dev/null || fail "the moving box died: $(cat /tmp/box.log)"
echo "box-animates-after-cycles"
kill $box
wait $box 2>/dev/null
# The repaint may come before this shell looks: count the frames after
# vitrine saw the client go.
await 'msg="disconnecting client".*moving-box' 1 "vitrine seeing the moving box go"
i=0
until sed -n '/msg="disconnecting client".*moving-box/,$p' $log | grep -q 'msg=frame'; do
	i=$((i+1))
	[ $i -lt 300 ] || fail "no repaint within 15s after the moving box left"
	sleep 0.05
done
sleep 0.5
lab-screendump after >/dev/null || fail "screendump after"
timeout 30 vitrine --backend drm %[1]s >/tmp/second.log 2>&1 </dev/null
echo "second-exit=$?"
sed 's/^/second| /' /tmp/second.log
`, flag, vtCycles, keySwitch)
	if session == SessionLogind {
		// seatd is masked in logind runs: the error a user meets when
		// asking for it anyway.
		b.WriteString(`vitrine --backend drm --session seatd >/tmp/noseatd.log 2>&1 </dev/null
echo "noseatd-exit=$?"
sed 's/^/noseatd| /' /tmp/noseatd.log
`)
	}
	b.WriteString(`kill $pid
wait $pid
echo "vitrine-exit=$?"
grep -v 'msg=frame' $log | sed 's/^/vitrine| /'
echo "frames=$(grep -c 'msg=frame' $log)"
`)
	if session == SessionSeatd {
		b.WriteString(seatdModifierPhase)
	}
	return b.String()
}

// seatdModifierPhase leaves by Ctrl+Alt+F2 with input-echo focused: the
// releases of Ctrl and Alt happen on VT 2, where vitrine cannot see
// them, so after coming back the next key must not carry modifiers.
const seatdModifierPhase = `log=/tmp/echo.log
vitrine --backend drm --session seatd -- input-echo >$log 2>&1 &
pid=$!
await '^keyboard-enter' 1 'keyboard focus (input-echo)'
ndev=$(grep -c 'input: device added' $log)
lab-input <<EOF || fail "lab-input"
key ctrl down
key alt down
key f2
key alt up
key ctrl up
EOF
await 'msg=session active=false' 1 'pause by Ctrl+Alt+F2 (input-echo)'
vt 1
await 'msg=session active=true' 1 'resume (input-echo)'
await 'input: device added' $((2 * ndev)) 'input devices back (input-echo)'
printf 'key a\n' | lab-input || fail "lab-input"
await '^key code=30 state=released' 1 'the key a after resume'
kill $pid
wait $pid
sed 's/^/echo| /' $log
`

// vtCycleCheck judges a VT cycle run: output patterns, the fd counts,
// the error lines and the screendumps.
func vtCycleCheck(want []string, session string) func(*Env, *Result, error) error {
	return func(_ *Env, res *Result, runErr error) error {
		if runErr != nil {
			return runErr
		}
		out, problems := guestOutput(res)
		for _, pat := range want {
			if !regexp.MustCompile(pat).MatchString(out) {
				problems = append(problems, fmt.Sprintf("output lacks %q", pat))
			}
		}
		if errs := tagged(out, "vitrine"); len(errs) > 0 {
			var bad []string
			for _, l := range errs {
				if strings.Contains(l, "level=ERROR") && len(bad) < 3 {
					bad = append(bad, l)
				}
			}
			if len(bad) > 0 {
				problems = append(problems, "vitrine logged errors:\n"+indent(strings.Join(bad, "\n")))
			}
		}
		if err := fdGrowth(out); err != nil {
			problems = append(problems, err.Error())
		}
		if err := oneErrorLine(out, "second"); err != nil {
			problems = append(problems, err.Error())
		}
		if session == SessionSeatd {
			if err := modifiersAtKey(tagged(out, "echo"), "key code=30 state=pressed", "modifiers depressed=0 "); err != nil {
				problems = append(problems, "after leaving by Ctrl+Alt+F2 and coming back: "+err.Error())
			}
		}
		if session == SessionLogind {
			if err := oneErrorLine(out, "noseatd"); err != nil {
				problems = append(problems, err.Error())
			}
			if !regexp.MustCompile(`(?m)^noseatd\| vitrine: seatd not running \(no socket at /run/seatd\.sock\)`).MatchString(out) {
				problems = append(problems, "vitrine --session seatd without seatd did not say seatd is not running")
			}
		}
		size, err := firstFrameSize(out, "")
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			quad := quadrantsImage(size.X, size.Y, quadrantColors)
			for _, name := range []string{"before", "after"} {
				if err := compareScreendump(res, name, quad); err != nil {
					problems = append(problems, err.Error())
				}
			}
			if err := differsFromScreendump(res, "away", quad); err != nil {
				problems = append(problems, err.Error())
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
		}
		return nil
	}
}

var fdsLine = regexp.MustCompile(`(?m)^fds cycle1=(\d+) cycle(\d+)=(\d+)$`)

// fdGrowth wants the fd count after the last cycle no larger than after
// the first: a leak of one fd per pause/resume shows up as +19.
func fdGrowth(out string) error {
	m := fdsLine.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("no fd counts in the output (the cycles did not complete)")
	}
	first, _ := strconv.Atoi(m[1])
	last, _ := strconv.Atoi(m[3])
	if last > first {
		return fmt.Errorf("vitrine's open fds grew from %d after cycle 1 to %d after cycle %s", first, last, m[2])
	}
	return nil
}

// oneErrorLine wants the lines prefixed with tag (a failed vitrine's
// output) to hold exactly one "vitrine: " line, the last one, and no
// log records at level WARN or ERROR beside it: one clear line.
func oneErrorLine(out, tag string) error {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, tag+"| "); ok {
			lines = append(lines, s)
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s: vitrine printed nothing", tag)
	}
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "vitrine: ") {
			n++
		}
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			return fmt.Errorf("%s: a log record besides the error line: %s", tag, l)
		}
	}
	if last := lines[len(lines)-1]; n != 1 || !strings.HasPrefix(last, "vitrine: ") {
		return fmt.Errorf("%s: want exactly one line \"vitrine: ...\", the last; got:\n%s", tag, indent(strings.Join(lines, "\n")))
	}
	return nil
}

// rootErrorScenario proves the errors a root user meets, one line each:
// the drm backend refused without --session direct, and a second
// vitrine on a display that a running one holds.
func rootErrorScenario() Scenario {
	return Scenario{
		Name:         "vitrine-errors-root",
		NeedsVitrine: true,
		Command: awaitShell + `vitrine --backend drm >/tmp/root.log 2>&1 </dev/null
echo "root-exit=$?"
sed 's/^/root| /' /tmp/root.log
log=/tmp/first.log
vitrine --backend drm --session direct -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
await '^first-frame' 1 'first frame'
timeout 30 vitrine --backend drm --session direct >/tmp/busy.log 2>&1 </dev/null
echo "busy-exit=$?"
sed 's/^/busy| /' /tmp/busy.log
kill $pid
wait $pid
sed 's/^/first| /' $log
`,
		Check: func(_ *Env, res *Result, runErr error) error {
			if runErr != nil {
				return runErr
			}
			out := string(res.Output)
			var problems []string
			for _, pat := range []string{
				`(?m)^root-exit=1$`,
				`(?m)^root\| vitrine: refusing to run the drm backend as root: .*--session direct`,
				`(?m)^busy-exit=1$`,
				`(?m)^busy\| vitrine: .*(busy|another compositor|master)`,
			} {
				if !regexp.MustCompile(pat).MatchString(out) {
					problems = append(problems, fmt.Sprintf("output lacks %q", pat))
				}
			}
			for _, tag := range []string{"root", "busy"} {
				if err := oneErrorLine(out, tag); err != nil {
					problems = append(problems, err.Error())
				}
			}
			if len(problems) > 0 {
				return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
			}
			return nil
		},
	}
}

// modifiersAtKey wants the last "modifiers" line input-echo printed
// before the line key to start with want.
func modifiersAtKey(lines []string, key, want string) error {
	mods := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "modifiers ") {
			mods = l
		}
		if l == key {
			if !strings.HasPrefix(mods+" ", want) {
				return fmt.Errorf("input-echo got %q with %q, want %q", key, mods, strings.TrimSpace(want))
			}
			return nil
		}
	}
	return fmt.Errorf("input-echo never printed %q", key)
}
