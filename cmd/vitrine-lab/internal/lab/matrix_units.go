package lab

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// unitScenarios prove examples/systemd: the disk image boots with
// vitrine-kiosk.service enabled, and the app is on the screen without
// anyone logging in.
func unitScenarios() []Scenario {
	return []Scenario{{
		Name:         "systemd-units",
		Displays:     []string{"virtio"},
		Session:      SessionUnits,
		NeedsVitrine: true,
		// Two boots' worth: the image boots systemd (about 20 s idle,
		// much more when the machine's cores are shared).
		Timeout: 5 * time.Minute,
		Command: unitsCommand,
		Check:   unitsCheck,
	}}
}

// unitsCommand runs as root once vitrine-kiosk.service has started: it
// waits for the kiosk's first frame, saves the screendump, reports the
// logind session the unit opened, then swaps to the seatd variant and
// does the same.
const unitsCommand = `fail() {
	echo "FAIL: $*"
	systemctl --no-pager status vitrine-kiosk vitrine-kiosk-seatd 2>&1 | sed 's/^/status| /'
	journalctl --no-pager -b -o cat -t vitrine-kiosk -t vitrine-kiosk-seatd | grep -vF '"event":"frame"' | tail -n 60 | sed 's/^/journal| /'
	exit 1
}
# firstframe UNIT: wait (30 s) for the unit's vitrine to show a frame.
firstframe() {
	i=0
	until journalctl --no-pager -b -o cat -t $1 | grep -qF '"event":"frame.first"'; do
		i=$((i+1))
		[ $i -lt 300 ] || fail "no first frame from $1 within 30s"
		sleep 0.1
	done
}
firstframe vitrine-kiosk
sleep 1
lab-screendump logind >/dev/null || fail "screendump logind"
s=$(loginctl list-sessions --no-legend | awk '$3 == "lab" { print $1; exit }')
[ -n "$s" ] || fail "no logind session of user lab"
loginctl show-session "$s" -p Name -p Seat -p VTNr -p TTY -p Type -p Class -p Active -p Service | sed 's/^/session| /'
systemctl show vitrine-kiosk -p ActiveState -p User | sed 's/^/unit| /'
journalctl --no-pager -b -o cat -t vitrine-kiosk | grep -vF '"event":"frame"' | sed 's/^/logind| /'
systemctl stop vitrine-kiosk || fail "stop vitrine-kiosk"
systemctl start vitrine-kiosk-seatd || fail "start vitrine-kiosk-seatd"
firstframe vitrine-kiosk-seatd
sleep 1
lab-screendump seatd >/dev/null || fail "screendump seatd"
systemctl show vitrine-kiosk-seatd -p ActiveState -p User | sed 's/^/seatd-unit| /'
journalctl --no-pager -b -o cat -t vitrine-kiosk-seatd | grep -vF '"event":"frame"' | sed 's/^/seatd| /'
`

// unitsCheck wants the quadrants, pixel-exact, from both units; the
// logind unit's session on seat0, VT 1, active, of user lab; vitrine
// in both on the drm backend through the session manager the unit is
// for, without errors.
func unitsCheck(_ *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out := string(res.Output)
	var problems []string
	problems = append(problems, failLines.FindAllString(out, -1)...)
	if res.ExitCode != 0 {
		problems = append(problems, fmt.Sprintf("guest command exited %d", res.ExitCode))
	}
	session := tagged(out, "session")
	for _, want := range []string{"Name=lab", "Seat=seat0", "VTNr=1", "TTY=tty1", "Active=yes", "Class=user"} {
		if !slices.Contains(session, want) {
			problems = append(problems, fmt.Sprintf("the unit's logind session lacks %s: %q", want, session))
		}
	}
	for _, u := range []struct{ tag, session string }{{"logind", "session.logind"}, {"seatd", "session.seatd"}} {
		lines := tagged(out, u.tag)
		evs := vitrineEvents(lines)
		problems = append(problems, errorEvents(evs)...)
		if countEvents(evs, "backend.selected", "backend", "drm") != 1 {
			problems = append(problems, u.tag+": vitrine did not pick the drm backend")
		}
		if countEvents(evs, u.session) != 1 {
			problems = append(problems, fmt.Sprintf("%s: vitrine did not open the devices through %s (no %s event)", u.tag, u.tag, u.session))
		}
		size, err := firstFrameSize(strings.Join(lines, "\n"), "")
		if err != nil {
			problems = append(problems, u.tag+": "+err.Error())
			continue
		}
		if err := compareScreendump(res, u.tag, quadrantsImage(size.X, size.Y, quadrantColors)); err != nil {
			problems = append(problems, u.tag+": "+err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(out, 40)))
	}
	return nil
}
