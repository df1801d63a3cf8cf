// Command seatdemo exercises package seat on a real system: it opens a
// session, takes the given devices, reports pause/resume and input, and
// prints the built-in keymap. It is a lab and debugging tool.
//
//	seatdemo keymap                      print the built-in US keymap
//	seatdemo session [flags] [DEVICE...]  open a session and the devices, log events
//	seatdemo input [flags]               open a session and all input devices, log input
//	seatdemo kdmode                      print the console's KD mode and keyboard mode
//	seatdemo chvt VT                     switch VT with VT_ACTIVATE on the controlling tty, like chvt(1)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/seat"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
	"github.com/vitrine-wm/vitrine/seat/xkb"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: seatdemo keymap | session [--session KIND] [--switch VT] [--for DURATION] [DEVICE...] | input [--session KIND] [--for DURATION]")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	switch os.Args[1] {
	case "keymap":
		_, err = os.Stdout.WriteString(xkb.USKeymap().Text)
	case "session":
		err = session(log, os.Args[2:])
	case "input":
		err = input(log, os.Args[2:])
	case "chvt":
		err = chvt(os.Args[2:])
	case "kdmode":
		err = kdmode()
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "seatdemo:", err)
		os.Exit(1)
	}
}

func countFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// demo is what both commands run on: the session, and the event loop
// that seat reads its fds on (protocol/eventloop behind seat.Loop),
// stopped by SIGINT, SIGTERM or --for.
type demo struct {
	*eventloop.Loop
	s seat.Session
}

// openDemo parses the common flags (and those fs already has) and opens
// the session, its events going to handle on the loop.
func openDemo(log *slog.Logger, fs *flag.FlagSet, args []string, handle func(seat.Event)) (*demo, error) {
	kind := fs.String("session", "auto", "auto|logind|seatd|direct")
	dur := fs.Duration("for", 0, "exit after this long (0: until SIGINT/SIGTERM)")
	fs.Parse(args)
	l, err := eventloop.New()
	if err != nil {
		return nil, fmt.Errorf("event loop: %w", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if *dur > 0 {
			select {
			case <-sigs:
			case <-time.After(*dur):
			}
		} else {
			<-sigs
		}
		l.Post(func() { l.Stop(nil) })
	}()
	d := &demo{Loop: l}
	d.s, err = seat.OpenWith(context.Background(), *kind, seat.Options{Log: log, Loop: d,
		Events: func(ev seat.Event) { l.Post(func() { handle(ev) }) }})
	if err != nil {
		l.Close()
		return nil, err
	}
	return d, nil
}

func (d *demo) WatchReadable(fd int, f func()) (func(), error) {
	src, err := d.AddFD(fd, eventloop.Readable, func(eventloop.Events) { f() })
	if err != nil {
		return nil, err
	}
	return src.Remove, nil
}

func (d *demo) AfterFunc(after time.Duration, f func()) func() {
	t := d.NewTimer(f)
	t.SetAfter(after)
	return t.Stop
}

func (d *demo) close() {
	d.s.Close()
	d.Loop.Close()
}

func session(log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("session", flag.ExitOnError)
	switchVT := fs.Int("switch", 0, "switch to this VT after opening the devices")
	files := map[string]*os.File{}
	var d *demo
	var lost error
	d, err := openDemo(log, fs, args, func(ev seat.Event) {
		switch ev.Kind {
		case seat.DeviceResumed:
			files[ev.Path] = ev.NewFile
		case seat.Lost:
			lost = ev.Err
			d.Stop(nil)
		}
		ev.Ack()
		fmt.Printf("event %s path=%s forced=%v active=%v fds=%d time=%s\n", ev.Kind, ev.Path, ev.Forced, d.s.Active(), countFDs(), time.Now().Format(time.TimeOnly))
	})
	if err != nil {
		return err
	}
	defer d.close()
	s := d.s
	fmt.Printf("session kind=%s seat=%s active=%v fds=%d\n", s.Kind(), s.SeatName(), s.Active(), countFDs())
	for _, p := range fs.Args() {
		f, err := s.OpenDevice(p)
		if err != nil {
			return err
		}
		files[p] = f
		fmt.Printf("opened %s\n", p)
	}
	if *switchVT > 0 {
		if err := s.SwitchVT(*switchVT); err != nil {
			return err
		}
	}
	if err := d.Run(); err != nil {
		return err
	}
	fmt.Printf("exit fds=%d\n", countFDs())
	return lost
}

func input(log *slog.Logger, args []string) error {
	var in *seat.Input
	d, err := openDemo(log, flag.NewFlagSet("input", flag.ExitOnError), args, func(ev seat.Event) {
		if in == nil || !in.HandleSessionEvent(ev) {
			ev.Ack()
		}
		fmt.Printf("session %s\n", ev.Kind)
	})
	if err != nil {
		return err
	}
	defer d.close()
	ks := xkb.USKeymap().NewState()
	in, err = seat.NewInput(d.s, d, func(e inputevent.Event) {
		if k, ok := e.(inputevent.Key); ok && ks.Update(k.Code, k.Pressed) {
			fmt.Printf("modifiers %+v\n", ks.Mods())
		}
		fmt.Printf("%T %+v\n", e, e)
	}, seat.InputOptions{Log: log})
	if err != nil {
		return err
	}
	defer in.Close()
	return d.Run()
}

// chvt switches VTs the way chvt(1) does, through the controlling
// terminal, which a console login may do without privileges.
func chvt(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: seatdemo chvt VT")
	}
	vt, err := strconv.Atoi(args[0])
	if err != nil || vt < 1 {
		return fmt.Errorf("bad VT %q", args[0])
	}
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open controlling tty: %w", err)
	}
	defer f.Close()
	const vtActivate, vtWaitActive = 0x5606, 0x5607
	if err := unix.IoctlSetInt(int(f.Fd()), vtActivate, vt); err != nil {
		return fmt.Errorf("VT_ACTIVATE %d: %w", vt, err)
	}
	if err := unix.IoctlSetInt(int(f.Fd()), vtWaitActive, vt); err != nil {
		return fmt.Errorf("VT_WAITACTIVE %d: %w", vt, err)
	}
	return nil
}

func kdmode() error {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open controlling tty: %w", err)
	}
	defer f.Close()
	const kdGetMode, kdGetKbMode = 0x4B3B, 0x4B44
	mode, err := unix.IoctlGetInt(int(f.Fd()), kdGetMode)
	if err != nil {
		return fmt.Errorf("KDGETMODE: %w", err)
	}
	kb, err := unix.IoctlGetInt(int(f.Fd()), kdGetKbMode)
	if err != nil {
		return fmt.Errorf("KDGKBMODE: %w", err)
	}
	fmt.Printf("kdmode=%d kbmode=%d\n", mode, kb)
	return nil
}
