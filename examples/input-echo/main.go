// Command input-echo shows a fullscreen solid-colour (#204080) toplevel and
// prints every wl_seat event it receives, one per line:
//
//	seat name=NAME
//	capabilities pointer=BOOL keyboard=BOOL touch=BOOL
//	no-seat                                  (the compositor has no wl_seat)
//	keymap format=1 size=N
//	keyboard-enter keys=30,31                (comma-separated key codes, may be empty)
//	keyboard-leave
//	key code=30 state=pressed|released|repeated
//	modifiers depressed=N latched=N locked=N group=N
//	repeat-info rate=N delay=N
//	pointer-enter x=12.50 y=40.00
//	pointer-leave
//	pointer-motion x=12.50 y=40.00
//	button code=272 state=pressed|released
//	axis axis=vertical|horizontal value=10.00
//	axis-source source=wheel|finger|continuous|wheel-tilt
//	axis-stop axis=vertical
//	axis-discrete axis=vertical steps=1
//	axis-value120 axis=vertical value120=120
//	axis-relative-direction axis=vertical direction=identical|inverted
//	frame                                    (wl_pointer.frame)
//	touch-down id=0 x=10.00 y=20.00
//	touch-motion id=0 x=11.00 y=20.00
//	touch-up id=0
//	touch-frame
//	touch-cancel
//	touch-shape id=0 major=1.00 minor=1.00
//	touch-orientation id=0 orientation=90.00
//	first-frame WxH                          (the surface is on screen)
//
// Coordinates are surface-local with two decimals. It exits 0 after
// --seconds S (0: run until killed) or when the compositor closes it.
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

const name = "input-echo"

// background is the surface colour; lab screenshots can check for it.
const background = 0x204080

// seatVersion is the newest wl_seat the wayland binding decodes fully.
const seatVersion = 9

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	seconds := fs.Float64("seconds", 0, "exit 0 after this many seconds (0: run until killed)")
	sizeFlag := fs.String("size", "640x480", "window size when the compositor leaves it to the client")
	noFullscreen := fs.Bool("no-fullscreen", false, "do not ask for fullscreen")
	display := fs.String("display", "", "wayland display name or socket path (default $WAYLAND_DISPLAY)")
	verbose := fs.Bool("verbose", false, "log protocol progress to stderr")
	withCursor := fs.Bool("cursor", false, "set a 32x32 magenta cursor (hotspot: its top-left corner) on pointer enter")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	size, err := window.ParseSize(*sizeFlag)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --size: %v\n", name, err)
		return 2
	}
	if *seconds < 0 {
		fmt.Fprintf(stderr, "%s: --seconds must not be negative\n", name)
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

	if _, ok := conn.Find("wl_seat"); ok {
		e := &echo{seat: wl.NewSeat(conn.Context()), out: out, log: log}
		if e.version, err = conn.Bind("wl_seat", 1, seatVersion, e.seat); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 1
		}
		if *withCursor {
			if e.cursor, err = newCursor(conn); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", name, err)
				return 1
			}
		}
		e.seat.AddCapabilitiesHandler(e)
		e.seat.AddNameHandler(e)
	} else {
		out.Printf("no-seat")
	}

	win, err := window.New(conn, &shm.Allocator{Shm: conn.Shm}, content.Solid{Color: background}, out, log, window.Options{
		Title:      name,
		AppID:      name,
		Fullscreen: !*noFullscreen,
		Size:       size,
	})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if err := win.Run(time.Duration(*seconds * float64(time.Second))); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
