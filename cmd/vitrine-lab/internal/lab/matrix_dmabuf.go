package lab

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
	"github.com/vitrine-wm/vitrine/render"
)

// dmabufScenarios prove linux-dmabuf: direct scanout where the display imports the
// buffer, the copy path where it cannot.
func dmabufScenarios() []Scenario {
	quadrants := func(alloc string) string {
		return "dmabuf-client --alloc " + alloc + " --pattern quadrants --fullscreen"
	}
	movingBox := func(alloc string, frames int) string {
		return fmt.Sprintf("dmabuf-client --alloc %s --pattern moving-box --fullscreen --frames %d --seconds 120", alloc, frames)
	}
	// What shared/LAB.md measured: cirrus imports foreign dma-bufs, bochs
	// (EINVAL) and virtio-gpu (ENODEV) do not.
	refusal := map[string]string{"virtio": "ENODEV", "bochs": "EINVAL"}

	rows := []Scenario{mainDeviceScenario(quadrants("vgem"))}
	for _, d := range []string{"bochs", "virtio"} {
		runs := []vitrineRun{
			{tag: "quadrants", client: quadrants("vgem"), want: showQuadrants, path: copyPath, refusal: refusal[d]},
			{tag: "box", client: movingBox("vgem", 200), until: finalBoxLine, want: showFinalBox,
				path: copyPath, refusal: refusal[d], damageRule: true},
		}
		if d == "virtio" {
			// NV12 through the copy path, in the same boot: vitrine
			// converts it; virtio-gpu shows what it was sent.
			runs = append(runs,
				vitrineRun{tag: "nv12", client: quadrants("vgem") + " --format nv12", want: showQuadrantsNV12, path: copyPath},
				// A player's picture: a moving NV12 subsurface scaled 2×
				// by its viewport over the UI, converted and scaled
				// on the copy path.
				vitrineRun{tag: "video", client: movingBox("vgem", 40) + " --video-subsurface --format nv12", until: finalBoxLine,
					want: showBoxWithVideo, path: copyPath})
		}
		rows = append(rows, vitrineScenario("dmabuf-vgem-"+d+"-copy", []string{d}, "vgem", runs...))
	}
	for _, alloc := range []struct{ name, flag string }{{"udmabuf", "udmabuf"}, {"heap", "dma-heap"}} {
		for _, d := range []string{"virtio", "bochs", "cirrus"} {
			run := vitrineRun{tag: "quadrants", client: quadrants(alloc.flag), want: showQuadrants, path: copyPath, refusal: refusal[d]}
			if d == "cirrus" {
				run.path = scanoutPath
			}
			rows = append(rows, vitrineScenario("dmabuf-"+alloc.name+"-"+d, []string{d}, "", run))
		}
	}
	rows = append(rows, scanoutSwitchScenario(), fullscreenToggleScenario())
	// The client draws each frame into a buffer as soon as vitrine
	// releases it; the last screendump must show the final frame. On
	// virtio-gpu, where each frame reaches QEMU in one transfer,
	// screendumps taken while the client runs must each show one whole
	// frame too. Not on cirrus: its driver copies every flip into the
	// one VRAM scanout area with the CPU, and QEMU's screendump can read
	// that area half-updated (measured: rows 0-44 of frame n+1 above
	// rows 45-63 of frame n), which would judge the device, not vitrine.
	rows = append(rows,
		vitrineScenario("dmabuf-release-cirrus", []string{"cirrus"}, "vgem",
			vitrineRun{tag: "box", client: movingBox("vgem", 100), until: finalBoxLine, want: showFinalBox, path: scanoutPath}),
		vitrineScenario("dmabuf-release-virtio", []string{"virtio"}, "vgem",
			vitrineRun{tag: "box", client: movingBox("vgem", 100), until: finalBoxLine, want: showFinalBox, path: copyPath, refusal: "ENODEV", mid: 3}),
	)
	return rows
}

// nodeLines prints each DRM node of the guest as "drm-node NAME MAJ:MIN
// DEVICE", DEVICE being the last part of its sysfs device path (vgem,
// or a PCI address). vgem's device has no driver link, so the path
// names it; cirrus is the other one.
const nodeLines = `for n in /sys/class/drm/card[0-9]* /sys/class/drm/renderD*; do
	[ -e "$n/dev" ] || continue
	echo "drm-node $(basename $n) $(cat $n/dev) $(basename $(readlink -f $n/device))"
done
`

// mainDeviceScenario is the vgem-beside-cirrus scanout row, which also
// judges the feedback's devices: the main device is vgem's render node
// (vgem's buffers are what cirrus imports and scans out), the surface's
// scanout tranche targets the cirrus card, the copy tranche the main
// device.
func mainDeviceScenario(client string) Scenario {
	s := vitrineScenario("dmabuf-vgem-cirrus-scanout", []string{"cirrus"}, "vgem",
		vitrineRun{tag: "quadrants", client: client, want: showQuadrants, path: scanoutPath, beforeStart: nodeLines})
	runs := s.Check
	s.Check = func(env *Env, res *Result, runErr error) error {
		err := runs(env, res, runErr)
		if runErr != nil {
			return err
		}
		var problems []string
		if err != nil {
			problems = append(problems, err.Error())
		}
		if err := judgeMainDevice(string(res.Output)); err != nil {
			problems = append(problems, err.Error())
		}
		if len(problems) > 0 {
			return errors.New(strings.Join(problems, "\n"))
		}
		return nil
	}
	return s
}

var (
	drmNodeLine     = regexp.MustCompile(`(?m)^drm-node (card\d+|renderD\d+) (\d+:\d+) (\S+)$`)
	surfaceFeedback = regexp.MustCompile(`(?m)^quadrants\| surface-feedback main_device=(\S+) `)
	surfaceTranche  = regexp.MustCompile(`(?m)^quadrants\| surface-feedback-tranche index=\d+ target_device=(\S+) flags=\S+ scanout=(true|false) `)
)

// judgeMainDevice checks the devices dmabuf-client was told of against
// the guest's nodes.
func judgeMainDevice(out string) error {
	var vgem, cirrus string
	nodes := drmNodeLine.FindAllStringSubmatch(out, -1)
	for _, m := range nodes {
		render := strings.HasPrefix(m[1], "renderD")
		switch {
		case render && m[3] == "vgem":
			vgem = m[2]
		case !render && m[3] != "vgem":
			cirrus = m[2] // the row's only display
		}
	}
	if vgem == "" || cirrus == "" {
		return fmt.Errorf("no vgem render node or cirrus card among the guest's nodes %v", nodes)
	}
	var problems []string
	if countEvents(vitrineEvents(tagged(out, "quadrants")), "dmabuf.main_device") == 0 {
		problems = append(problems, "vitrine did not log its main device choice (no dmabuf.main_device event)")
	}
	m := surfaceFeedback.FindStringSubmatch(out)
	if m == nil {
		return errors.New(strings.Join(append(problems, "dmabuf-client printed no surface feedback"), "\n"))
	}
	if m[1] != vgem {
		problems = append(problems, fmt.Sprintf("feedback main_device=%s, want vgem's render node %s", m[1], vgem))
	}
	scanout, copy := "", ""
	for _, t := range surfaceTranche.FindAllStringSubmatch(out, -1) {
		if t[2] == "true" && scanout == "" {
			scanout = t[1]
		}
		if t[2] == "false" && copy == "" {
			copy = t[1]
		}
	}
	if scanout != cirrus {
		problems = append(problems, fmt.Sprintf("scanout tranche target_device=%q, want the cirrus card %s", scanout, cirrus))
	}
	if copy != vgem {
		problems = append(problems, fmt.Sprintf("copy tranche target_device=%q, want the main device %s", copy, vgem))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// videoSize and videoScale are dmabuf-client --video-subsurface's buffer
// size and viewport scale.
var videoSize = image.Pt(320, 180)

const videoScale = 2

var videoAt = regexp.MustCompile(`(?m)^video-at frame=\d+ x=(\d+) y=(\d+)$`)

// withVideo draws onto img the video subsurface where the client's last
// video-at line put it: the NV12 quadrants as the reference decodes
// them, scaled by the viewport (each source pixel a videoScale square,
// the nearest-neighbour sampling at pixel centres of an exact multiple).
func withVideo(img *image.RGBA, log string) (*image.RGBA, error) {
	all := videoAt.FindAllStringSubmatch(log, -1)
	if all == nil {
		return nil, errors.New("no video-at line: the client did not move its video subsurface")
	}
	last := all[len(all)-1]
	x, _ := strconv.Atoi(last[1])
	y, _ := strconv.Atoi(last[2])
	video := quadrantsImage(videoSize.X, videoSize.Y, nv12Colors(videoSize))
	dst := image.Rect(x, y, x+videoScale*videoSize.X, y+videoScale*videoSize.Y)
	for py := dst.Min.Y; py < dst.Max.Y; py++ {
		for px := dst.Min.X; px < dst.Max.X; px++ {
			img.Set(px, py, video.At((px-x)/videoScale, (py-y)/videoScale))
		}
	}
	return img, nil
}

// nv12Colors are the quadrant colours after dmabuf-client's NV12
// encoding at size and render's decoding (the conversion's reference):
// what vitrine must show, within ±1.
func nv12Colors(size image.Point) [4]color.RGBA {
	c := render.DefaultColorimetry(size.X, size.Y)
	var out [4]color.RGBA
	for i, q := range quadrantColors {
		y, u, v := render.RGBToYUV(c, q.R, q.G, q.B)
		r, g, b := render.YUVToRGB(c, y, u, v)
		out[i] = color.RGBA{r, g, b, 0xff}
	}
	return out
}

// switchTopFrames is how many frames the shm client on top shows.
const switchTopFrames = 20

// scanoutSwitchScenario goes scanout -> composite -> scanout on cirrus
// with a vgem dma-buf: the dma-buf client alone (scanned out), an shm
// client fullscreen on top of it (composited: in the kiosk layout every
// toplevel is fullscreen, so nothing of the dma-buf stays visible), then
// the shm client killed so the dma-buf is alone again. No composited
// frame may come after the kill: the dma-buf client does not commit
// again, so a composite there would stay on screen for good.
func scanoutSwitchScenario() Scenario {
	cmd := guestHelpers + eventShell + fmt.Sprintf(`log=/tmp/switch.log
top=/tmp/top.log
vitrine --backend drm --session direct --log-level debug --log-format json -- dmabuf-client --alloc vgem --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
frames() { matchev $log frame; }
if waitfor $log '^first-frame ' 60; then
	sleep %[1]s
	lab-screendump alone >/dev/null || fail 'screendump alone'
	n1=$(frames)
	export WAYLAND_DISPLAY=$(sed -n '/"event":"listening"/s/.*"WAYLAND_DISPLAY":"\([^"]*\)".*/\1/p' $log | head -n 1)
	shm-client --pattern moving-box --fullscreen --frames %[2]d --seconds 120 >$top 2>&1 &
	tpid=$!
	if waitfor $top '^final-box ' 60; then
		sleep %[1]s
		lab-screendump covered >/dev/null || fail 'screendump covered'
	fi
	n2=$(frames)
	kill $tpid
	wait $tpid
	awaitev $log client.disconnected 1 "the top client's disconnect" "\"pid\":$tpid,"
	sleep 1
	lab-screendump alone-again >/dev/null || fail 'screendump alone-again'
	n3=$(frames)
	echo "composited-lines alone=$n1 covered=$n2 alone-again=$n3"
fi
kill -TERM $pid
wait $pid
echo "switch-exit=$?"
sed 's/^/switch| /' $log
sed 's/^/top| /' $top
exit $status
`, settle, switchTopFrames)
	return Scenario{
		Name:         "dmabuf-scanout-switch",
		Displays:     []string{"cirrus"},
		Render:       "vgem",
		NeedsVitrine: true,
		Timeout:      2 * time.Minute,
		Command:      cmd,
		Check: func(_ *Env, res *Result, runErr error) error {
			if runErr != nil {
				return runErr
			}
			if err := judgeSwitch(res); err != nil {
				return fmt.Errorf("%w\noutput ends:\n%s", err, indent(tail(nonFrameLines(string(res.Output)), 25)))
			}
			return nil
		},
	}
}

var switchCounts = regexp.MustCompile(`(?m)^composited-lines alone=(\d+) covered=(\d+) alone-again=(\d+)$`)

// judgeQuadrantsScript judges what the guest scripts of the switch and
// toggle rows share: the script's exit, its FAIL lines, vitrine's exit on
// SIGTERM (printed as TAG-exit=), and screendumps that must show the
// quadrants client fullscreen. It returns vitrine's log (lines tagged
// TAG), the client's size and the problems so far; err ends the judging
// when the client never showed a frame.
func judgeQuadrantsScript(res *Result, tag string, fullscreen ...string) (log string, size image.Point, problems []string, err error) {
	out := string(res.Output)
	log = strings.Join(tagged(out, tag), "\n")
	if res.ExitCode != 0 {
		problems = append(problems, fmt.Sprintf("guest script exited %d", res.ExitCode))
	}
	problems = append(problems, failLines.FindAllString(out, -1)...)
	if !strings.Contains(out, "\n"+tag+"-exit=0\n") {
		problems = append(problems, "vitrine did not exit 0 on SIGTERM")
	}
	size, ferr := firstFrameSize(log, "")
	if ferr != nil {
		return "", image.Point{}, nil, errors.New(strings.Join(append(problems, ferr.Error()), "\n"))
	}
	quad := quadrantsImage(size.X, size.Y, quadrantColors)
	for _, name := range fullscreen {
		if err := compareScreendump(res, name, quad); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return log, size, problems, nil
}

// judgeSwitch checks the three screendumps of the switch row and that
// the frames went scanout, composite, scanout.
func judgeSwitch(res *Result) error {
	out := string(res.Output)
	topLog := strings.Join(tagged(out, "top"), "\n")
	_, size, problems, err := judgeQuadrantsScript(res, "switch", "alone", "alone-again")
	if err != nil {
		return err
	}
	if box, _, err := finalBox(topLog); err != nil {
		problems = append(problems, "top client: "+err.Error())
	} else {
		top := boxImage(size.X, size.Y, box)
		if err := compareScreendump(res, "covered", top); err != nil {
			problems = append(problems, err.Error())
		}
		// Name the likely failure: the departed client's last frame
		// left on screen means nothing was repainted after it left.
		if img, err := res.Screendump("alone-again"); err == nil && screencheck.CompareImages(img, top, 0).Err() == nil {
			problems = append(problems, "alone-again still shows the shm client's last frame: vitrine repainted nothing after that toplevel went away")
		}
	}
	m := switchCounts.FindStringSubmatch(out)
	if m == nil {
		problems = append(problems, "no composited-lines counts: the script did not get through the switch")
	} else {
		alone, _ := strconv.Atoi(m[1])
		covered, _ := strconv.Atoi(m[2])
		again, _ := strconv.Atoi(m[3])
		if alone != 0 {
			problems = append(problems, fmt.Sprintf("%d composited frames while the dma-buf was alone, want 0 (scanout)", alone))
		}
		if covered-alone < switchTopFrames {
			problems = append(problems, fmt.Sprintf("%d composited frames while the shm client was on top, want at least its %d frames", covered-alone, switchTopFrames))
		}
		if again != covered {
			problems = append(problems, fmt.Sprintf("%d composited frames after the shm client left, want 0: the dma-buf alone again must be scanned out", again-covered))
		}
	}
	if st, err := parseStats(vitrineEvents(tagged(out, "switch"))); err != nil {
		problems = append(problems, err.Error())
	} else if st.Scanout < 2 || st.Composited < switchTopFrames {
		problems = append(problems, fmt.Sprintf("stats scanout=%d composited=%d, want scanout >= 2 (before and after) and composited >= %d", st.Scanout, st.Composited, switchTopFrames))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}
