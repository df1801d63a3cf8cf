package lab

import (
	"fmt"
	"image"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// hostClientShell starts the host-root rows' scripts: a runtime
// directory for the clients, and the rows' helpers.
const hostClientShell = `export XDG_RUNTIME_DIR=/tmp/rt
mkdir -m 700 $XDG_RUNTIME_DIR
log=/tmp/vitrine.log
` + awaitShell + eventShell + `# waitfile FILE BYTES WHAT: 15 s for FILE to hold BYTES bytes.
waitfile() {
	i=0
	while [ "$(cat $1 2>/dev/null | wc -c)" -lt $2 ]; do
		i=$((i+1))
		[ $i -lt 300 ] || fail "no $3 within 15s"
		sleep 0.05
	done
}
`

// Where wvkbd-mobintl (Debian's 0.12) puts its keys on the lab's
// 1280x800 virtio display: its landscape layout is 120 px high at the
// bottom, four rows of 30 px; the top row is Esc q w e ..., q at
// x 97..193 and w at 194..290.
const (
	oskScreenH   = 800
	oskScreenW   = 1280
	oskHeight    = 120
	oskKeyRowY   = oskScreenH - oskHeight + 15
	oskKeyQX     = 145
	oskKeyWX     = 242
	oskTypedWant = "qw"
)

// oskScenario proves the on-screen keyboard of a touch kiosk end to end
// on KMS with the real programs: vitrine's --osk starts Debian's
// wvkbd-mobintl hidden; foot's text input (its IME support) brings it
// up at the bottom, with foot configured to the height above it; a
// lab-touch tap on q and a virtio-tablet click on w type "qw" into foot,
// whose shell reads them raw from its terminal.
func oskScenario() Scenario {
	return Scenario{
		Name:         "vitrine-osk-wvkbd-foot",
		HostRoot:     true,
		NeedsVitrine: true,
		Timeout:      2 * time.Minute,
		Command:      oskCommand(),
		Check:        oskCheck,
	}
}

func oskCommand() string {
	tap := touchScript([][]touchAction{
		{{"down", 0, int32(oskKeyQX * TouchMax / oskScreenW), int32(oskKeyRowY * TouchMax / oskScreenH)}},
		{{"up", 0, 0, 0}},
	})
	return hostClientShell + "cat >/tmp/tap.script <<'EOF'\n" + tap + "EOF\n" + fmt.Sprintf(`t0=$(now)
vitrine --backend drm --session direct --layout kiosk --log-format json --log-level debug --osk 'wvkbd-mobintl --hidden' -- \
	foot -- sh -c 'stty raw -echo; echo ready >/tmp/ready; dd bs=1 count=2 of=/tmp/typed 2>/dev/null; stty size >/tmp/size' >$log 2>&1 &
pid=$!
waitfile /tmp/ready 1 'foot running its shell'
echo "foot-ms=$(( $(now) - t0 ))"
awaitev $log osk.signalled 1 "the keyboard shown for foot's text input" '"shown":true'
# wvkbd draws once it is shown; QEMU shows the transfer a moment later.
sleep 1
lab-screendump osk >/dev/null || fail "screendump osk"
lab-touch /tmp/tap.script >/tmp/tap.out 2>&1 &
tpid=$!
awaitev $log input.added 1 'vitrine adding the touchscreen' '"name":"%[1]s"'
# The seat's new touch capability: wvkbd binds its wl_touch.
sleep 0.5
kill -USR1 $tpid
waitfile /tmp/typed 1 'the tapped q in foot'
kill $tpid
wait $tpid
# wvkbd takes the position from wl_pointer.motion, not from enter:
# the pointer moves onto the key.
lab-input <<EOF || fail "lab-input"
move %[2]d %[3]d
move %[4]d %[3]d
button left
EOF
waitfile /tmp/typed 2 'the clicked w in foot'
echo "typed=$(cat /tmp/typed)"
# foot's shell ends once it has read both: foot, then vitrine, exit.
wait $pid
echo "vitrine-exit=$?"
echo "foot-size=$(cat /tmp/size)"
grep -vF '"event":"frame"' $log | sed 's/^/vitrine| /'
`, touchName, (oskKeyWX-20)*tabletMax/oskScreenW, oskKeyRowY*tabletMax/oskScreenH, oskKeyWX*tabletMax/oskScreenW)
}

var (
	footCellRE = regexp.MustCompile(`(?m)^vitrine\| .*cell width=(\d+), height=(\d+)$`)
	footSizeRE = regexp.MustCompile(`(?m)^foot-size=(\d+) (\d+)$`)
)

// oskCheck judges oskScenario's run.
func oskCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out, problems := guestOutput(res)
	problems = append(problems, failLines.FindAllString(out, -1)...)
	if !strings.Contains(out, "\nvitrine-exit=0\n") {
		problems = append(problems, "vitrine did not exit 0 when foot did (no vitrine-exit=0)")
	}
	if !strings.Contains(out, "\ntyped="+oskTypedWant+"\n") {
		problems = append(problems, fmt.Sprintf("foot's shell did not read %q from the keyboard's keys", oskTypedWant))
	}
	// vitrine's own records; foot's and wvkbd's lines share the tag
	// but are not JSON.
	evs := vitrineEvents(tagged(out, "vitrine"))
	problems = append(problems, errorEvents(evs)...)
	if countEvents(evs, "osk.signalled", "shown", "true") == 0 {
		problems = append(problems, "vitrine did not show the keyboard for foot's text input (no osk.signalled event with shown=true)")
	}
	if countEvents(evs, "input.added", "name", touchName) == 0 {
		problems = append(problems, fmt.Sprintf("vitrine did not add %q (no input.added event)", touchName))
	}
	// foot fills the height above the keyboard: its terminal has the
	// rows that fit there, not the whole screen's.
	cell, size := footCellRE.FindStringSubmatch(out), footSizeRE.FindStringSubmatch(out)
	if cell == nil || size == nil {
		problems = append(problems, "no foot cell size or stty size line")
	} else {
		ch, _ := strconv.Atoi(cell[2])
		rows, _ := strconv.Atoi(size[1])
		if want := (oskScreenH - oskHeight) / ch; rows != want {
			problems = append(problems, fmt.Sprintf("foot has %d rows of %d px, want %d: the height above the %d px keyboard", rows, ch, want, oskHeight))
		}
	}
	if img, err := res.Screendump("osk"); err != nil {
		problems = append(problems, err.Error())
	} else if err := keyboardAtBottom(img); err != nil {
		problems = append(problems, "osk: "+err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 25)))
	}
	return nil
}

// keyboardAtBottom wants foot's background in every pixel from below
// its first text lines down to the keyboard's top, and the keyboard's
// strip, every row of it, to differ from that background.
func keyboardAtBottom(img image.Image) error {
	b := img.Bounds()
	if b.Dx() != oskScreenW || b.Dy() != oskScreenH {
		return fmt.Errorf("screendump is %dx%d, want %dx%d", b.Dx(), b.Dy(), oskScreenW, oskScreenH)
	}
	bg := rgbaOf(img.At(oskScreenW-1, oskScreenH/2))
	top := oskScreenH - oskHeight
	for y := 40; y < top; y++ {
		for x := 0; x < oskScreenW; x++ {
			if c := rgbaOf(img.At(x, y)); c != bg {
				return fmt.Errorf("(%d,%d) is %v, want foot's background %v down to the keyboard at row %d", x, y, c, bg, top)
			}
		}
	}
	for y := top; y < oskScreenH; y++ {
		same := 0
		for x := 0; x < oskScreenW; x++ {
			if rgbaOf(img.At(x, y)) == bg {
				same++
			}
		}
		if same == oskScreenW {
			return fmt.Errorf("row %d, in the keyboard's strip (rows %d..%d), is foot's background: no keyboard there", y, top, oskScreenH-1)
		}
	}
	return nil
}

// hostClientScenarios run the host's own Wayland programs in the guest
// (--host-root).
func hostClientScenarios() []Scenario {
	return []Scenario{oskScenario(), randrScenario()}
}
