package seat

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vitrine-wm/vitrine/seat/evdev"
	"golang.org/x/sys/unix"
)

// InputOptions configures NewInputWith. Zero values mean the real system.
type InputOptions struct {
	Log *slog.Logger
	// DevDir holds the event nodes (default /dev/input).
	DevDir string
	// SysClassDir is the sysfs input class (default /sys/class/input).
	SysClassDir string
	// NoHotplug disables the uevent listener.
	NoHotplug bool
}

// Input reads every keyboard, pointer, tablet and touch device of the seat,
// opened through a Session, and delivers decoded events on one channel.
// Devices come and go with hotplug (kernel uevents) and session pauses.
type Input struct {
	s      Session
	log    *slog.Logger
	devDir string
	sysDir string
	events chan InputEvent
	ids    touchIDs

	mu      sync.Mutex
	devices map[string]*inputDevice // by node path
	paused  bool
	closed  bool
	monitor *evdev.UeventMonitor
	wg      sync.WaitGroup
}

type inputDevice struct {
	path  string
	name  string
	caps  evdev.Caps
	file  *os.File
	tr    *translator
	stop  chan struct{}
	done  chan struct{}
	keep  bool // closed on purpose: no removal retry or log noise
	epoch int
}

// NewInput enumerates input devices, opens the useful ones through s and
// starts listening for hotplug.
func NewInput(s Session, log *slog.Logger) (*Input, error) {
	return NewInputWith(s, InputOptions{Log: log})
}

// NewInputWith is NewInput with explicit options.
func NewInputWith(s Session, opt InputOptions) (*Input, error) {
	in := &Input{
		s:       s,
		log:     opt.Log,
		devDir:  opt.DevDir,
		sysDir:  opt.SysClassDir,
		events:  make(chan InputEvent, 1024),
		devices: make(map[string]*inputDevice),
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.devDir == "" {
		in.devDir = "/dev/input"
	}
	if in.sysDir == "" {
		in.sysDir = "/sys/class/input"
	}
	if !opt.NoHotplug {
		m, err := evdev.ListenUevents()
		if err != nil {
			in.log.Warn("input: no hotplug, devices are only scanned at start and resume", "err", err)
		} else {
			in.monitor = m
			in.wg.Add(1)
			go in.hotplugLoop()
		}
	}
	in.mu.Lock()
	in.paused = !s.Active()
	in.mu.Unlock()
	if !in.paused {
		in.scan()
	}
	return in, nil
}

// Events delivers decoded input. The channel is closed by Close. Events
// are dropped (and logged) if the consumer falls more than 1024 behind.
func (in *Input) Events() <-chan InputEvent { return in.events }

// Capabilities reports what the open devices offer, for wl_seat.
func (in *Input) Capabilities() (keyboard, pointer, touch bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, d := range in.devices {
		keyboard = keyboard || d.caps.Keyboard()
		pointer = pointer || d.caps.Pointer()
		touch = touch || d.caps.Touch()
	}
	return
}

// HandleSessionEvent lets Input react to a session event. It returns true
// if the event was about one of its devices and has been acknowledged;
// then the caller must not Ack it. For Paused and Resumed it closes or
// reopens all input devices and returns false: the caller does its own
// part and then Acks.
func (in *Input) HandleSessionEvent(ev Event) bool {
	switch ev.Kind {
	case Paused:
		in.Pause()
		return false
	case Resumed:
		in.Resume()
		return false
	case Lost:
		in.Pause()
		return false
	case DevicePaused, DeviceResumed:
		in.mu.Lock()
		d := in.devices[ev.Path]
		in.mu.Unlock()
		if d == nil {
			return false
		}
		// Input devices are simply dropped and reopened on the session's
		// Resumed: that also covers devices plugged in while paused.
		in.closeDevice(d, true)
		ev.Ack()
		if ev.Kind == DeviceResumed && ev.NewFile != nil {
			// closeDevice released the device, which leaves the new
			// file unused.
			ev.NewFile.Close()
		}
		return true
	}
	return false
}

// Pause closes every input device (releasing them to the session manager)
// and emits releases for anything held.
func (in *Input) Pause() {
	in.mu.Lock()
	in.paused = true
	devs := make([]*inputDevice, 0, len(in.devices))
	for _, d := range in.devices {
		devs = append(devs, d)
	}
	in.mu.Unlock()
	for _, d := range devs {
		in.closeDevice(d, true)
	}
}

// Resume rescans and reopens input devices.
func (in *Input) Resume() {
	in.mu.Lock()
	in.paused = false
	in.mu.Unlock()
	in.scan()
	in.emit(DevicesRescanned{Header{Time: monotonicNow()}})
}

// Close stops everything and closes the Events channel.
func (in *Input) Close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	m := in.monitor
	in.mu.Unlock()
	if m != nil {
		m.Close()
	}
	in.Pause()
	in.wg.Wait()
	close(in.events)
	return nil
}

func (in *Input) emit(e InputEvent) {
	select {
	case in.events <- e:
	default:
		in.log.Warn("input: consumer too slow, event dropped", "device", e.Source())
	}
}

// scan opens every useful event node not yet open.
func (in *Input) scan() {
	ents, err := os.ReadDir(in.sysDir)
	if err != nil {
		in.log.Warn("input: cannot list devices", "dir", in.sysDir, "err", err)
		return
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "event") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		in.add(name)
	}
}

func (in *Input) add(name string) {
	path := filepath.Join(in.devDir, name)
	in.mu.Lock()
	_, open := in.devices[path]
	skip := open || in.paused || in.closed
	in.mu.Unlock()
	if skip {
		return
	}
	info, err := evdev.ReadSysfs(in.sysDir, name)
	if err != nil {
		in.log.Warn("input: skipping device", "node", name, "err", err)
		return
	}
	if !info.Caps.Useful() {
		in.log.Debug("input: ignoring device", "path", path, "name", info.Dev)
		return
	}
	if info.Caps.Ev.Has(evdev.EvAbs) && info.Caps.Abs.Has(evdev.AbsMTPositionX) && !info.Caps.Touch() {
		in.log.Warn("input: multi-touch protocol A devices are not supported", "path", path, "name", info.Dev)
	}
	f, err := in.s.OpenDevice(path)
	if err != nil {
		in.log.Warn("input: cannot open device", "path", path, "name", info.Dev, "err", err)
		return
	}
	// Timestamps from the monotonic clock; ignored where not supported.
	_ = evdev.SetClockMonotonic(f)
	var absX, absY, mtX, mtY, slot evdev.AbsInfo
	slots := 1
	if info.Caps.AbsolutePointer() {
		absX, _ = evdev.GetAbsInfo(f, evdev.AbsX)
		absY, _ = evdev.GetAbsInfo(f, evdev.AbsY)
	}
	if info.Caps.Touch() {
		mtX, _ = evdev.GetAbsInfo(f, evdev.AbsMTPositionX)
		mtY, _ = evdev.GetAbsInfo(f, evdev.AbsMTPositionY)
		slot, _ = evdev.GetAbsInfo(f, evdev.AbsMTSlot)
		slots = int(slot.Maximum) + 1
	}
	d := &inputDevice{
		path: path, name: info.Dev, caps: info.Caps, file: f,
		tr:   newTranslator(path, info.Caps, &in.ids, absX, absY, mtX, mtY, slots, int(slot.Value)),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	in.mu.Lock()
	if in.closed || in.paused || in.devices[path] != nil {
		in.mu.Unlock()
		in.s.CloseDevice(f)
		return
	}
	in.devices[path] = d
	in.mu.Unlock()
	in.log.Info("input: device added", "path", path, "name", info.Dev, "caps", info.Caps.String())
	in.emit(DeviceAdded{Header: Header{Device: path, Time: monotonicNow()}, Name: info.Dev, Caps: capsOf(info.Caps)})
	in.wg.Add(1)
	go in.read(d)
}

// closeDevice stops a device's reader, releases held keys and closes it
// through the session.
func (in *Input) closeDevice(d *inputDevice, deliberate bool) {
	in.mu.Lock()
	if in.devices[d.path] != d {
		in.mu.Unlock()
		return
	}
	delete(in.devices, d.path)
	d.keep = deliberate
	in.mu.Unlock()
	close(d.stop)
	// Closing the file through the session unblocks the reader.
	if err := in.s.CloseDevice(d.file); err != nil {
		in.log.Debug("input: close device", "path", d.path, "err", err)
	}
	<-d.done
	h := Header{Device: d.path, Time: monotonicNow()}
	for _, e := range d.tr.releaseAll(h) {
		in.emit(e)
	}
	in.log.Info("input: device removed", "path", d.path, "name", d.name)
	in.mu.Lock()
	paused := deliberate && !in.closed
	in.mu.Unlock()
	in.emit(DeviceRemoved{Header: h, Name: d.name, Caps: capsOf(d.caps), Paused: paused})
}

func (in *Input) read(d *inputDevice) {
	defer in.wg.Done()
	buf := make([]byte, 64*evdev.Size)
	var pending []byte
	var evs []evdev.Event
	var readErr error
	for {
		n, err := d.file.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			evs, pending = evdev.DecodeAll(evs[:0], pending, evdev.WordSize)
			for _, e := range evs {
				for _, out := range d.tr.feed(e) {
					in.emit(out)
				}
			}
		}
		if err != nil {
			readErr = err
			break
		}
	}
	close(d.done)
	select {
	case <-d.stop:
		return // closed by closeDevice
	default:
	}
	// The device failed on its own: unplugged (ENODEV) or revoked.
	if !errors.Is(readErr, io.EOF) {
		in.log.Debug("input: read ended", "path", d.path, "err", readErr)
	}
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		in.closeDevice(d, false)
	}()
}

func monotonicNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

func (in *Input) hotplugLoop() {
	defer in.wg.Done()
	for {
		u, err := in.monitor.Next()
		if err != nil {
			return
		}
		node := u.EventNode()
		if node == "" {
			continue
		}
		switch u.Action {
		case "add":
			// udev may still be creating the node or fixing its
			// permissions; retry briefly.
			in.wg.Add(1)
			go func() {
				defer in.wg.Done()
				for range 10 {
					in.add(node)
					in.mu.Lock()
					_, ok := in.devices[filepath.Join(in.devDir, node)]
					stop := ok || in.paused || in.closed
					in.mu.Unlock()
					if stop {
						return
					}
					if _, err := os.Stat(filepath.Join(in.devDir, node)); err == nil {
						return // exists but not useful or not openable: add logged why
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		case "remove":
			in.mu.Lock()
			d := in.devices[filepath.Join(in.devDir, node)]
			in.mu.Unlock()
			if d != nil {
				in.closeDevice(d, false)
			}
		}
	}
}

// String is for logs.
func (d *inputDevice) String() string { return fmt.Sprintf("%s (%s)", d.path, d.name) }
