// Command kmsdemo lights the outputs of a DRM device through package kms
// and shows a test pattern, for checking modesetting, damage-clip copying
// and restore on real drivers in the lab before a compositor drives kms.
//
//	kmsdemo [-device /dev/dri/card0] [-pattern quadrants|box] [-frames 200]
//	        [-legacy] [-rotate 90] [-mode 1024x768] [-wait]
//
// Lines starting with "SCREENDUMP name" tell the lab harness to take a
// screendump now; kmsdemo then holds the picture for -hold.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/evdev"
)

// Pattern colours (ARGB), the same as the example clients'.
const (
	red     = 0xffff0000
	green   = 0xff00ff00
	blue    = 0xff0000ff
	white   = 0xffffffff
	black   = 0xff000000
	magenta = 0xffff00ff
)

func main() {
	var (
		device   = flag.String("device", "", "DRM device (default: first primary node with a connected connector)")
		pattern  = flag.String("pattern", "quadrants", "quadrants or box")
		frames   = flag.Int("frames", 200, "frames of the moving box")
		legacy   = flag.Bool("legacy", false, "force the legacy (non-atomic) path")
		rotate   = flag.Int("rotate", 0, "output rotation: 0, 90, 180, 270")
		mode     = flag.String("mode", "", "mode WxH[@Hz]")
		buffers  = flag.Int("buffers", 0, "scanout buffers (0: per driver)")
		hold     = flag.Duration("hold", 2*time.Second, "how long to hold the picture after a SCREENDUMP line")
		wait     = flag.Bool("wait", false, "after drawing, wait for SIGTERM/SIGINT instead of exiting")
		boxSize  = flag.Int("box", 64, "moving box edge")
		boxStep  = flag.Int("step", 8, "moving box step per frame")
		verbose  = flag.Bool("v", false, "debug logging")
		nameFlag = flag.String("name", "", "name in the SCREENDUMP line (default: the pattern)")
	)
	noWait := flag.Bool("nowait", false, "present box frames back to back without waiting for completions")
	dropOld := flag.Bool("drop-old-damage", false, "report only the new box position as damage (a deliberately wrong client, to show the lab catches stale pixels)")
	probe := flag.Bool("probe", false, "print the kms.Probe report and exit")
	probeJSON := flag.Bool("json", false, "with -probe: JSON")
	watch := flag.Duration("watch", 0, "print DRM hotplug uevents for this long and exit")
	flag.Parse()
	if *probe {
		rep, err := kms.Probe()
		if err == nil {
			if *probeJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				err = enc.Encode(rep)
			} else {
				err = rep.WriteText(os.Stdout)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "kmsdemo:", err)
			os.Exit(1)
		}
		return
	}
	if *watch > 0 {
		if err := watchHotplug(*watch); err != nil {
			fmt.Fprintln(os.Stderr, "kmsdemo:", err)
			os.Exit(1)
		}
		return
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	if err := run(*device, *pattern, *frames, *legacy, *rotate, *mode, *buffers, *hold, *wait, *boxSize, *boxStep, *nameFlag, *dropOld, *noWait); err != nil {
		fmt.Fprintln(os.Stderr, "kmsdemo:", err)
		os.Exit(1)
	}
}

func run(path, pattern string, frames int, legacy bool, rotate int, mode string, buffers int, hold time.Duration, wait bool, boxSize, boxStep int, name string, dropOld, noWait bool) error {
	if rotate%90 != 0 || rotate < 0 || rotate > 270 {
		return fmt.Errorf("-rotate %d: want 0, 90, 180 or 270", rotate)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	dev, err := openDevice(path)
	if err != nil {
		return err
	}
	defer dev.Close()
	loop := &demoLoop{dev: dev, sigs: sigs}
	done := 0 // completions not waited for yet
	opts := kms.Options{
		OutputConfig: kms.OutputConfig{Mode: mode, Rotate: render.Transform(rotate / 90)},
		ForceLegacy:  legacy,
		Buffers:      buffers,
		NewTimer:     loop.newTimer,
	}
	set, err := kms.NewOutputs(dev, opts, func(o *kms.Output, info present.Info) {
		slog.Debug("presented", "output", o.Name(), "time", info.Time, "seq", info.Seq, "flags", info.Flags)
		done++
	})
	if err != nil {
		return err
	}
	defer set.Close()
	outs := set.Outputs()
	if len(outs) == 0 {
		return fmt.Errorf("%s: no connected connector", dev.Path())
	}
	completions := 0
	show := func(o *kms.Output, damage []image.Rectangle) error {
		if err := o.Present(damage); err != nil {
			return err
		}
		if noWait {
			err := loop.run(0, nil)
			completions += done
			done = 0
			return err
		}
		if err := loop.run(5*time.Second, func() bool { return done > 0 }); err != nil {
			return fmt.Errorf("output %s: %w", o.Name(), err)
		}
		completions += done
		done = 0
		return nil
	}
	start := time.Now()
	for _, o := range outs {
		sh := o.Shadow()
		w, h := sh.Width, sh.Height
		switch pattern {
		case "quadrants":
			mx, my := w/2, h/2
			all := sh.Bounds()
			render.Fill(sh, image.Rect(0, 0, mx, my), red, all)
			render.Fill(sh, image.Rect(mx, 0, w, my), green, all)
			render.Fill(sh, image.Rect(0, my, mx, h), blue, all)
			render.Fill(sh, image.Rect(mx, my, w, h), white, all)
			if err := show(o, []image.Rectangle{all}); err != nil {
				return err
			}
		case "box":
			b := box{w: w, h: h, size: boxSize, step: boxStep}
			render.Fill(sh, sh.Bounds(), black, sh.Bounds())
			render.Fill(sh, b.rect(0), magenta, sh.Bounds())
			if err := show(o, []image.Rectangle{sh.Bounds()}); err != nil {
				return err
			}
			base := o.CopiedBytes()
			for n := 1; n < frames; n++ {
				old, cur := b.rect(n-1), b.rect(n)
				render.Fill(sh, old, black, sh.Bounds())
				render.Fill(sh, cur, magenta, sh.Bounds())
				damage := []image.Rectangle{old, cur}
				if dropOld {
					damage = damage[1:]
				}
				if err := show(o, damage); err != nil {
					return err
				}
			}
			area := int64(boxSize * boxSize * 4)
			moved := o.CopiedBytes() - base
			fmt.Printf("box: output=%s frames=%d last=%v copied_after_first=%d per_frame=%d box_bytes=%d ratio=%.2f\n",
				o.Name(), frames, b.rect(frames-1), moved, moved/int64(max(frames-1, 1)), area,
				float64(moved)/float64(int64(max(frames-1, 1))*area))
		default:
			return fmt.Errorf("-pattern %q: want quadrants or box", pattern)
		}
	}
	if noWait {
		if err := loop.run(500*time.Millisecond, nil); err != nil && !errors.Is(err, errTimeout) {
			return err
		}
		completions += done
	}
	elapsed := time.Since(start)
	fmt.Printf("completions: %d\n", completions)
	for _, o := range outs {
		w, h, r := o.Mode()
		fmt.Printf("stats: output=%s description=%q mode=%dx%d@%d atomic=%v plane_rotation=%v frames=%d copied_bytes=%d screen_bytes=%d elapsed=%s\n",
			o.Name(), o.Description(), w, h, r, o.Atomic(), o.PlaneRotation(), o.Frames(), o.CopiedBytes(), w*h*4, elapsed.Round(time.Millisecond))
	}
	if name == "" {
		name = pattern
	}
	fmt.Printf("SCREENDUMP %s\n", name)
	if wait {
		fmt.Println("kmsdemo: waiting for SIGTERM")
		s := <-sigs
		fmt.Printf("kmsdemo: %v, restoring\n", s)
		return set.Close()
	}
	select {
	case <-time.After(hold):
	case <-sigs:
	}
	return nil
}

// box is the moving-box path of the example clients: a size×size square
// stepping right, wrapping to the next row of boxes, then to the top.
type box struct{ w, h, size, step int }

func (b box) rect(n int) image.Rectangle {
	s := min(b.size, b.w, b.h)
	perRow := (b.w-s)/b.step + 1
	rows := b.h / s
	i := n % (perRow * rows)
	x, y := (i%perRow)*b.step, (i/perRow)*s
	return image.Rect(x, y, x+s, y+s)
}

// watchHotplug prints the DRM hotplug notices that come in d.
func watchHotplug(d time.Duration) error {
	m, err := evdev.ListenUevents()
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Println("kmsdemo: watching hotplug")
	for end := monotonic() + d; monotonic() < end; {
		fds := []unix.PollFd{{Fd: int32(m.FD()), Events: unix.POLLIN}}
		wait := int(max(end-monotonic(), 0) / time.Millisecond)
		if _, err := unix.Poll(fds, wait); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll uevent socket: %w", err)
		}
		err := m.Dispatch(func(msg []byte) {
			ev, err := kms.ParseUevent(msg)
			if err != nil {
				return
			}
			if h, ok := kms.HotplugFromUevent(ev); ok {
				fmt.Printf("hotplug: action=%s dev=%s minor=%d connector=%d\n", h.Action, h.DevName, h.Minor, h.Connector)
			}
		})
		if err != nil {
			fmt.Println("hotplug:", err)
		}
	}
	return nil
}

// demoLoop is the least of an event loop kms needs: the device's fd and
// the outputs' timers, waited on with poll(2) while the demo waits for a
// completion, all on the demo's one goroutine.
type demoLoop struct {
	dev    *kms.Device
	sigs   chan os.Signal
	timers []*demoTimer
}

type demoTimer struct {
	at    time.Duration
	armed bool
	fn    func()
}

func (t *demoTimer) Set(at time.Duration) { t.at, t.armed = at, true }
func (t *demoTimer) Stop()                { t.armed = false }

func (l *demoLoop) newTimer(fn func()) kms.Timer {
	t := &demoTimer{fn: fn}
	l.timers = append(l.timers, t)
	return t
}

var errTimeout = errors.New("no completion in time")

// run dispatches events and timers until done reports true, or for
// timeout (0: what is ready now, once).
func (l *demoLoop) run(timeout time.Duration, done func() bool) error {
	deadline := monotonic() + timeout
	for {
		for _, t := range l.timers {
			if t.armed && t.at <= monotonic() {
				t.armed = false
				t.fn()
			}
		}
		if done != nil && done() {
			return nil
		}
		wait := deadline - monotonic()
		for _, t := range l.timers {
			if t.armed {
				wait = min(wait, t.at-monotonic())
			}
		}
		// Wake now and then for a signal: poll is not interrupted by one.
		wait = max(min(wait, 50*time.Millisecond), 0)
		fds := []unix.PollFd{{Fd: int32(l.dev.FD()), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(wait/time.Millisecond)); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll %s: %w", l.dev.Path(), err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			if err := l.dev.DispatchEvents(); err != nil {
				return err
			}
		}
		select {
		case s := <-l.sigs:
			return fmt.Errorf("signal %v", s)
		default:
		}
		if monotonic() >= deadline && (done == nil || !done()) {
			if timeout == 0 {
				return nil
			}
			return errTimeout
		}
	}
}

func monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

func openDevice(path string) (*kms.Device, error) {
	if path != "" {
		return kms.Open(path)
	}
	return kms.OpenDisplay()
}
