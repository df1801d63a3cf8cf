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

	"github.com/vitrine-wm/vitrine/seat"
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

func session(log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("session", flag.ExitOnError)
	kind := fs.String("session", "auto", "auto|logind|seatd|direct")
	switchVT := fs.Int("switch", 0, "switch to this VT after opening the devices")
	dur := fs.Duration("for", 0, "exit after this long (0: until SIGINT/SIGTERM)")
	fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	s, err := seat.Open(ctx, *kind, log)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("session kind=%s seat=%s active=%v fds=%d\n", s.Kind(), s.SeatName(), s.Active(), countFDs())
	files := map[string]*os.File{}
	for _, p := range fs.Args() {
		f, err := s.OpenDevice(p)
		if err != nil {
			return err
		}
		files[p] = f
		fmt.Printf("opened %s fd=%d\n", p, f.Fd())
	}
	if *switchVT > 0 {
		if err := s.SwitchVT(*switchVT); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Printf("exit fds=%d\n", countFDs())
			return nil
		case ev, ok := <-s.Events():
			if !ok {
				return nil
			}
			switch ev.Kind {
			case seat.DeviceResumed:
				files[ev.Path] = ev.NewFile
			case seat.Lost:
				ev.Ack()
				return ev.Err
			}
			ev.Ack()
			fmt.Printf("event %s path=%s forced=%v active=%v fds=%d time=%s\n", ev.Kind, ev.Path, ev.Forced, s.Active(), countFDs(), time.Now().Format(time.TimeOnly))
		}
	}
}

func input(log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("input", flag.ExitOnError)
	kind := fs.String("session", "auto", "auto|logind|seatd|direct")
	dur := fs.Duration("for", 0, "exit after this long (0: until SIGINT/SIGTERM)")
	fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	s, err := seat.Open(ctx, *kind, log)
	if err != nil {
		return err
	}
	defer s.Close()
	in, err := seat.NewInput(s, log)
	if err != nil {
		return err
	}
	defer in.Close()
	ks := xkb.USKeymap().NewState()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-s.Events():
			if !in.HandleSessionEvent(ev) {
				ev.Ack()
			}
			fmt.Printf("session %s\n", ev.Kind)
		case e := <-in.Events():
			if k, ok := e.(seat.Key); ok && ks.Update(k.Code, k.Pressed) {
				fmt.Printf("modifiers %+v\n", ks.Mods())
			}
			fmt.Printf("%T %+v\n", e, e)
		}
	}
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
