// Command dmabuf-client shows the shm-client patterns in linear XRGB8888
// dma-bufs imported through zwp_linux_dmabuf_v1.
//
//	dmabuf-client --alloc vgem[:CARD]|udmabuf|dma-heap[:NAME]|dumb:/dev/dri/cardN
//	              [--pattern quadrants|moving-box] [--fullscreen] [--seconds S]
//	              [--size WxH] [--frames N] [--create immed|async]
//	              [--format xrgb8888|argb8888|nv12] [--video-subsurface]
//
// --video-subsurface adds a subsurface to the toplevel (which shows the
// --pattern in XRGB8888): the quadrants in a 320x180 --format buffer,
// viewported to 640x360 and moved every frame; it prints
//
//	video-subsurface size=320x180 destination=640x360 format=NV12
//	video-at frame=N x=X y=Y                 before each toplevel commit
//
// --format nv12 draws the pattern in RGB and converts it into an NV12
// buffer (luma, then interleaved chroma, in one dma-buf) with the
// colorimetry a compositor assumes of a video that says nothing:
// limited range, BT.709 from 1280x720 up, BT.601 below.
//
// Lines on stdout, in this order (tests and the lab parse them):
//
//	alloc source=vgem device=/dev/dri/card1
//	dmabuf version=4
//	feedback main_device=226:0 format_table_entries=N tranches=T
//	feedback-tranche index=I target_device=226:0 flags=0x1 scanout=true formats=N xr24_modifiers=M
//	surface-feedback ... / surface-feedback-tranche ...   (same fields; again on every update)
//	chosen from=surface-feedback|feedback|modifiers|formats tranche=I format=XR24 modifier=0x0 modifier_name=linear
//	buffer width=W height=H stride=S bytes=N format=XR24 modifier=0x0 create=immed
//	first-frame WxH
//	fullscreen on|off                        --toggle-on-usr1: SIGUSR1 toggled fullscreen
//	resized WxH                              a frame of a new size was shown
//	final-box ... | done ...                 (as shm-client, with --frames)
//
// With --alloc-only it prints the alloc line and
//
//	alloc-ok source=vgem width=W height=H stride=S bytes=N pattern=quadrants
//
// after drawing frame 0 of the pattern into one buffer (between
// DMA_BUF_IOCTL_SYNC calls) and reading it back, without any compositor.
//
// Exit status 0 as for shm-client; 1 with a message on stderr when the
// memory cannot be allocated or the compositor cannot import it.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	linux "github.com/neurlang/wayland/stable/linux-dmabuf-v1"

	"github.com/vitrine-wm/vitrine/examples/internal/content"
	"github.com/vitrine-wm/vitrine/examples/internal/dmabuf"
	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/shm"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

const name = "dmabuf-client"

// dmabufVersion is the newest zwp_linux_dmabuf_v1 used: 4 has feedback.
const dmabufVersion = 4

// Opcodes of zwp_linux_dmabuf_v1 requests creating feedback objects; sent
// directly because feedback uses this package's own proxy type.
const (
	opGetDefaultFeedback = 2
	opGetSurfaceFeedback = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, stdout, stderr, dmabuf.Open)
}

// runWith is run with the --alloc parser replaceable, so tests without
// dma-buf devices can hand in other memory.
func runWith(args []string, stdout, stderr io.Writer, open func(spec string) (dmabuf.Source, error)) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	allocSpec := fs.String("alloc", "", "buffer memory: vgem[:CARD], udmabuf, dma-heap[:NAME] or dumb:/dev/dri/cardN (required)")
	patternName := fs.String("pattern", content.NameQuadrants, "pattern to show: quadrants or moving-box")
	fullscreen := fs.Bool("fullscreen", false, "ask the compositor for fullscreen")
	seconds := fs.Float64("seconds", 0, "exit 0 after this many seconds (0: no time limit)")
	sizeFlag := fs.String("size", "640x480", "window size when the compositor leaves it to the client")
	frames := fs.Int("frames", 0, "stop after this many frames were shown (0: never)")
	toggle := fs.Bool("toggle-on-usr1", false, "leave or enter fullscreen on each SIGUSR1 (prints fullscreen on|off, then resized WxH)")
	createMode := fs.String("create", "immed", "wl_buffer creation: immed (create_immed) or async (create, wait for created/failed)")
	display := fs.String("display", "", "wayland display name or socket path (default $WAYLAND_DISPLAY)")
	verbose := fs.Bool("verbose", false, "log protocol progress to stderr")
	formatName := fs.String("format", "xrgb8888", "buffer format: xrgb8888, argb8888 or nv12")
	videoSub := fs.Bool("video-subsurface", false, "add a moving, viewported subsurface showing the quadrants in the --format (the toplevel then uses XRGB8888)")
	videoScale := fs.Int("video-scale", 2, "with --video-subsurface: show the video at this many times its 320x180 size (1: unscaled)")
	videoStill := fs.Bool("video-still", false, "with --video-subsurface: keep the video at one place and play it: two buffers of the same picture in turn, one a frame")
	uiKind := fs.String("ui", "dmabuf", "with --video-subsurface: the toplevel's buffers, dmabuf (--alloc) or shm (drawn by the CPU, as a toolkit does)")
	allocOnly := fs.Bool("alloc-only", false, "only allocate one --size buffer, draw --pattern frame 0 into it with CPU access syncs, verify it and exit (no compositor needed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	if *allocSpec == "" {
		fmt.Fprintf(stderr, "%s: --alloc is required (vgem, udmabuf, dma-heap[:NAME] or dumb:/dev/dri/cardN)\n", name)
		return 2
	}
	painter, err := content.ByName(*patternName)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --pattern: %v\n", name, err)
		return 2
	}
	size, err := window.ParseSize(*sizeFlag)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --size: %v\n", name, err)
		return 2
	}
	if *seconds < 0 || *frames < 0 {
		fmt.Fprintf(stderr, "%s: --seconds and --frames must not be negative\n", name)
		return 2
	}
	if *createMode != "immed" && *createMode != "async" {
		fmt.Fprintf(stderr, "%s: --create must be immed or async\n", name)
		return 2
	}
	if *videoScale < 1 || *videoScale > 4 {
		fmt.Fprintf(stderr, "%s: --video-scale must be 1 to 4\n", name)
		return 2
	}
	if *uiKind != "dmabuf" && *uiKind != "shm" {
		fmt.Fprintf(stderr, "%s: --ui must be dmabuf or shm\n", name)
		return 2
	}
	format, ok := map[string]uint32{"xrgb8888": dmabuf.FormatXRGB8888, "argb8888": dmabuf.FormatARGB8888, "nv12": dmabuf.FormatNV12}[*formatName]
	if !ok {
		fmt.Fprintf(stderr, "%s: --format must be xrgb8888, argb8888 or nv12\n", name)
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	out := report.NewLines(stdout)
	defer out.Close()

	// The memory first: a missing device is the likeliest failure and
	// needs no compositor to report.
	src, err := open(*allocSpec)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --alloc %s: %v\n", name, *allocSpec, err)
		return 1
	}
	defer src.Close()
	out.Printf("alloc source=%s device=%s", src.Kind(), src.Device())
	if *allocOnly {
		if err := checkAlloc(src, size, *patternName, out); err != nil {
			fmt.Fprintf(stderr, "%s: --alloc-only: %v\n", name, err)
			return 1
		}
		return 0
	}

	conn, err := window.Connect(*display, log)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	defer conn.Close()

	uiFormat := format
	if *videoSub {
		uiFormat = dmabuf.FormatXRGB8888
	}
	c := &client{conn: conn, out: out, log: log, format: uiFormat}
	if err := c.bind(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	alloc := &dmabuf.Allocator{Conn: conn, Dmabuf: c.dmabuf, Source: src, Async: *createMode == "async", Out: out}
	var winAlloc window.Allocator = alloc
	shmUI := *videoSub && *uiKind == "shm"
	if shmUI {
		winAlloc = &shm.Allocator{Shm: conn.Shm}
	}
	var vid *video
	win, err := window.New(conn, winAlloc, painter, out, log, window.Options{
		BeforeCommit: func(n int) error {
			if vid == nil {
				return nil
			}
			return vid.beforeCommit(n)
		},
		Title:        name,
		AppID:        name,
		Fullscreen:   *fullscreen,
		Size:         size,
		Frames:       *frames,
		ToggleOnUSR1: *toggle,
	})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	alloc.OnError = win.Fail
	if !shmUI {
		if alloc.Choice, err = c.choose(win); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 1
		}
	}
	if *videoSub {
		if vid, err = c.startVideo(win, src, format, videoOptions{scale: *videoScale, still: *videoStill}); err != nil {
			fmt.Fprintf(stderr, "%s: --video-subsurface: %v\n", name, err)
			return 1
		}
	}
	if err := win.Run(time.Duration(*seconds * float64(time.Second))); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// client holds the zwp_linux_dmabuf_v1 state.
type client struct {
	conn    *window.Conn
	out     *report.Lines
	log     *slog.Logger
	dmabuf  *linux.ZwpDmabufV1
	version uint32

	defaultFB *dmabuf.FeedbackState
	surfaceFB *dmabuf.FeedbackState
	modifiers []dmabuf.FormatModifier
	formats   []uint32
	// format is the --format to allocate.
	format uint32
}

func (c *client) HandleZwpDmabufV1Format(ev linux.ZwpDmabufV1FormatEvent) {
	c.formats = append(c.formats, ev.Format)
}

func (c *client) HandleZwpDmabufV1Modifier(ev linux.ZwpDmabufV1ModifierEvent) {
	c.modifiers = append(c.modifiers, dmabuf.FormatModifier{Format: ev.Format, Modifier: uint64(ev.ModifierHi)<<32 | uint64(ev.ModifierLo)})
}

// bind binds zwp_linux_dmabuf_v1 and collects the default feedback (v4) or
// the format/modifier list (older versions).
func (c *client) bind() error {
	c.dmabuf = linux.NewZwpDmabufV1(c.conn.Context())
	var err error
	if c.version, err = c.conn.Bind("zwp_linux_dmabuf_v1", 1, dmabufVersion, c.dmabuf); err != nil {
		return fmt.Errorf("%w (the compositor cannot take dma-bufs)", err)
	}
	c.out.Printf("dmabuf version=%d", c.version)
	if c.version < 4 {
		c.dmabuf.AddFormatHandler(c)
		c.dmabuf.AddModifierHandler(c)
		return c.conn.Roundtrip()
	}
	fb := dmabuf.NewFeedback(c.conn.Context())
	fb.OnDone = func(s dmabuf.FeedbackState) {
		c.defaultFB = &s
		for _, l := range dmabuf.FeedbackLines("feedback", s) {
			c.out.Printf("%s", l)
		}
	}
	if err := c.conn.Context().SendRequest(c.dmabuf, opGetDefaultFeedback, fb); err != nil {
		return fmt.Errorf("get_default_feedback: %w", err)
	}
	if err := c.conn.Roundtrip(); err != nil {
		return fmt.Errorf("wait for default feedback: %w", err)
	}
	if fb.Err != nil {
		return fmt.Errorf("default feedback: %w", fb.Err)
	}
	return nil
}

// choose asks for the surface's own feedback (v4) and picks the format and
// modifier; surface feedback, being specific to where the window is shown,
// wins over the default one.
func (c *client) choose(win *window.Window) (dmabuf.Choice, error) {
	if c.version < 4 {
		if c.version == 3 {
			ch, err := dmabuf.ChooseFormatFromModifiers(c.modifiers, c.format)
			c.printChoice("modifiers", ch, err)
			return ch, err
		}
		for _, f := range c.formats {
			if f == c.format {
				ch := dmabuf.Choice{Tranche: -1, Format: f, Modifier: dmabuf.ModInvalid}
				c.printChoice("formats", ch, nil)
				return ch, nil
			}
		}
		return dmabuf.Choice{}, fmt.Errorf("compositor does not list %s (%s) among %d dma-buf formats", dmabuf.FourCC(c.format), dmabuf.FormatName(c.format), len(c.formats))
	}
	fb := dmabuf.NewFeedback(c.conn.Context())
	fb.OnDone = func(s dmabuf.FeedbackState) {
		c.surfaceFB = &s
		for _, l := range dmabuf.FeedbackLines("surface-feedback", s) {
			c.out.Printf("%s", l)
		}
	}
	if err := c.conn.Context().SendRequest(c.dmabuf, opGetSurfaceFeedback, fb, win.Surface); err != nil {
		return dmabuf.Choice{}, fmt.Errorf("get_surface_feedback: %w", err)
	}
	if err := c.conn.Roundtrip(); err != nil {
		return dmabuf.Choice{}, fmt.Errorf("wait for surface feedback: %w", err)
	}
	if fb.Err != nil {
		c.log.Warn("surface feedback unusable", "err", fb.Err)
	} else if c.surfaceFB != nil {
		if ch, err := dmabuf.ChooseFormat(*c.surfaceFB, c.format); err == nil {
			c.printChoice("surface-feedback", ch, nil)
			return ch, nil
		}
	}
	if c.defaultFB == nil {
		return dmabuf.Choice{}, fmt.Errorf("compositor sent no dma-buf feedback")
	}
	ch, err := dmabuf.ChooseFormat(*c.defaultFB, c.format)
	c.printChoice("feedback", ch, err)
	return ch, err
}

// startVideo makes the --video-subsurface with buffers of format, chosen
// from the default feedback (or the modifier list).
func (c *client) startVideo(win *window.Window, src dmabuf.Source, format uint32, opts videoOptions) (*video, error) {
	var ch dmabuf.Choice
	var err error
	if c.defaultFB != nil {
		ch, err = dmabuf.ChooseFormat(*c.defaultFB, format)
	} else {
		ch, err = dmabuf.ChooseFormatFromModifiers(c.modifiers, format)
	}
	if err != nil {
		return nil, err
	}
	alloc := &dmabuf.Allocator{Conn: c.conn, Dmabuf: c.dmabuf, Source: src, Choice: ch, Out: c.out}
	return newVideo(c.conn, win.Surface, alloc, c.out, opts)
}

func (c *client) printChoice(from string, ch dmabuf.Choice, err error) {
	if err != nil {
		return
	}
	c.out.Printf("chosen from=%s tranche=%d format=%s modifier=0x%x modifier_name=%s",
		from, ch.Tranche, dmabuf.FourCC(ch.Format), ch.Modifier, dmabuf.ModifierName(ch.Modifier))
}
