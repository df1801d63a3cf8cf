package seat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	login1Name       = "org.freedesktop.login1"
	login1Path       = dbus.ObjectPath("/org/freedesktop/login1")
	login1Manager    = "org.freedesktop.login1.Manager"
	login1Session    = "org.freedesktop.login1.Session"
	login1Seat       = "org.freedesktop.login1.Seat"
	dbusProperties   = "org.freedesktop.DBus.Properties"
	defaultSystemBus = "unix:path=/run/dbus/system_bus_socket"

	// logind itself gives up on a paused device after about 10 s; a call
	// that takes longer than this is a dead service, not a slow one.
	logindCallTimeout = 10 * time.Second
)

// Logind is a session controlled through systemd-logind on the system bus.
// TakeControl, TakeDevice and ReleaseDevice all go over one connection:
// logind drops control when the controlling connection closes.
type Logind struct {
	log      *slog.Logger
	conn     *dbus.Conn
	id       string
	path     dbus.ObjectPath
	seat     string
	seatPath dbus.ObjectPath
	vt       uint32

	// emitMu orders delivery against Close: once Close has set stopped,
	// no event reaches the consumer. It is never held with mu.
	emitMu  sync.Mutex
	notify  func(Event)
	stopped bool

	mu            sync.Mutex
	active        bool
	resumePending bool // Active=true seen, Resumed held back for devices
	lost          error
	closed        bool
	devices       map[[2]uint32]*logindDevice
}

type logindDevice struct {
	path         string
	major, minor uint32
	file         *os.File
	old          []*os.File // files replaced by ResumeDevice and not yet acked
	paused       bool
}

// OpenLogind finds the caller's logind session and takes control of it.
func OpenLogind(ctx context.Context, opt Options) (*Logind, error) {
	addr := opt.SystemBus
	if addr == "" {
		addr = os.Getenv("DBUS_SYSTEM_BUS_ADDRESS")
	}
	if addr == "" {
		addr = defaultSystemBus
	}
	l := &Logind{
		log:     opt.logger(),
		notify:  opt.notifier(),
		devices: make(map[[2]uint32]*logindDevice),
	}
	// godbus reads the connection on its own goroutine and owns the fd,
	// so the loop cannot watch it: signals are handled right there, on
	// that goroutine (logindSignals), and each event crosses to the loop
	// once, through Options.Events.
	conn, err := dbus.Connect(addr, dbus.WithSignalHandler(logindSignals{l}))
	if err != nil {
		return nil, fmt.Errorf("connect to the system bus at %s: %w (is dbus running?)", addr, err)
	}
	l.conn = conn
	if err := l.start(ctx, opt.SessionID); err != nil {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		conn.Close()
		return nil, err
	}
	return l, nil
}

// logindSignals receives the connection's signals on godbus's reader
// goroutine. Handling them must not wait for a reply on the same
// connection: that reply is read by this very goroutine.
type logindSignals struct{ l *Logind }

func (s logindSignals) DeliverSignal(_, _ string, sig *dbus.Signal) { s.l.handle(sig) }

// Terminate runs when the connection closes, by Close or because the bus
// went away.
func (s logindSignals) Terminate() {
	s.l.setLost(errors.New("system bus connection closed"))
}

func (l *Logind) start(ctx context.Context, sessionID string) error {
	var hasOwner bool
	if err := l.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, login1Name).Store(&hasOwner); err != nil {
		return fmt.Errorf("ask the system bus for logind: %w", err)
	}
	if !hasOwner {
		return fmt.Errorf("logind is not running (%s is not on the system bus)", login1Name)
	}

	if sessionID == "" {
		sessionID = os.Getenv("XDG_SESSION_ID")
	}
	manager := l.conn.Object(login1Name, login1Path)
	var err error
	if sessionID != "" {
		err = l.call(ctx, manager, login1Manager+".GetSession", sessionID).Store(&l.path)
	} else {
		err = l.call(ctx, manager, login1Manager+".GetSessionByPID", uint32(os.Getpid())).Store(&l.path)
	}
	if err != nil {
		what := "this process is not in a logind session"
		if sessionID != "" {
			what = fmt.Sprintf("logind has no session %q (XDG_SESSION_ID)", sessionID)
		}
		return fmt.Errorf("%w: %s (%v); log in on a text console (or autologin on a getty) and start vitrine from there, or use --session seatd", ErrNoSession, what, dbusMessage(err))
	}

	sess := l.conn.Object(login1Name, l.path)
	var props map[string]dbus.Variant
	if err := l.call(ctx, sess, dbusProperties+".GetAll", login1Session).Store(&props); err != nil {
		return fmt.Errorf("read logind session %s: %w", l.path, err)
	}
	if v, ok := props["Id"].Value().(string); ok {
		l.id = v
	}
	if seat, ok := props["Seat"].Value().([]any); ok && len(seat) == 2 {
		l.seat, _ = seat[0].(string)
		l.seatPath, _ = seat[1].(dbus.ObjectPath)
	}
	l.vt, _ = props["VTNr"].Value().(uint32)
	l.active, _ = props["Active"].Value().(bool)
	if l.seat == "" {
		return fmt.Errorf("%w: logind session %s has no seat (an ssh or background session?); log in on a text console and start vitrine there", ErrNoSession, l.id)
	}

	// Subscribe before TakeControl so no pause or property change can be
	// missed between taking control and taking the first device.
	matches := [][]dbus.MatchOption{
		{dbus.WithMatchObjectPath(l.path), dbus.WithMatchInterface(login1Session)},
		{dbus.WithMatchObjectPath(l.path), dbus.WithMatchInterface(dbusProperties), dbus.WithMatchMember("PropertiesChanged")},
		{dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchInterface("org.freedesktop.DBus"),
			dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, login1Name)},
	}
	for _, m := range matches {
		if err := l.conn.AddMatchSignalContext(ctx, m...); err != nil {
			return fmt.Errorf("subscribe to logind signals: %w", err)
		}
	}

	if err := l.call(ctx, sess, login1Session+".TakeControl", false).Err; err != nil {
		if isBusy(err) {
			return fmt.Errorf("take control of logind session %s: %w: another compositor controls this session; stop it first", l.id, ErrSessionBusy)
		}
		return fmt.Errorf("take control of logind session %s: %s", l.id, dbusMessage(err))
	}
	l.log.Debug("logind: took control", "session", l.id, "seat", l.seat, "vt", l.vt, "active", l.active)
	return nil
}

// call makes a method call bounded by logindCallTimeout so a hung or
// vanished logind cannot hang vitrine.
func (l *Logind) call(ctx context.Context, obj dbus.BusObject, method string, args ...any) *dbus.Call {
	ctx, cancel := context.WithTimeout(ctx, logindCallTimeout)
	defer cancel()
	return obj.CallWithContext(ctx, method, 0, args...)
}

func (l *Logind) session() dbus.BusObject { return l.conn.Object(login1Name, l.path) }

func (l *Logind) Kind() string     { return KindLogind }
func (l *Logind) SeatName() string { return l.seat }

// ID is the logind session id.
func (l *Logind) ID() string { return l.id }

// VT is the session's virtual terminal number, 0 if it has none.
func (l *Logind) VT() uint32 { return l.vt }

func (l *Logind) Active() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active && l.lost == nil
}

func (l *Logind) usable() error {
	if l.closed {
		return errors.New("session closed")
	}
	if l.lost != nil {
		return fmt.Errorf("%w: %v", ErrLost, l.lost)
	}
	return nil
}

// OpenDevice takes the device from logind. The file may belong to a
// paused device (the session is in the background): a DeviceResumed event
// follows when it may be used.
func (l *Logind) OpenDevice(path string) (*os.File, error) {
	major, minor, err := deviceNumber(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	key := [2]uint32{major, minor}
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if _, dup := l.devices[key]; dup {
		l.mu.Unlock()
		return nil, fmt.Errorf("open %s: already open in this session", path)
	}
	l.mu.Unlock()

	var fd dbus.UnixFD
	var inactive bool
	err = l.call(context.Background(), l.session(), login1Session+".TakeDevice", major, minor).Store(&fd, &inactive)
	if err != nil {
		if isBusy(err) {
			return nil, fmt.Errorf("open %s: %w: another compositor or display server holds it; stop it or switch to its VT", path, ErrDeviceBusy)
		}
		if isNoDevice(err) {
			// The node is there (deviceNumber found it), so logind has
			// not yet seen udev's event for it.
			return nil, fmt.Errorf("open %s through logind: %s: %w", path, dbusMessage(err), ErrDeviceNotReady)
		}
		return nil, fmt.Errorf("open %s through logind: %s", path, dbusMessage(err))
	}
	f := os.NewFile(uintptr(fd), path)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	l.devices[key] = &logindDevice{path: path, major: major, minor: minor, file: f, paused: inactive}
	l.log.Debug("logind: took device", "path", path, "major", major, "minor", minor, "inactive", inactive, "event", "logind.took_device")
	return f, nil
}

// CloseDevice releases the device that f (its current or a replaced file)
// belongs to and closes all its files.
func (l *Logind) CloseDevice(f *os.File) error {
	l.mu.Lock()
	var dev *logindDevice
	for _, d := range l.devices {
		if fileIs(d.file, f) {
			dev = d
			break
		}
		for _, o := range d.old {
			if fileIs(o, f) {
				dev = d
			}
		}
	}
	if dev == nil {
		l.mu.Unlock()
		return fmt.Errorf("close device %s: not opened by this session", f.Name())
	}
	delete(l.devices, [2]uint32{dev.major, dev.minor})
	skipBus := l.lost != nil
	l.mu.Unlock()

	var errs []error
	if !skipBus {
		if err := l.call(context.Background(), l.session(), login1Session+".ReleaseDevice", dev.major, dev.minor).Err; err != nil {
			errs = append(errs, fmt.Errorf("release %s: %s", dev.path, dbusMessage(err)))
		}
	}
	for _, o := range append(dev.old, dev.file) {
		if err := o.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SwitchVT asks logind to activate VT vt on this session's seat.
func (l *Logind) SwitchVT(vt int) error {
	l.mu.Lock()
	err := l.usable()
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("switch to VT %d: %w", vt, err)
	}
	if vt < 1 {
		return fmt.Errorf("switch to VT %d: no such VT", vt)
	}
	if l.seatPath == "" {
		return fmt.Errorf("switch to VT %d: session has no seat", vt)
	}
	seat := l.conn.Object(login1Name, l.seatPath)
	if err := l.call(context.Background(), seat, login1Seat+".SwitchTo", uint32(vt)).Err; err != nil {
		return fmt.Errorf("switch to VT %d: %s", vt, dbusMessage(err))
	}
	return nil
}

// Close releases all devices, gives control back and closes the bus
// connection.
func (l *Logind) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	devs := l.devices
	l.devices = nil
	lost := l.lost != nil
	l.mu.Unlock()
	l.emitMu.Lock()
	l.stopped = true
	l.emitMu.Unlock()

	var errs []error
	for _, d := range devs {
		if !lost {
			if err := l.call(context.Background(), l.session(), login1Session+".ReleaseDevice", d.major, d.minor).Err; err != nil {
				errs = append(errs, fmt.Errorf("release %s: %s", d.path, dbusMessage(err)))
			}
		}
		for _, o := range append(d.old, d.file) {
			o.Close()
		}
	}
	if !lost {
		if err := l.call(context.Background(), l.session(), login1Session+".ReleaseControl").Err; err != nil {
			errs = append(errs, fmt.Errorf("release control of session %s: %s", l.id, dbusMessage(err)))
		}
	}
	if err := l.conn.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close system bus connection: %w", err))
	}
	return errors.Join(errs...)
}

// emit hands ev to the consumer unless the session is closed.
func (l *Logind) emit(ev Event) {
	l.emitMu.Lock()
	defer l.emitMu.Unlock()
	if !l.stopped {
		l.notify(ev)
	}
}

func (l *Logind) setLost(err error) {
	l.mu.Lock()
	if l.lost != nil || l.closed {
		l.mu.Unlock()
		return
	}
	l.lost = err
	l.active = false
	l.mu.Unlock()
	l.log.Error("logind: session lost", "err", err)
	l.emit(Event{Kind: Lost, Err: fmt.Errorf("%w: %v", ErrLost, err), ack: func() {}})
}

func (l *Logind) handle(sig *dbus.Signal) {
	switch sig.Name {
	case "org.freedesktop.DBus.NameOwnerChanged":
		var name, oldOwner, newOwner string
		if dbus.Store(sig.Body, &name, &oldOwner, &newOwner) == nil && name == login1Name && newOwner == "" {
			l.setLost(errors.New("logind left the system bus"))
		}
	case dbusProperties + ".PropertiesChanged":
		if sig.Path != l.path {
			return
		}
		var iface string
		var changed map[string]dbus.Variant
		var invalidated []string
		if dbus.Store(sig.Body, &iface, &changed, &invalidated) != nil || iface != login1Session {
			return
		}
		if v, ok := changed["Active"]; ok {
			if b, ok := v.Value().(bool); ok {
				l.setActive(b)
			}
		} else {
			for _, name := range invalidated {
				if name == "Active" {
					go l.refreshActive()
				}
			}
		}
	case login1Session + ".PauseDevice":
		if sig.Path != l.path {
			return
		}
		var major, minor uint32
		var typ string
		if err := dbus.Store(sig.Body, &major, &minor, &typ); err != nil {
			l.log.Warn("logind: malformed PauseDevice", "err", err)
			return
		}
		l.pauseDevice(major, minor, typ)
	case login1Session + ".ResumeDevice":
		if sig.Path != l.path {
			closeSignalFDs(sig)
			return
		}
		if len(sig.Body) != 3 {
			closeSignalFDs(sig)
			return
		}
		major, ok1 := sig.Body[0].(uint32)
		minor, ok2 := sig.Body[1].(uint32)
		fd, ok3 := sig.Body[2].(dbus.UnixFD)
		if !ok1 || !ok2 || !ok3 {
			l.log.Warn("logind: malformed ResumeDevice", "body", fmt.Sprint(sig.Body...))
			closeSignalFDs(sig)
			return
		}
		l.resumeDevice(major, minor, fd)
	default:
		closeSignalFDs(sig)
	}
}

func (l *Logind) setActive(b bool) {
	l.mu.Lock()
	was := l.active
	l.active = b
	l.mu.Unlock()
	if was == b {
		return
	}
	l.log.Info("logind: session active changed", "active", b, "event", "logind.active")
	if !b {
		l.mu.Lock()
		l.resumePending = false
		l.mu.Unlock()
		l.emit(Event{Kind: Paused, ack: func() {}})
		return
	}
	// logind emits Active=true and the ResumeDevice signals in either
	// order. Hold Resumed back until every paused device is back, so the
	// consumer can modeset as soon as it sees Resumed.
	l.mu.Lock()
	waiting := l.pausedDevicesLocked() > 0
	l.resumePending = waiting
	l.mu.Unlock()
	if !waiting {
		l.emit(Event{Kind: Resumed, ack: func() {}})
		return
	}
	time.AfterFunc(resumeDeviceWait, l.flushResume)
}

// resumeDeviceWait bounds how long Resumed waits for ResumeDevice signals
// (a device that logind never resumes, e.g. one removed meanwhile).
const resumeDeviceWait = 2 * time.Second

func (l *Logind) pausedDevicesLocked() int {
	n := 0
	for _, d := range l.devices {
		if d.paused {
			n++
		}
	}
	return n
}

// flushResume delivers a held-back Resumed.
func (l *Logind) flushResume() {
	l.mu.Lock()
	pending := l.resumePending && l.active && l.lost == nil && !l.closed
	l.resumePending = false
	l.mu.Unlock()
	if pending {
		l.emit(Event{Kind: Resumed, ack: func() {}})
	}
}

func (l *Logind) refreshActive() {
	v, err := l.session().GetProperty(login1Session + ".Active")
	if err != nil {
		return
	}
	if b, ok := v.Value().(bool); ok {
		l.setActive(b)
	}
}

func (l *Logind) pauseDevice(major, minor uint32, typ string) {
	key := [2]uint32{major, minor}
	l.mu.Lock()
	dev := l.devices[key]
	if dev != nil {
		dev.paused = true
	}
	l.mu.Unlock()
	complete := func() {
		// Sent without waiting: the ack is fire-and-forget in logind too,
		// and a reply wait here could stall on a vanished logind.
		l.session().Go(login1Session+".PauseDeviceComplete", dbus.FlagNoReplyExpected, nil, major, minor)
	}
	if dev == nil {
		if typ == "pause" {
			complete()
		}
		return
	}
	l.log.Debug("logind: pause device", "path", dev.path, "type", typ)
	ev := Event{Kind: DevicePaused, Path: dev.path, Major: major, Minor: minor,
		Forced: typ != "pause", Gone: typ == "gone", OldFile: dev.file, ack: func() {}}
	if typ == "pause" {
		ev.ack = once(complete)
	}
	l.emit(ev)
}

func (l *Logind) resumeDevice(major, minor uint32, fd dbus.UnixFD) {
	key := [2]uint32{major, minor}
	l.mu.Lock()
	dev := l.devices[key]
	if dev == nil || l.closed {
		l.mu.Unlock()
		closeFD(int(fd))
		return
	}
	defer func() {
		l.mu.Lock()
		done := l.resumePending && l.pausedDevicesLocked() == 0
		l.mu.Unlock()
		if done {
			l.flushResume()
		}
	}()
	if major == drmMajor {
		// logind only drops and restores DRM master; the fd it passes is
		// another handle on the same open file, so the consumer keeps
		// using the one it has (a DRM device holds it for its lifetime).
		closeFD(int(fd))
		dev.paused = false
		l.mu.Unlock()
		l.log.Debug("logind: resume device", "path", dev.path)
		l.emit(Event{Kind: DeviceResumed, Path: dev.path, Major: major, Minor: minor, OldFile: dev.file, ack: func() {}})
		return
	}
	newFile := os.NewFile(uintptr(fd), dev.path)
	oldFile := dev.file
	dev.old = append(dev.old, oldFile)
	dev.file = newFile
	dev.paused = false
	l.mu.Unlock()
	l.log.Debug("logind: resume device", "path", dev.path)
	l.emit(Event{Kind: DeviceResumed, Path: dev.path, Major: major, Minor: minor,
		OldFile: oldFile, NewFile: newFile, ack: once(func() {
			l.mu.Lock()
			for i, o := range dev.old {
				if o == oldFile {
					dev.old = append(dev.old[:i], dev.old[i+1:]...)
					break
				}
			}
			l.mu.Unlock()
			oldFile.Close()
		})})
}

// drmMajor is the DRM character devices' major number.
const drmMajor = 226

// closeSignalFDs closes file descriptors carried by a signal nobody takes.
func closeSignalFDs(sig *dbus.Signal) {
	for _, v := range sig.Body {
		if fd, ok := v.(dbus.UnixFD); ok {
			closeFD(int(fd))
		}
	}
}

// isBusy reports whether a logind error means someone else holds the
// session or device.
func isBusy(err error) bool {
	if de, ok := asDBusError(err); ok {
		return de.Name == "System.Error.EBUSY" || de.Name == "org.freedesktop.login1.DeviceIsTaken" ||
			strings.Contains(strings.ToLower(fmt.Sprint(de.Body...)), "busy")
	}
	return false
}

// isNoDevice reports whether a logind error is ENODEV: logind has no
// udev record of the device (TakeDevice on a node udev has not
// processed, or one removed meanwhile).
func isNoDevice(err error) bool {
	de, ok := asDBusError(err)
	return ok && de.Name == "System.Error.ENODEV"
}

// dbusMessage renders a D-Bus error as its name and message.
func dbusMessage(err error) string {
	if de, ok := asDBusError(err); ok {
		if len(de.Body) > 0 {
			if s, ok := de.Body[0].(string); ok {
				return fmt.Sprintf("%s (%s)", s, de.Name)
			}
		}
		return de.Name
	}
	return err.Error()
}

func asDBusError(err error) (dbus.Error, bool) {
	var de dbus.Error
	if errors.As(err, &de) {
		return de, true
	}
	var dp *dbus.Error
	if errors.As(err, &dp) && dp != nil {
		return *dp, true
	}
	return dbus.Error{}, false
}
