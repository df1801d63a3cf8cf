package lab

import (
	"fmt"
	"image"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// vkmsScenarios prove the plane-rotation path on a real kernel driver.
// vkms is the lab's only driver whose primary plane has a "rotation"
// property, and it checksums every composed frame (debugfs crtc-0/crc), so
// each row shows the same still picture three ways and compares the
// CRCs: turned by the plane, turned in vitrine's CPU copy
// (--no-plane-rotation), and upright. Plane and copy must agree; upright
// must not, or equal CRCs would prove nothing. Each CRC must also equal
// the one the host computes, the way vkms does, from the quadrants turned
// by the lab's own reference code: that makes it a pixel-exact check of
// the whole screen, not only of the two paths agreeing.
func vkmsScenarios() []Scenario {
	var rows []Scenario
	for _, deg := range []int{90, 180, 270} {
		rows = append(rows, vkmsRotateScenario(deg))
	}
	return append(rows, vkmsOverlayScenario())
}

// vkmsCRCLines is how many CRC entries each run reads once the client's
// frame is shown: about half a second of vblanks, all of which must carry
// the same checksum.
const vkmsCRCLines = 30

// vkmsRuns are the three vitrine runs of a rotation row, by tag.
func vkmsRuns(deg int) []vkmsRun {
	r := strconv.Itoa(deg)
	return []vkmsRun{
		{tag: "plane" + r, flags: "--rotate " + r, rotate: deg, planeRotation: true},
		{tag: "copy" + r, flags: "--rotate " + r + " --no-plane-rotation", rotate: deg},
		{tag: "upright", flags: "", rotate: 0},
	}
}

type vkmsRun struct {
	tag, flags    string
	rotate        int
	planeRotation bool // what vitrine's output.on event must say
}

// vkmsPreamble mounts debugfs and finds vkms's card and its debugfs
// directory (named by device in 6.12, by minor before).
const vkmsPreamble = `mount -t debugfs none /sys/kernel/debug 2>/dev/null
card=$(vitrine-lab guest-drm | awk '$2 == "vkms" && $1 ~ /^card/ { print $1 }')
[ -n "$card" ] || { echo "FAIL: no vkms card"; vitrine-lab guest-drm; exit 1; }
dbg=
for n in /sys/kernel/debug/dri/*/name; do
	case "$(cat $n)" in vkms*) dbg=${n%/name};; esac
done
[ -n "$dbg" ] || { echo "FAIL: no vkms directory in /sys/kernel/debug/dri"; exit 1; }
echo "vkms $card $dbg"
echo "tainted=$(cat /proc/sys/kernel/tainted)"
`

func vkmsRotateScenario(deg int) Scenario {
	runs := vkmsRuns(deg)
	var b strings.Builder
	b.WriteString(guestHelpers)
	b.WriteString(vkmsPreamble)
	for _, r := range runs {
		fmt.Fprintf(&b, `log=/tmp/%[1]s.log
vitrine --backend drm --session direct --drm-device /dev/dri/$card --log-level debug --log-format json %[2]s -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
if waitfor $log %[3]q 90; then
	sleep %[4]s
	echo auto > $dbg/crtc-0/crc/control
	timeout 30 head -n %[5]d $dbg/crtc-0/crc/data >/tmp/%[1]s.crc || fail "%[1]s: reading %[5]d CRCs"
	# Each read of the data file ends its line with a NUL.
	tr -d '\000' </tmp/%[1]s.crc | sed 's/^/%[1]s-crc /'
fi
kill -TERM $pid
wait $pid
echo "%[1]s-exit=$?"
grep -vF '"event":"frame"' $log | sed 's/^/%[1]s| /'
`, r.tag, r.flags, firstFrameLine, settle, vkmsCRCLines)
	}
	b.WriteString("exit $status\n")
	name := fmt.Sprintf("vkms-rotate%d", deg)
	return Scenario{
		Name:         name,
		Displays:     []string{"virtio"},
		Render:       RenderVKMS,
		NeedsVitrine: true,
		Timeout:      3 * time.Minute,
		Command:      b.String(),
		Check: func(env *Env, res *Result, runErr error) error {
			if runErr != nil {
				return runErr
			}
			crcs, err := judgeVKMS(string(res.Output), res.ExitCode, deg)
			if env != nil && env.Log != nil && crcs != nil {
				env.Log.Info("vkms CRCs", "row", name, "plane", crcHex(crcs[runs[0].tag]), "copy", crcHex(crcs[runs[1].tag]), "upright", crcHex(crcs[runs[2].tag]))
			}
			return err
		},
	}
}

func crcHex(c uint32) string { return fmt.Sprintf("%#08x", c) }

var vkmsCRCLine = regexp.MustCompile(`^0x([0-9a-f]{8}) 0x([0-9a-f]{8})$`)

// vkmsCRC returns the one checksum of a run's CRC lines ("TAG-crc
// 0xFRAME 0xCRC"). Every line must carry it: the picture is still, so a
// second value means the frame was not settled or the composition is
// not deterministic, and the comparison would be meaningless.
func vkmsCRC(out, tag string) (uint32, error) {
	var crc uint32
	n := 0
	seen := map[uint32]int{}
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(l, tag+"-crc ")
		if !ok {
			continue
		}
		m := vkmsCRCLine.FindStringSubmatch(strings.TrimSpace(rest))
		if m == nil {
			return 0, fmt.Errorf("%s: malformed CRC line %q", tag, l)
		}
		v, _ := strconv.ParseUint(m[2], 16, 32)
		crc = uint32(v)
		seen[crc]++
		n++
	}
	if n < vkmsCRCLines {
		return 0, fmt.Errorf("%s: %d CRC lines, want %d", tag, n, vkmsCRCLines)
	}
	if len(seen) != 1 {
		return 0, fmt.Errorf("%s: the still picture's CRCs vary: %v (value: count)", tag, seen)
	}
	return crc, nil
}

// judgeVKMS checks a rotation row's output and returns each run's CRC
// (nil if none could be read at all).
func judgeVKMS(out string, exit, deg int) (map[string]uint32, error) {
	var problems []string
	if exit != 0 {
		problems = append(problems, fmt.Sprintf("guest script exited %d", exit))
	}
	problems = append(problems, failLines.FindAllString(out, -1)...)
	// An unsigned out-of-tree module must load with its taint (O and E,
	// 4096|8192), not be refused.
	if m := regexp.MustCompile(`(?m)^tainted=(\d+)$`).FindStringSubmatch(out); m == nil {
		problems = append(problems, "no tainted= line")
	} else if t, _ := strconv.Atoi(m[1]); t&4096 == 0 {
		problems = append(problems, fmt.Sprintf("kernel taint %d lacks the out-of-tree module bit: is vkms really the lab's build?", t))
	}
	runs := vkmsRuns(deg)
	crcs := map[string]uint32{}
	sizes := map[string]image.Point{}
	for _, r := range runs {
		lines := tagged(out, r.tag)
		log := strings.Join(lines, "\n")
		evs := vitrineEvents(lines)
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(r.tag) + `-exit=0$`).MatchString(out) {
			problems = append(problems, r.tag+": vitrine did not exit 0 on SIGTERM")
		}
		if errs := errorEvents(evs); len(errs) > 0 {
			problems = append(problems, r.tag+": "+errs[0])
		}
		wantTransform := strconv.Itoa(r.rotate)
		if r.rotate == 0 {
			wantTransform = "normal"
		}
		on := findEvents(evs, "output.on")
		switch {
		case len(on) != 1:
			problems = append(problems, fmt.Sprintf("%s: %d output.on events in vitrine's log, want 1", r.tag, len(on)))
		case !on[0].is("output.on", "plane_rotation", strconv.FormatBool(r.planeRotation)):
			problems = append(problems, fmt.Sprintf("%s: vitrine says plane_rotation=%v, want %v", r.tag, on[0]["plane_rotation"], r.planeRotation))
		case on[0].Str("transform") != wantTransform:
			problems = append(problems, fmt.Sprintf("%s: vitrine says transform=%s, want %s", r.tag, on[0].Str("transform"), wantTransform))
		}
		if size, err := firstFrameSize(log, ""); err != nil {
			problems = append(problems, r.tag+": "+err.Error())
		} else {
			sizes[r.tag] = size
		}
		if c, err := vkmsCRC(out, r.tag); err != nil {
			problems = append(problems, err.Error())
		} else {
			crcs[r.tag] = c
			if size, ok := sizes[r.tag]; ok {
				if want := vkmsReferenceCRC(size, r.rotate); c != want {
					problems = append(problems, fmt.Sprintf("%s: vkms's CRC %s is not the %v quadrants turned %d degrees (%s): the screen is not what the client drew",
						r.tag, crcHex(c), size, r.rotate, crcHex(want)))
				}
			}
		}
	}
	plane, copied, upright := runs[0].tag, runs[1].tag, runs[2].tag
	// Both rotated runs must give the client the same turned size, and a
	// quarter turn must swap the upright one.
	if sp, ok := sizes[plane]; ok {
		if sc, ok := sizes[copied]; ok && sc != sp {
			problems = append(problems, fmt.Sprintf("the client's size differs: %v with the plane rotating, %v with the copy", sp, sc))
		}
		if su, ok := sizes[upright]; ok {
			want := su
			if deg == 90 || deg == 270 {
				want = image.Pt(su.Y, su.X)
			}
			if sp != want {
				problems = append(problems, fmt.Sprintf("the client's size at --rotate %d is %v, want %v (upright %v)", deg, sp, want, su))
			}
		}
	}
	cp, okP := crcs[plane]
	cc, okC := crcs[copied]
	cu, okU := crcs[upright]
	if okP && okC && cp != cc {
		problems = append(problems, fmt.Sprintf("vkms composed a different picture with the plane rotating (CRC %s) than with vitrine's copy rotating (CRC %s)", crcHex(cp), crcHex(cc)))
	}
	if okP && okU && cp == cu {
		problems = append(problems, fmt.Sprintf("the upright picture has the rotated one's CRC %s: the rotation changed nothing, so equal CRCs prove nothing", crcHex(cp)))
	}
	if okC && okU && cc == cu {
		problems = append(problems, fmt.Sprintf("the copy-rotated picture has the upright one's CRC %s", crcHex(cc)))
	}
	if len(crcs) == 0 {
		crcs = nil
	}
	if len(problems) > 0 {
		return crcs, fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(nonFrameLines(out), 25)))
	}
	return crcs, nil
}

// vkmsReferenceCRC is the CRC vkms reports for the client's w×h
// quadrants turned counter-clockwise by deg (vkmsCRCOf).
func vkmsReferenceCRC(size image.Point, deg int) uint32 {
	var img image.Image = quadrantsImage(size.X, size.Y, quadrantColors)
	for range (deg / 90) % 4 {
		img = turnCounterClockwise(img)
	}
	return vkmsCRCOf(img.(*image.RGBA))
}
