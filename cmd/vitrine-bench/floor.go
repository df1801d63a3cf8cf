package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// The floor is a reference row measured in the same rounds as the
// compositors: vitrine's event loop with a 60 Hz timer and one client
// socket, where each tick writes a 24-byte "frame done" and the client
// answers with a 60-byte "commit". It wakes twice a frame, as every
// compositor that shows a commit at the next refresh must (once for the
// refresh, once for the commit), and does no Wayland work at all. What
// it costs here is the price of those two wake-ups on this machine; a
// compositor's figure minus the floor is its own work.
const (
	floorLoopCommand = "floor-loop"
	floorEchoCommand = "floor-echo"
	floorName        = "floor"
)

// floorReport is what floor-loop prints: its own CPU over the window.
type floorReport struct {
	Ticks    uint64  `json:"ticks"`
	Replies  uint64  `json:"replies"`
	CPUNS    uint64  `json:"cpu_ns"`
	CtxSw    uint64  `json:"ctxsw"`
	VolCtxSw uint64  `json:"voluntary_ctxsw"`
	RSSKB    uint64  `json:"rss_kb"`
	HWMKB    uint64  `json:"hwm_kb"`
	Seconds  float64 `json:"seconds"`
}

// runFloorLoop is the measured side; the socket is fd 3.
func runFloorLoop(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(floorLoopCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	seconds := fs.Float64("seconds", 5, "length of the measured window")
	warmup := fs.Duration("warmup", time.Second, "wait before the window")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rep, err := floorLoop(3, *warmup, time.Duration(*seconds*float64(time.Second)))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", floorLoopCommand, err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(rep); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", floorLoopCommand, err)
		return 1
	}
	return 0
}

func floorLoop(fd int, warmup, window time.Duration) (floorReport, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return floorReport{}, fmt.Errorf("socket: %w", err)
	}
	l, err := eventloop.New()
	if err != nil {
		return floorReport{}, err
	}
	defer l.Close()
	proc := procFS{root: "/proc"}
	var (
		rep            floorReport
		start          procSample
		t0             time.Duration
		ticks, replies uint64
		out            [24]byte
		in             [4096]byte
	)
	const period = time.Second / 60
	begin := eventloop.Now()
	next := begin + period
	var tick *eventloop.Timer
	tick = l.NewTimer(func() {
		ticks++
		// Raw, non-blocking, as vitrine writes to clients.
		unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&out[0])), uintptr(len(out)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
		now := eventloop.Now()
		switch {
		case t0 == 0 && now-begin >= warmup:
			s, err := proc.sampleProcess(os.Getpid())
			if err != nil {
				l.Stop(err)
				return
			}
			start, t0, ticks, replies = s, now, 0, 0
		case t0 != 0 && now-t0 >= window:
			s, err := proc.sampleProcess(os.Getpid())
			if err != nil {
				l.Stop(err)
				return
			}
			rep = floorReport{
				Ticks: ticks, Replies: replies,
				CPUNS: sub(s.CPUNS, start.CPUNS), CtxSw: sub(s.CtxSw, start.CtxSw), VolCtxSw: sub(s.VolCtxSw, start.VolCtxSw),
				RSSKB: s.RSSKB, HWMKB: s.HWMKB, Seconds: (now - t0).Seconds(),
			}
			l.Stop(nil)
			return
		}
		next += period
		tick.Set(next)
	})
	tick.Set(next)
	if _, err := l.AddFD(fd, eventloop.Readable, func(ev eventloop.Events) {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&in[0])), uintptr(len(in)), unix.MSG_DONTWAIT, 0, 0)
		switch {
		case errno == 0 && n > 0:
			replies++
		case errno == 0:
			l.Stop(errors.New("the echo client hung up"))
		case errno != unix.EAGAIN && errno != unix.EINTR:
			l.Stop(fmt.Errorf("read the echo client's socket: %w", errno))
		}
	}); err != nil {
		return floorReport{}, err
	}
	if err := l.Run(); err != nil {
		return floorReport{}, err
	}
	return rep, nil
}

// runFloorEcho is the floor's client: each message read is answered
// with one 60-byte message, as a client answers wl_callback.done with a
// commit. It exits when the socket (fd 3) closes.
func runFloorEcho([]string, io.Writer, io.Writer) int {
	var in [64]byte
	var out [60]byte
	for {
		n, err := unix.Read(3, in[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return 0
		}
		if _, err := unix.Write(3, out[:]); err != nil {
			return 0
		}
	}
}

// runFloor measures the floor row for workload w (the floor's own client
// takes the workload's place, so the row shows the conditions of that
// workload's rounds, not its clients).
func (rn *runner) runFloor(ctx context.Context, w workload) result {
	res := newResult(floorName, w.Name, w.Idle)
	if err := rn.measureFloor(ctx, &res); err != nil {
		res.Error = err.Error()
		return res
	}
	res.derive()
	return res
}

func (rn *runner) measureFloor(ctx context.Context, res *result) error {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("floor socket pair: %w", err)
	}
	loopEnd := os.NewFile(uintptr(pair[0]), "floor-loop")
	echoEnd := os.NewFile(uintptr(pair[1]), "floor-echo")
	defer loopEnd.Close()
	defer echoEnd.Close()

	echo := exec.CommandContext(ctx, rn.self, floorEchoCommand)
	echo.Env = append(cleanEnv(), benchChildEnv+"=1")
	echo.ExtraFiles = []*os.File{echoEnd}
	if err := echo.Start(); err != nil {
		return fmt.Errorf("start floor echo client: %w", err)
	}
	defer echo.Wait()
	defer echo.Process.Kill()

	var stdout, stderr bytes.Buffer
	loop := exec.CommandContext(ctx, rn.self, floorLoopCommand,
		"--seconds", fmt.Sprint(rn.seconds.Seconds()), "--warmup", rn.warmup.String())
	loop.Env = append(cleanEnv(), benchChildEnv+"=1")
	loop.ExtraFiles = []*os.File{loopEnd}
	loop.Stdout, loop.Stderr = &stdout, &stderr
	if err := loop.Run(); err != nil {
		return fmt.Errorf("floor loop: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var rep floorReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return fmt.Errorf("floor loop printed %q: %w", stdout.String(), err)
	}
	if rep.Ticks == 0 {
		return errors.New("floor loop measured no frames")
	}
	res.WindowSeconds = rep.Seconds
	// Each reply is the floor's "commit", each tick its presented frame.
	res.Commits = rep.Replies
	res.setFrames([]uint64{rep.Ticks})
	res.CPUNS, res.CtxSw, res.VolCtxSw = rep.CPUNS, rep.CtxSw, rep.VolCtxSw
	res.RSSKB, res.HWMKB = rep.RSSKB, rep.HWMKB
	res.Processes = []string{floorLoopCommand}
	return nil
}
