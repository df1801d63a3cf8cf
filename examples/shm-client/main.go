// Command shm-client shows a test pattern in an xdg_toplevel using wl_shm
// buffers.
//
//	shm-client [--pattern quadrants|moving-box] [--fullscreen] [--seconds S]
//	           [--size WxH] [--fixed-size] [--frames N] [--watch-outputs] [--output NAME]
//
// Lines on stdout (tests parse them):
//
//	first-frame WxH                          first frame shown (its frame callback came back)
//	fullscreen on|off                        --toggle-on-usr1: SIGUSR1 toggled fullscreen
//	resized WxH                              a frame of a new size was shown
//	final-box x=X y=Y w=64 h=64 frames=N     moving-box stopped after --frames N
//	done frames=N size=WxH                   quadrants shown for --frames N frames
//	closed                                   the compositor closed the toplevel
//	output-added NAME WxH                    --watch-outputs: a wl_output global (name, current mode)
//	output-removed NAME                      --watch-outputs: its global was removed
//	surface-enter NAME, surface-leave NAME   --watch-outputs: the window entered or left that output
//
// It exits 0 after --seconds S (0: no time limit), after --frames N frames
// when --seconds is 0, or when closed; never if both are 0.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/neurlang/wayland/wl"

	"github.com/vitrine-wm/vitrine/examples/internal/content"
	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/shm"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

const name = "shm-client"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	patternName := fs.String("pattern", content.NameQuadrants, "pattern to show: quadrants or moving-box")
	fullscreen := fs.Bool("fullscreen", false, "ask the compositor for fullscreen")
	seconds := fs.Float64("seconds", 0, "exit 0 after this many seconds (0: no time limit)")
	sizeFlag := fs.String("size", "640x480", "window size when the compositor leaves it to the client")
	fixed := fs.Bool("fixed-size", false, "draw at --size whatever size the compositor suggests (as weston-simple-shm does)")
	frames := fs.Int("frames", 0, "stop after this many frames were shown (0: never)")
	toggle := fs.Bool("toggle-on-usr1", false, "leave or enter fullscreen on each SIGUSR1 (prints fullscreen on|off, then resized WxH)")
	display := fs.String("display", "", "wayland display name or socket path (default $WAYLAND_DISPLAY)")
	verbose := fs.Bool("verbose", false, "log protocol progress to stderr")
	watch := fs.Bool("watch-outputs", false, "print output-added NAME WxH and output-removed NAME as wl_output globals come and go")
	outputName := fs.String("output", "", "wait for the output called NAME and go fullscreen on it (implies --fullscreen and --watch-outputs)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
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

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	out := report.NewLines(stdout)
	defer out.Close()

	conn, err := window.Connect(*display, log)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	defer conn.Close()
	var fsOutput *wl.Output
	var outputs *outputWatch
	if *watch || *outputName != "" {
		outputs = watchOutputs(conn, out, log)
		for *outputName != "" && fsOutput == nil {
			if fsOutput = outputs.named(*outputName); fsOutput == nil {
				if err := conn.Dispatch(); err != nil {
					fmt.Fprintf(stderr, "%s: wait for output %s: %v\n", name, *outputName, err)
					return 1
				}
			}
		}
	}
	win, err := window.New(conn, &shm.Allocator{Shm: conn.Shm}, painter, out, log, window.Options{
		Title:        name,
		AppID:        name,
		Fullscreen:   *fullscreen || fsOutput != nil,
		Output:       fsOutput,
		Size:         size,
		FixedSize:    *fixed,
		Frames:       *frames,
		ToggleOnUSR1: *toggle,
	})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if outputs != nil {
		win.Surface.AddEnterHandler(outputs)
		win.Surface.AddLeaveHandler(outputs)
	}
	if err := win.Run(time.Duration(*seconds * float64(time.Second))); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
