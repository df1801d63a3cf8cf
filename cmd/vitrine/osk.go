package main

import (
	"bufio"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// onScreenKeyboard runs --osk: a keyboard such as `wvkbd-mobintl
// --hidden` that starts hidden, shows on SIGUSR2 and hides on SIGUSR1.
// vitrine shows it while a text field with the keyboard focus wants
// typing (zwp_text_input_v3 enabled) and hides it otherwise, so a kiosk
// app gets the whole screen until the user taps into a field.
type onScreenKeyboard struct {
	child *childProcess
	log   *slog.Logger

	mu      sync.Mutex
	want    bool // shown
	pid     int  // the running keyboard's pid, 0 before it started
	changed chan struct{}
}

func newOnScreenKeyboard(argv []string, display string, log *slog.Logger) *onScreenKeyboard {
	k := &onScreenKeyboard{log: log, changed: make(chan struct{}, 1)}
	k.child = &childProcess{argv: argv, display: display, restart: true, log: log.With("osk", true),
		started: func(pid int) {
			k.mu.Lock()
			k.pid = pid
			k.mu.Unlock()
			// A restarted keyboard starts hidden: tell it again.
			k.kick()
		},
		exited: func(int) {}}
	return k
}

func (k *onScreenKeyboard) start() error {
	if err := k.child.start(); err != nil {
		return err
	}
	go k.deliver()
	return nil
}

func (k *onScreenKeyboard) stop() { k.child.stop() }

// show asks for the keyboard shown or hidden; it does not block, so the
// compositor's loop may call it.
func (k *onScreenKeyboard) show(v bool) {
	k.mu.Lock()
	k.want = v
	k.mu.Unlock()
	k.kick()
}

func (k *onScreenKeyboard) kick() {
	select {
	case k.changed <- struct{}{}:
	default:
	}
}

// deliver signals the keyboard whenever the wanted state changes. A
// signal is only sent once the keyboard handles SIGUSR1 and SIGUSR2
// (caught, or blocked for a signalfd, as wvkbd does): the default
// action of both is to terminate, and a text field focused while the
// keyboard still starts would kill it.
func (k *onScreenKeyboard) deliver() {
	for range k.changed {
		k.mu.Lock()
		want, pid := k.want, k.pid
		k.mu.Unlock()
		if pid == 0 {
			continue // started() kicks again
		}
		if !handlesUserSignals(pid, 5*time.Second) {
			k.log.Warn("--osk: the keyboard does not handle SIGUSR1/SIGUSR2 (is it wvkbd with --hidden?); not signalled", "pid", pid)
			continue
		}
		sig := syscall.SIGUSR1
		if want {
			sig = syscall.SIGUSR2
		}
		if err := syscall.Kill(pid, sig); err != nil {
			k.log.Warn("--osk: signal the keyboard", "pid", pid, "err", err)
			continue
		}
		k.log.Debug("--osk: keyboard signalled", "shown", want, "pid", pid)
	}
}

// handlesUserSignals waits up to timeout for process pid to catch or
// block both SIGUSR1 and SIGUSR2 (/proc/PID/status SigCgt, SigBlk).
func handlesUserSignals(pid int, timeout time.Duration) bool {
	mask := uint64(1)<<(syscall.SIGUSR1-1) | uint64(1)<<(syscall.SIGUSR2-1)
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			return false // gone
		}
		var handled uint64
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			key, val, ok := strings.Cut(sc.Text(), ":")
			if ok && (key == "SigCgt" || key == "SigBlk") {
				v, _ := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
				handled |= v
			}
		}
		f.Close()
		if handled&mask == mask {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
