package lab

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/draw"
	"regexp"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/render"
)

// vkmsOverlayScenario proves the overlay-plane path on a real kernel
// driver. vkms loaded with enable_overlay=1 gives its CRTC eight
// overlay planes (6.12: RGB formats only, no scaling, no zpos: they
// stack in plane order above the primary). dmabuf-client shows a
// fullscreen wl_shm UI (composited, as a toolkit's) with an unscaled
// XRGB8888 dma-buf video subsurface that plays (a new buffer every
// frame) at one place. Three runs:
//
//   - overlay: the video on an overlay plane, the UI composited on the
//     primary; each video frame is an overlay flip that copies nothing;
//   - composited (--no-overlay-planes): the video copied every frame;
//   - scaled: the video viewported to twice its size, which vkms's planes
//     cannot scale: TEST_ONLY refuses it and it is composited by the CPU
//     scaler.
//
// vkms's CRC of each still screen must equal the host's CRC of the
// expected picture (for scaled, drawn by render's scaler: the copy path
// must be pixel-exact with it), overlay and composited must agree, the
// JSON stats event must show the overlay used (only) in the overlay
// run, and the overlay run must copy fewer bytes.
func vkmsOverlayScenario() Scenario {
	runs := vkmsOverlayRuns()
	var b strings.Builder
	b.WriteString(guestHelpers)
	b.WriteString(vkmsPreamble)
	for _, r := range runs {
		fmt.Fprintf(&b, `log=/tmp/%[1]s.log
vitrine --backend drm --session direct --drm-device /dev/dri/$card --log-format json %[2]s -- dmabuf-client --alloc udmabuf --pattern quadrants --fullscreen --video-subsurface --format xrgb8888 --video-still --ui shm --video-scale %[3]d >$log 2>&1 &
pid=$!
if waitfor $log %[4]q 90 && waitfor $log '^video-played frames=100$' 120; then
	sleep %[5]s
	echo auto > $dbg/crtc-0/crc/control
	timeout 30 head -n %[6]d $dbg/crtc-0/crc/data >/tmp/%[1]s.crc || fail "%[1]s: reading %[6]d CRCs"
	tr -d '\000' </tmp/%[1]s.crc | sed 's/^/%[1]s-crc /'
fi
kill -TERM $pid
wait $pid
echo "%[1]s-exit=$?"
sed 's/^/%[1]s| /' $log
`, r.tag, r.flags, r.scale, firstFrameLine, settle, vkmsCRCLines)
	}
	b.WriteString("exit $status\n")
	const name = "vkms-overlay"
	return Scenario{
		Name:         name,
		Displays:     []string{"virtio"},
		Render:       RenderVKMSOverlay,
		NeedsVitrine: true,
		Timeout:      5 * time.Minute,
		Command:      b.String(),
		Check: func(env *Env, res *Result, runErr error) error {
			if runErr != nil {
				return runErr
			}
			got, err := judgeVKMSOverlay(string(res.Output), res.ExitCode)
			if env != nil && env.Log != nil {
				for _, r := range runs {
					g := got[r.tag]
					env.Log.Info("vkms overlay row", "run", r.tag, "crc", crcHex(g.crc), "frames", g.stats.Frames, "overlay0", g.stats.Overlay(0),
						"copied_bytes", g.stats.CopiedBytes)
				}
			}
			return err
		},
	}
}

type vkmsOverlayRun struct {
	tag, flags string
	scale      int
	overlay    bool // the video must be on an overlay plane
}

func vkmsOverlayRuns() []vkmsOverlayRun {
	return []vkmsOverlayRun{
		{tag: "overlay", scale: 1, overlay: true},
		{tag: "composited", flags: "--no-overlay-planes", scale: 1},
		{tag: "scaled", scale: 2},
	}
}

type overlayRunResult struct {
	crc   uint32
	stats vitrineStats
}

// judgeVKMSOverlay checks the row's output and returns each run's CRC
// and stats.
func judgeVKMSOverlay(out string, exit int) (map[string]overlayRunResult, error) {
	var problems []string
	if exit != 0 {
		problems = append(problems, fmt.Sprintf("guest script exited %d", exit))
	}
	problems = append(problems, failLines.FindAllString(out, -1)...)
	got := map[string]overlayRunResult{}
	for _, r := range vkmsOverlayRuns() {
		lines := tagged(out, r.tag)
		log := strings.Join(lines, "\n")
		if !regexp.MustCompile(`(?m)^` + r.tag + `-exit=0$`).MatchString(out) {
			problems = append(problems, r.tag+": vitrine did not exit 0 on SIGTERM")
		}
		var res overlayRunResult
		evs := vitrineEvents(lines)
		for _, e := range errorEvents(evs) {
			problems = append(problems, r.tag+": "+e)
		}
		st, err := parseStats(evs)
		found := err == nil
		if found {
			res.stats = st
		} else {
			problems = append(problems, r.tag+": "+err.Error())
		}
		size, err := firstFrameSize(log, "")
		if err != nil {
			problems = append(problems, r.tag+": "+err.Error())
		}
		if c, err := vkmsCRC(out, r.tag); err != nil {
			problems = append(problems, err.Error())
		} else {
			res.crc = c
			if size != (image.Point{}) {
				if want := vkmsCRCOf(overlayPicture(size, r.scale)); c != want {
					problems = append(problems, fmt.Sprintf("%s: vkms's CRC %s is not the %v quadrants with the video at %d,%d scaled %dx (%s): the screen is not what the client drew",
						r.tag, crcHex(c), size, 40, 40, r.scale, crcHex(want)))
				}
			}
		}
		switch st := res.stats; {
		case !found:
		case r.overlay && st.Overlay(0) < 100:
			problems = append(problems, fmt.Sprintf("%s: stats overlay0=%d: the video (100 frames played) was not on the overlay plane", r.tag, st.Overlay(0)))
		case !r.overlay && st.Overlay(0) != 0:
			problems = append(problems, fmt.Sprintf("%s: stats overlay0=%d, want the video composited", r.tag, st.Overlay(0)))
		case st.Scanout != 0:
			problems = append(problems, fmt.Sprintf("%s: stats scanout=%d: the UI is wl_shm and must be composited", r.tag, st.Scanout))
		}
		got[r.tag] = res
	}
	ov, co := got["overlay"], got["composited"]
	if ov.crc != 0 && co.crc != 0 && ov.crc != co.crc {
		problems = append(problems, fmt.Sprintf("vkms composed a different picture with the video on the overlay plane (CRC %s) than with it copied (CRC %s)", crcHex(ov.crc), crcHex(co.crc)))
	}
	if ov.stats.Frames > 0 && co.stats.Frames > 0 && ov.stats.CopiedBytes >= co.stats.CopiedBytes {
		problems = append(problems, fmt.Sprintf("the overlay run copied %d bytes, not fewer than the composited run's %d", ov.stats.CopiedBytes, co.stats.CopiedBytes))
	}
	if len(problems) > 0 {
		return got, fmt.Errorf("%s\noutput ends:\n%s", strings.Join(problems, "\n"), indent(tail(nonFrameLines(out), 25)))
	}
	return got, nil
}

// overlayPicture is what the row's screen shows: the size×size quadrants
// (the UI) with the 320x180 quadrants (the video) at 40,40 shown scale
// times its size, scaled as vitrine's copy path scales (render.Draw):
// the reference the CPU path must match pixel for pixel.
func overlayPicture(size image.Point, scale int) *image.RGBA {
	ui := quadrantsImage(size.X, size.Y, quadrantColors)
	video := toXRGB(quadrantsImage(320, 180, quadrantColors))
	dst := toXRGB(ui)
	at := image.Rect(40, 40, 40+320*scale, 40+180*scale)
	render.Draw(dst, render.Layer{Src: video, SrcRect: video.Bounds(), Dst: at, Opaque: true}, dst.Bounds())
	out := image.NewRGBA(ui.Bounds())
	draw.Draw(out, out.Bounds(), ui, image.Point{}, draw.Src)
	for y := range dst.Height {
		for x := range dst.Width {
			p := dst.PixelARGB(x, y)
			out.Pix[y*out.Stride+4*x], out.Pix[y*out.Stride+4*x+1], out.Pix[y*out.Stride+4*x+2], out.Pix[y*out.Stride+4*x+3] =
				byte(p>>16), byte(p>>8), byte(p), 0xff
		}
	}
	return out
}

func toXRGB(img *image.RGBA) *render.Image {
	b := img.Bounds()
	out := render.NewImage(b.Dx(), b.Dy(), render.XRGB8888)
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := img.RGBAAt(x, y)
			out.SetPixelARGB(x, y, 0xff000000|uint32(c.R)<<16|uint32(c.G)<<8|uint32(c.B))
		}
	}
	return out
}

// vkmsCRCOf is the CRC vkms (6.12, vkms_composer.c) reports for an
// opaque picture: per row, the pixels as little-endian ARGB16161616
// (each 8-bit channel times 257, alpha 0xffff), through crc32_le seeded
// 0, which is Go's IEEE CRC without its two inversions.
func vkmsCRCOf(rgba *image.RGBA) uint32 {
	b := rgba.Bounds()
	row := make([]byte, 8*b.Dx())
	var crc uint32
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := 0; x < b.Dx(); x++ {
			p := rgba.RGBAAt(b.Min.X+x, y)
			binary.LittleEndian.PutUint16(row[8*x:], 0xffff)
			binary.LittleEndian.PutUint16(row[8*x+2:], uint16(p.R)*257)
			binary.LittleEndian.PutUint16(row[8*x+4:], uint16(p.G)*257)
			binary.LittleEndian.PutUint16(row[8*x+6:], uint16(p.B)*257)
		}
		crc = ^crc32.Update(^crc, crc32.IEEETable, row)
	}
	return crc
}
