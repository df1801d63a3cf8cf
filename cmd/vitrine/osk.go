package main

import (
	"bufio"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

// onScreenKeyboard runs --osk: a keyboard such as `wvkbd-mobintl
// --hidden` that starts hidden, shows on SIGUSR2 and hides on SIGUSR1.
// vitrine shows it while a text field with the keyboard focus wants
// typing (zwp_text_input_v3 enabled) and hides it otherwise, so a kiosk
// app gets the whole screen until the user taps into a field. It lives
// on the compositor's loop, like the command it supervises.
type onScreenKeyboard struct {
	child *childProcess
	log   *slog.Logger

	want bool // shown
	// sent is what the running keyboard was last told (it starts
	// hidden).
	sent bool
	// ready polls, while the keyboard starts, for it to handle the
	// signals; waitingSince is when that began.
	ready        *eventloop.Timer
	waitingSince time.Time
	warned       bool
}

// readyPoll and readyTimeout pace the wait for a starting keyboard.
const (
	readyPoll    = 20 * time.Millisecond
	readyTimeout = 5 * time.Second
)

func newOnScreenKeyboard(argv []string, display string, loop *eventloop.Loop, log *slog.Logger) *onScreenKeyboard {
	k := &onScreenKeyboard{log: log}
	k.child = &childProcess{argv: argv, display: display, restart: true, log: log.With("osk", true), loop: loop,
		onStart: func(int) {
			// A (re)started keyboard starts hidden.
			k.sent, k.warned = false, false
			k.waitingSince = time.Now()
			k.deliver()
		},
		exited: func(int) {}}
	k.ready = loop.NewTimer(k.deliver)
	return k
}

func (k *onScreenKeyboard) start() error { return k.child.start() }

func (k *onScreenKeyboard) stop() {
	k.ready.Stop()
	k.child.stop()
}

// owns reports whether pid is the keyboard or one of its processes (it
// is privileged: it types through the virtual keyboard).
func (k *onScreenKeyboard) owns(pid int) bool {
	if k == nil {
		return false
	}
	root := k.child.pid()
	return root > 0 && inProcessTree(pid, root)
}

// show asks for the keyboard shown or hidden.
func (k *onScreenKeyboard) show(v bool) {
	k.want = v
	k.deliver()
}

// deliver signals the keyboard when what it shows is not what is
// wanted. A signal is only sent once the keyboard handles SIGUSR1 and
// SIGUSR2 (caught, or blocked for a signalfd, as wvkbd does): the
// default action of both is to terminate, and a text field focused
// while the keyboard still starts would kill it. Until then a timer
// looks again.
func (k *onScreenKeyboard) deliver() {
	pid := k.child.pid()
	if pid == 0 || k.want == k.sent {
		k.ready.Stop()
		return
	}
	if !handlesUserSignals(pid) {
		if time.Since(k.waitingSince) < readyTimeout {
			k.ready.SetAfter(readyPoll)
		} else if !k.warned {
			k.warned = true
			k.log.Warn("--osk: the keyboard does not handle SIGUSR1/SIGUSR2 (is it wvkbd with --hidden?); not signalled", "pid", pid)
		}
		return
	}
	sig := syscall.SIGUSR1
	if k.want {
		sig = syscall.SIGUSR2
	}
	if err := syscall.Kill(pid, sig); err != nil {
		k.log.Warn("--osk: signal the keyboard", "pid", pid, "err", err)
		return
	}
	k.sent = k.want
	k.log.Debug("--osk: keyboard signalled", "shown", k.want, "pid", pid, "event", "osk.signalled")
}

// handlesUserSignals reports whether process pid catches or blocks both
// SIGUSR1 and SIGUSR2 (/proc/PID/status SigCgt, SigBlk).
func handlesUserSignals(pid int) bool {
	mask := uint64(1)<<(syscall.SIGUSR1-1) | uint64(1)<<(syscall.SIGUSR2-1)
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return false // gone
	}
	defer f.Close()
	var handled uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && (key == "SigCgt" || key == "SigBlk") {
			v, _ := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
			handled |= v
		}
	}
	return handled&mask == mask
}
