package lab

import (
	"encoding/hex"
	"errors"
	"fmt"
	"image/color"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// Scenarios is the project's scenario matrix, run by `vitrine-lab
// check`. Each area that proves its claims in the lab keeps its rows in a
// file of its own (matrix_*.go).
func Scenarios() []Scenario {
	return slices.Concat(labScenarios(), kmsScenarios(), dmabufScenarios(), sessionScenarios(), kioskClientScenarios(), hostClientScenarios(), vkmsScenarios(), hotplugScenarios(), faultScenarios(), unitScenarios())
}

// labScenarios prove the lab itself: boot, devices, console, exit
// status, timeouts, input and sessions.
func labScenarios() []Scenario {
	return []Scenario{
		bootScenario("boot-virtio", []string{"virtio"}, "", "card0 virtio_gpu", "renderD128 virtio_gpu"),
		bootScenario("boot-bochs", []string{"bochs"}, "", "card0 bochs-drm"),
		bootScenario("boot-cirrus", []string{"cirrus"}, "", "card0 cirrus"),
		bootScenario("boot-vgem", []string{"virtio"}, "vgem", "card0 virtio_gpu", "card1 vgem", "renderD129 vgem"),
		bootScenario("boot-all", []string{"virtio", "bochs", "cirrus"}, "vgem",
			"card0 virtio_gpu", "card1 bochs-drm", "card2 cirrus", "card3 vgem"),
		ConsoleScenario("console-virtio", "virtio"),
		ConsoleScenario("console-bochs", "bochs"),
		ConsoleScenario("console-cirrus", "cirrus"),
		{
			// Each display gets its own colour through its fbdev
			// emulation; each screendump must show its display's colour,
			// which proves lab-screendump picks the device asked for and
			// defaults to the first.
			Name:     "screendump-select",
			Displays: []string{"virtio", "bochs", "cirrus"},
			Command: `echo 0 > /sys/class/graphics/fbcon/cursor_blink
vitrine-lab guest-fbfill virtio_gpu ff0000 || exit 1
vitrine-lab guest-fbfill bochs 00ff00 || exit 1
vitrine-lab guest-fbfill cirrus 0000ff || exit 1
sleep 1
lab-screendump default && lab-screendump bochs bochs && lab-screendump cirrus cirrus`,
			Screendumps: map[string][]screencheck.Region{
				"default": {wholeScreen(color.RGBA{0xff, 0, 0, 0xff})},
				"bochs":   {wholeScreen(color.RGBA{0, 0xff, 0, 0xff})},
				"cirrus":  {wholeScreen(color.RGBA{0, 0, 0xff, 0xff})},
			},
		},
		{
			Name:       "exit-status",
			Command:    "echo about to fail; exit 7",
			WantExit:   7,
			WantOutput: []string{`(?m)^about to fail$`},
		},
		{
			Name:    "timeout",
			Command: "echo hanging; sleep 600",
			Timeout: 25 * time.Second,
			Check: func(env *Env, res *Result, runErr error) error {
				var te *TimeoutError
				if !errors.As(runErr, &te) {
					return fmt.Errorf("want a timeout, got result %+v, error %v", res, runErr)
				}
				if !te.Started {
					return fmt.Errorf("timed out before the command started: %v", te)
				}
				if n := env.Running(); n != 0 {
					return fmt.Errorf("%d QEMU processes still running after the timeout", n)
				}
				return nil
			},
		},
		{
			Name:    "input-keyboard",
			Command: evdevCapture("Keyboard", 4) + "sleep 0.5\nprintf 'key a\\n' | lab-input || exit 1\n" + evdevWait,
			Check: evdevCheck([]inputEvent{
				{evKey, keyA, 1}, {evKey, keyA, 0},
			}),
		},
		{
			Name:    "input-tablet",
			Command: evdevCapture("Tablet", 6) + evdevWait,
			// Played by the host (--input) once the command has started;
			// the pause lets the capture open the device first.
			Input: "sleep 1500\ntouch down 16384 8192\ntouch up\n",
			Check: evdevCheck([]inputEvent{
				{evAbs, absX, 16384}, {evAbs, absY, 8192}, {evKey, btnLeft, 1}, {evKey, btnLeft, 0},
			}),
		},
		{
			Name:    "session-logind",
			Session: SessionLogind,
			Command: `echo "user=$(id -un)"
loginctl show-session "$XDG_SESSION_ID" -p Seat -p VTNr -p Active -p Type -p Class
echo "active-vt=$(cat /sys/class/tty/tty0/active)"
vitrine-lab guest-drm`,
			WantOutput: []string{
				`(?m)^user=lab$`, `(?m)^Seat=seat0$`, `(?m)^VTNr=1$`, `(?m)^Active=yes$`,
				`(?m)^Type=tty$`, `(?m)^active-vt=tty1$`, `(?m)^card0 virtio_gpu$`,
			},
		},
		{
			Name:    "session-seatd",
			Session: SessionSeatd,
			Command: `echo "user=$(id -un)"
echo "seatd=$(systemctl is-active seatd)"
echo "active-vt=$(cat /sys/class/tty/tty0/active)"
vitrine-lab guest-seatd-probe /dev/dri/card0`,
			WantOutput: []string{
				`(?m)^user=lab$`, `(?m)^seatd=active$`, `(?m)^active-vt=tty1$`,
				`(?m)^seat=seat0 device=/dev/dri/card0 driver=virtio_gpu$`,
			},
		},
	}
}

// bootScenario boots with the given devices and checks that the DRM
// nodes (by driver, via DRM_IOCTL_VERSION), /dev/udmabuf and
// /dev/dma_heap/system are there.
func bootScenario(name string, displays []string, render string, want ...string) Scenario {
	pats := make([]string, len(want))
	for i, w := range want {
		pats[i] = "(?m)^" + regexp.QuoteMeta(w) + "$"
	}
	return Scenario{
		Name:     name,
		Displays: displays,
		Render:   render,
		Command: `fail=0
for f in /dev/udmabuf /dev/dma_heap/system; do
	if [ -e "$f" ]; then echo "present $f"; else echo "missing $f"; fail=1; fi
done
vitrine-lab guest-drm || fail=1
exit $fail`,
		WantOutput: append(pats, `(?m)^present /dev/udmabuf$`, `(?m)^present /dev/dma_heap/system$`),
	}
}

// The Linux console's default palette (drivers/tty/vt/vt.c), which
// fbcon draws the ANSI background colours with.
var (
	ConsoleRed   = color.RGBA{0xaa, 0x00, 0x00, 0xff}
	ConsoleGreen = color.RGBA{0x00, 0xaa, 0x00, 0xff}
	ConsoleBlue  = color.RGBA{0x00, 0x00, 0xaa, 0xff}
	ConsoleGrey  = color.RGBA{0xaa, 0xaa, 0xaa, 0xff}
)

// consoleQuadrants writes four coloured quadrants (red, blue / green,
// grey) on tty1 with ANSI background colours and spaces, whatever the
// console size, hides the cursor so nothing blinks, and takes the
// screendump "console".
const consoleQuadrants = `echo 0 > /sys/class/graphics/fbcon/cursor_blink
set -- $(stty -F /dev/tty1 size)
rows=$1 cols=$2
half=$((cols/2)) hrows=$((rows/2))
{
	printf '\033[?25l\033[0m\033[2J'
	r=1
	while [ $r -le $rows ]; do
		if [ $r -le $hrows ]; then a=41 b=44; else a=42 b=47; fi
		printf "\033[${r};1H\033[${a}m%${half}s\033[${b}m%$((cols-half))s" "" ""
		r=$((r+1))
	done
} > /dev/tty1
echo "console ${cols}x${rows}"
if lab-screendump bogus nosuch 2>/dev/null; then
	echo "a screendump of a device that does not exist succeeded"
	exit 1
fi
# fbdev emulation flushes damage to the device in a deferred worker.
sleep 1
lab-screendump console`

// ConsoleQuadrantRegions is what consoleQuadrants must show: the centre
// of each quadrant, away from the edges where a console whose size is
// not a multiple of the font leaves black margins.
func ConsoleQuadrantRegions(topLeft, topRight, bottomLeft, bottomRight color.RGBA) []screencheck.Region {
	r := func(name string, f screencheck.Frac, c color.RGBA) screencheck.Region {
		return screencheck.Region{Name: name, Frac: f, Want: c, Tolerance: 8}
	}
	return []screencheck.Region{
		r("top-left", screencheck.Frac{X0: 0.05, Y0: 0.05, X1: 0.45, Y1: 0.45}, topLeft),
		r("top-right", screencheck.Frac{X0: 0.55, Y0: 0.05, X1: 0.95, Y1: 0.45}, topRight),
		r("bottom-left", screencheck.Frac{X0: 0.05, Y0: 0.55, X1: 0.45, Y1: 0.95}, bottomLeft),
		r("bottom-right", screencheck.Frac{X0: 0.55, Y0: 0.55, X1: 0.95, Y1: 0.95}, bottomRight),
	}
}

// wholeScreen expects every pixel of a screendump to be c.
func wholeScreen(c color.RGBA) screencheck.Region {
	return screencheck.Region{Name: "screen", Frac: screencheck.Frac{X1: 1, Y1: 1}, Want: c, Tolerance: 8}
}

// ConsoleScenario draws the quadrants on the console of one display and
// compares QEMU's screendump of that display with them.
func ConsoleScenario(name, display string) Scenario {
	return Scenario{
		Name:       name,
		Displays:   []string{display},
		Command:    consoleQuadrants,
		WantOutput: []string{`(?m)^console \d+x\d+$`},
		Screendumps: map[string][]screencheck.Region{
			"console": ConsoleQuadrantRegions(ConsoleRed, ConsoleBlue, ConsoleGreen, ConsoleGrey),
		},
	}
}

// Linux input event codes (include/uapi/linux/input-event-codes.h).
const (
	evKey   = 0x01
	evAbs   = 0x03
	keyA    = 30
	btnLeft = 0x110
	absX    = 0x00
	absY    = 0x01
)

type inputEvent struct {
	typ, code uint16
	value     int32
}

// evdevCapture finds the virtio input device whose name contains kind
// and reads n events from it in the background.
func evdevCapture(kind string, n int) string {
	return fmt.Sprintf(`dev=
for e in /sys/class/input/event*; do
	case "$(cat $e/device/name)" in *%s*) dev=/dev/input/${e##*/};; esac
done
[ -n "$dev" ] || { echo "no virtio %s"; exit 1; }
dd if=$dev bs=24 count=%d 2>/dev/null | od -An -tx1 -v > /tmp/events &
capture=$!
`, kind, kind, n)
}

// evdevWait waits up to 10s for the capture, then prints it.
const evdevWait = `i=0
while kill -0 $capture 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill $capture 2>/dev/null
echo "events:"
cat /tmp/events
`

// evdevCheck decodes the captured struct input_event records (24 bytes
// on 64-bit: timeval, type, code, value) and wants each event in order.
func evdevCheck(want []inputEvent) func(*Env, *Result, error) error {
	return func(_ *Env, res *Result, runErr error) error {
		if runErr != nil {
			return runErr
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("guest command exited %d: %s", res.ExitCode, tail(string(res.Output), 10))
		}
		_, dump, ok := strings.Cut(string(res.Output), "events:\n")
		if !ok {
			return fmt.Errorf("no event dump in the output: %s", tail(string(res.Output), 10))
		}
		raw, err := hex.DecodeString(strings.Join(strings.Fields(dump), ""))
		if err != nil {
			return fmt.Errorf("event dump: %w", err)
		}
		var got []inputEvent
		for len(raw) >= 24 {
			e := raw[16:24]
			got = append(got, inputEvent{
				typ:   uint16(e[0]) | uint16(e[1])<<8,
				code:  uint16(e[2]) | uint16(e[3])<<8,
				value: int32(uint32(e[4]) | uint32(e[5])<<8 | uint32(e[6])<<16 | uint32(e[7])<<24),
			})
			raw = raw[24:]
		}
		i := 0
		for _, g := range got {
			if i < len(want) && g == want[i] {
				i++
			}
		}
		if i < len(want) {
			return fmt.Errorf("guest saw events %+v; missing %+v (in order)", got, want[i:])
		}
		return nil
	}
}
