package seat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/seat/evdev"
	"github.com/vitrine-wm/vitrine/seat/inputevent"
	"golang.org/x/sys/unix"
)

// InputOptions configures NewInput. Zero values mean the real system.
type InputOptions struct {
	Log *slog.Logger
	// DevDir holds the event nodes (default /dev/input).
	DevDir string
	// SysClassDir is the sysfs input class (default /sys/class/input).
	SysClassDir string
	// NoHotplug disables the uevent listener.
	NoHotplug bool
	// MapInput maps touchscreens and tablets to outputs (--map-input);
	// it wins over udev's WL_OUTPUT. Unmapped devices are on the first
	// output.
	MapInput []InputMapping
	// UdevDataDir is udev's database (default /run/udev/data), read for
	// WL_OUTPUT and LIBINPUT_CALIBRATION_MATRIX.
	UdevDataDir string
}

// InputMapping puts a touchscreen or tablet on an output.
type InputMapping struct {
	// Device is the device's name as the kernel gives it ("ILITEK
	// ILITEK-TP") or its node (/dev/input/event3).
	Device string
	// Output is the output's name (HDMI-A-1).
	Output string
}

// ParseInputMapping reads --map-input's DEVICE=OUTPUT. The last '='
// splits, since output names have none and device names might.
func ParseInputMapping(s string) (InputMapping, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 || i == len(s)-1 {
		return InputMapping{}, fmt.Errorf("--map-input %q: want DEVICE=OUTPUT (a device name or /dev/input/eventN, and an output name such as HDMI-A-1)", s)
	}
	return InputMapping{Device: s[:i], Output: s[i+1:]}, nil
}

// Input reads every keyboard, pointer, tablet and touch device of the seat,
// opened through a Session, on the compositor's loop: each device's fd is
// watched by the Loop, and what it reads is decoded and handed to the
// handler there and then. Devices come and go with hotplug (kernel
// uevents, also read on the loop) and session pauses.
//
// Input is not safe for concurrent use: call its methods on the loop's
// goroutine, where it calls the handler.
type Input struct {
	s       Session
	loop    Loop
	handle  func(inputevent.Event)
	log     *slog.Logger
	devDir  string
	sysDir  string
	udevDir string
	maps    []InputMapping
	ids     touchIDs

	devices map[string]*inputDevice // by node path
	retries map[string]func()       // hotplugged nodes waiting for udev, by name: stop
	paused  bool
	closed  bool

	monitor     *evdev.UeventMonitor
	stopMonitor func()
}

type inputDevice struct {
	path string
	name string
	caps evdev.Caps
	file *os.File
	fd   int // file's descriptor, read directly so a read never parks the loop
	tr   *translator
	stop func() // stops the loop watching fd

	buf     []byte
	pending []byte // a partial input_event record
	evs     []evdev.Event
	closed  bool
}

// NewInput enumerates input devices, opens the useful ones through s,
// puts them and the hotplug socket on loop, and calls handle on the loop
// with every decoded event (DeviceAdded for each device found first).
func NewInput(s Session, loop Loop, handle func(inputevent.Event), opt InputOptions) (*Input, error) {
	in := &Input{
		s:       s,
		loop:    loop,
		handle:  handle,
		log:     opt.Log,
		devDir:  opt.DevDir,
		sysDir:  opt.SysClassDir,
		udevDir: opt.UdevDataDir,
		maps:    opt.MapInput,
		devices: make(map[string]*inputDevice),
		retries: make(map[string]func()),
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
	if in.udevDir == "" {
		in.udevDir = udevDataDir
	}
	if !opt.NoHotplug {
		if err := in.listenHotplug(); err != nil {
			in.log.Warn("input: no hotplug, devices are only scanned at start and resume", "err", err)
		}
	}
	in.paused = !s.Active()
	if !in.paused {
		in.scan()
	}
	return in, nil
}

func (in *Input) listenHotplug() error {
	m, err := evdev.ListenUevents()
	if err != nil {
		return err
	}
	stop, err := in.loop.WatchReadable(m.FD(), in.dispatchUevents)
	if err != nil {
		m.Close()
		return fmt.Errorf("watch the uevent socket: %w", err)
	}
	in.monitor, in.stopMonitor = m, stop
	return nil
}

// Capabilities reports what the open devices offer, for wl_seat.
func (in *Input) Capabilities() (keyboard, pointer, touch bool) {
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
	case Paused, Lost:
		in.Pause()
	case Resumed:
		in.Resume()
	case DevicePaused, DeviceResumed:
		d := in.devices[ev.Path]
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
	in.paused = true
	for _, stop := range in.retries {
		stop()
	}
	clear(in.retries)
	for _, path := range in.devicePaths() {
		in.closeDevice(in.devices[path], true)
	}
}

// Resume rescans and reopens input devices.
func (in *Input) Resume() {
	in.paused = false
	in.scan()
	in.handle(inputevent.DevicesRescanned{Header: inputevent.Header{Time: monotonicNow()}})
}

// Close closes every device and the hotplug socket. No event is handled
// after it returns but the DeviceRemoved of the devices it closes.
func (in *Input) Close() error {
	if in.closed {
		return nil
	}
	in.closed = true
	in.Pause()
	if in.monitor != nil {
		in.stopMonitor()
		in.monitor.Close()
	}
	return nil
}

// devicePaths lists the open devices in a stable order, so that what a
// pause emits does not depend on map iteration.
func (in *Input) devicePaths() []string {
	paths := make([]string, 0, len(in.devices))
	for p := range in.devices {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
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
		in.add(name, true)
	}
}

// add opens the event node name if it is useful and not open yet. It
// reports whether the open failed, which for a node just announced may
// only mean that udev is not done with it (logind answers ENODEV until
// then, and a direct session lacks the permissions udev sets); unless
// this is the last try, that failure is only logged at debug level.
func (in *Input) add(name string, lastTry bool) (openFailed bool) {
	path := filepath.Join(in.devDir, name)
	if in.devices[path] != nil || in.paused || in.closed {
		return false
	}
	info, err := evdev.ReadSysfs(in.sysDir, name)
	if err != nil {
		in.log.Warn("input: skipping device", "node", name, "err", err)
		return false
	}
	if !info.Caps.Useful() {
		in.log.Debug("input: ignoring device", "path", path, "name", info.Dev)
		return false
	}
	if info.Caps.Ev.Has(evdev.EvAbs) && info.Caps.Abs.Has(evdev.AbsMTPositionX) && !info.Caps.Touch() {
		in.log.Warn("input: multi-touch protocol A devices are not supported", "path", path, "name", info.Dev)
	}
	if !lastTry && (info.Caps.Touch() || info.Caps.AbsolutePointer()) && in.udevPending(info) {
		// Its WL_OUTPUT and calibration are not recorded yet: udevd runs
		// its rules after the kernel's uevent, which is what this heard.
		in.log.Debug("input: waiting for udev to process the device", "path", path, "name", info.Dev)
		return true
	}
	f, err := in.s.OpenDevice(path)
	if err != nil {
		level := slog.LevelWarn
		if !lastTry {
			level = slog.LevelDebug
		}
		in.log.Log(context.Background(), level, "input: cannot open device", "path", path, "name", info.Dev, "err", err)
		return true
	}
	d, err := in.watch(path, info, f)
	if err != nil {
		in.log.Warn("input: cannot read device", "path", path, "name", info.Dev, "err", err)
		in.s.CloseDevice(f)
		return false
	}
	in.devices[path] = d
	in.log.Info("input: device added", "path", path, "name", info.Dev, "caps", info.Caps.String(), "event", "input.added")
	in.handle(inputevent.DeviceAdded{Header: inputevent.Header{Device: path, Time: monotonicNow()}, Name: info.Dev, Caps: capsOf(info.Caps)})
	return false
}

// watch prepares an opened device for reading on the loop.
func (in *Input) watch(path string, info evdev.SysfsInfo, f *os.File) (*inputDevice, error) {
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
		tr:  newTranslator(path, info.Caps, &in.ids, absX, absY, mtX, mtY, slots, int(slot.Value)),
		buf: make([]byte, 64*evdev.Size),
	}
	if info.Caps.Touch() || info.Caps.AbsolutePointer() {
		m := in.mapping(path, info)
		d.tr.output, d.tr.calibration = m.output, m.calibration
		output := m.output
		if output == "" {
			output = "first"
		}
		in.log.Info("input: device mapped", "path", path, "name", info.Dev, "output", output, "source", m.source,
			"calibration", m.calibration.String(), "event", "input.mapped")
	}
	// File.Fd would switch the file to blocking mode; the loop needs it
	// non-blocking whatever the session manager handed over.
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nbErr error
	if err := rc.Control(func(fd uintptr) {
		d.fd = int(fd)
		nbErr = unix.SetNonblock(d.fd, true)
	}); err != nil {
		return nil, err
	}
	if nbErr != nil {
		return nil, fmt.Errorf("set non-blocking: %w", nbErr)
	}
	d.stop, err = in.loop.WatchReadable(d.fd, func() { in.read(d) })
	if err != nil {
		return nil, fmt.Errorf("watch on the loop: %w", err)
	}
	return d, nil
}

// udevPending reports whether udevd runs (its database directory is
// there) but has not recorded the device yet.
func (in *Input) udevPending(info evdev.SysfsInfo) bool {
	if info.Number == "" {
		return false
	}
	if _, err := os.Stat(in.udevDir); err != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(in.udevDir, "c"+info.Number))
	return errors.Is(err, os.ErrNotExist)
}

// deviceMapping is where a touchscreen's or tablet's positions go.
type deviceMapping struct {
	output      string // "" for the first output
	source      string // flag, udev or default: for the log
	calibration inputevent.Calibration
}

// mapping decides a device's output (--map-input by name or node, else
// udev's WL_OUTPUT, else the first output) and calibration (udev's
// LIBINPUT_CALIBRATION_MATRIX, else none).
func (in *Input) mapping(path string, info evdev.SysfsInfo) deviceMapping {
	m := deviceMapping{source: "default", calibration: inputevent.IdentityCalibration}
	props, err := readUdevProperties(in.udevDir, info.Number)
	if err != nil {
		in.log.Warn("input: cannot read the device's udev properties; no WL_OUTPUT or calibration", "path", path, "err", err)
	}
	if out := props["WL_OUTPUT"]; out != "" {
		m.output, m.source = out, "udev"
	}
	for _, fm := range in.maps {
		if fm.Device == info.Dev || fm.Device == path {
			m.output, m.source = fm.Output, "flag"
		}
	}
	if s, ok := props["LIBINPUT_CALIBRATION_MATRIX"]; ok {
		c, err := inputevent.ParseCalibration(s)
		if err != nil {
			in.log.Warn("input: ignoring LIBINPUT_CALIBRATION_MATRIX from udev", "path", path, "name", info.Dev, "err", err)
		} else {
			m.calibration = c
		}
	}
	return m
}

// read takes every input_event the device has queued, decodes it and
// hands the results to the handler. A short read means the queue is
// empty, so an idle device costs one read per wakeup.
func (in *Input) read(d *inputDevice) {
	for !d.closed {
		n, err := unix.Read(d.fd, d.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		if err != nil || n == 0 {
			// The device went away on its own: unplugged (ENODEV) or
			// revoked by the session manager.
			in.log.Debug("input: read ended", "path", d.path, "err", err)
			in.closeDevice(d, false)
			return
		}
		d.pending = append(d.pending, d.buf[:n]...)
		d.evs, d.pending = evdev.DecodeAll(d.evs[:0], d.pending, evdev.WordSize)
		for _, e := range d.evs {
			for _, out := range d.tr.feed(e) {
				// The handler may have closed the device (a key that
				// quits or pauses): nothing of it follows its removal.
				if d.closed {
					return
				}
				in.handle(out)
			}
		}
		if n < len(d.buf) {
			return
		}
	}
}

// closeDevice stops reading a device, releases what it held and closes it
// through the session. deliberate says Input closed it (a pause), not
// the device (unplugged, revoked).
func (in *Input) closeDevice(d *inputDevice, deliberate bool) {
	if d.closed {
		return
	}
	d.closed = true
	delete(in.devices, d.path)
	d.stop()
	if err := in.s.CloseDevice(d.file); err != nil {
		in.log.Debug("input: close device", "path", d.path, "err", err)
	}
	h := inputevent.Header{Device: d.path, Time: monotonicNow()}
	for _, e := range d.tr.releaseAll(h) {
		in.handle(e)
	}
	in.log.Info("input: device removed", "path", d.path, "name", d.name, "event", "input.removed")
	in.handle(inputevent.DeviceRemoved{Header: h, Name: d.name, Caps: capsOf(d.caps), Paused: deliberate && !in.closed})
}

// A hotplugged node may take a while to become openable: udev handles it
// after the kernel's uevent, usually within milliseconds but for seconds
// on a loaded machine. Retries start quick and back off, 2.5 s in all.
const (
	addRetries    = 8
	addFirstRetry = 20 * time.Millisecond
)

func (in *Input) dispatchUevents() {
	err := in.monitor.Dispatch(func(msg []byte) {
		u, err := evdev.ParseUevent(msg)
		if err != nil {
			return
		}
		if node := u.EventNode(); node != "" {
			in.hotplug(u.Action, node)
		}
	})
	switch {
	case errors.Is(err, evdev.ErrUeventOverrun):
		// An add may be among the lost ones; a removal shows up as
		// ENODEV on the device itself.
		in.log.Warn("input: uevents lost; rescanning devices")
		if !in.paused {
			in.scan()
		}
	case err != nil:
		in.log.Error("input: hotplug stopped", "err", err)
		in.stopMonitor()
	}
}

func (in *Input) hotplug(action, node string) {
	path := filepath.Join(in.devDir, node)
	switch action {
	case "add":
		in.addWithRetry(node, addRetries, addFirstRetry)
	case "remove":
		if stop := in.retries[node]; stop != nil {
			stop()
			delete(in.retries, node)
		}
		if d := in.devices[path]; d != nil {
			in.closeDevice(d, false)
		}
	}
}

func (in *Input) addWithRetry(node string, left int, wait time.Duration) {
	delete(in.retries, node)
	if in.add(node, left <= 1) && left > 1 {
		in.retries[node] = in.loop.AfterFunc(wait, func() { in.addWithRetry(node, left-1, 2*wait) })
	}
}

func capsOf(c evdev.Caps) inputevent.DeviceCaps {
	return inputevent.DeviceCaps{Keyboard: c.Keyboard(), Pointer: c.Pointer(), Touch: c.Touch(), Tablet: c.AbsolutePointer()}
}

func monotonicNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// String is for logs.
func (d *inputDevice) String() string { return fmt.Sprintf("%s (%s)", d.path, d.name) }
