package seat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
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

	// pauseComplete and queryActive are the two bus calls signal
	// handling makes; OpenLogind points them at the connection, tests
	// at fakes, so a Logind without a bus never dereferences one.
	pauseComplete func(major, minor uint32)
	queryActive   func() (bool, error)
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
	l.pauseComplete = func(major, minor uint32) {
		// Sent without waiting: the ack is fire-and-forget in logind too,
		// and a reply wait here could stall on a vanished logind.
		l.session().Go(login1Session+".PauseDeviceComplete", dbus.FlagNoReplyExpected, nil, major, minor)
	}
	l.queryActive = func() (bool, error) {
		v, err := l.session().GetProperty(login1Session + ".Active")
		if err != nil {
			return false, err
		}
		b, ok := v.Value().(bool)
		if !ok {
			return false, fmt.Errorf("Active is %s, want a bool", v.Signature())
		}
		return b, nil
	}
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

	call := l.call(context.Background(), l.session(), login1Session+".TakeDevice", major, minor)
	err = call.Err
	if err != nil {
		// An error reply carries no fds, unless logind is broken.
		if de, ok := asDBusError(err); ok {
			closeBodyFDs(de.Body, -1)
		}
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
	fd, inactive, err := decodeTakeDevice(call.Body)
	if err != nil {
		return nil, fmt.Errorf("open %s through logind: %w", path, err)
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
	// conn is nil only for a Logind a test built without a bus.
	if l.conn != nil {
		if err := l.conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close system bus connection: %w", err))
		}
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
	if sig == nil {
		return
	}
	s, err := decodeLogindSignal(sig, l.path)
	// Whatever the signal, the fds it carries are ours to close, but
	// for the one a ResumeDevice hands on.
	closeBodyFDs(sig.Body, s.fd)
	if err != nil {
		l.log.Warn("logind: malformed signal", "signal", sig.Name, "err", err)
		return
	}
	switch s.kind {
	case logindGone:
		l.setLost(errors.New("logind left the system bus"))
	case logindActive:
		l.setActive(s.active)
	case logindActiveInvalidated:
		// Reading it is a call on the connection whose reader this is.
		go l.refreshActive()
	case logindPauseDevice:
		l.pauseDevice(s.major, s.minor, s.pauseType)
	case logindResumeDevice:
		l.resumeDevice(s.major, s.minor, s.fd)
	}
}

// logindSignalKind is what a signal asks of the session.
type logindSignalKind int

const (
	logindIgnored           logindSignalKind = iota // not for this session
	logindGone                                      // logind left the bus
	logindActive                                    // the session's Active changed
	logindActiveInvalidated                         // Active changed, value not sent
	logindPauseDevice
	logindResumeDevice
)

// logindSignal is a decoded signal.
type logindSignal struct {
	kind         logindSignalKind
	active       bool   // logindActive
	major, minor uint32 // device signals
	pauseType    string // logindPauseDevice: "pause", "force" or "gone"
	fd           int    // logindResumeDevice: the device's new fd; else -1
}

// decodeLogindSignal reads a signal for the session at path. A signal
// of another name, path or interface is logindIgnored; one whose body is
// not what logind or the bus sends is an error. It touches no fd: the
// caller closes every fd in the body but s.fd (closeBodyFDs).
func decodeLogindSignal(sig *dbus.Signal, path dbus.ObjectPath) (s logindSignal, err error) {
	s.fd = -1
	b := sig.Body
	switch sig.Name {
	case "org.freedesktop.DBus.NameOwnerChanged":
		var name, oldOwner, newOwner string
		if len(b) != 3 || !as(b[0], &name) || !as(b[1], &oldOwner) || !as(b[2], &newOwner) {
			return s, fmt.Errorf("body is %s, want (name, old owner, new owner) strings", bodyTypes(b))
		}
		if name == login1Name && newOwner == "" {
			s.kind = logindGone
		}
	case dbusProperties + ".PropertiesChanged":
		if sig.Path != path {
			return s, nil
		}
		var iface string
		var changed map[string]dbus.Variant
		var invalidated []string
		if len(b) != 3 || !as(b[0], &iface) || !as(b[1], &changed) || !as(b[2], &invalidated) {
			return s, fmt.Errorf("body is %s, want (interface, changed, invalidated)", bodyTypes(b))
		}
		if iface != login1Session {
			return s, nil
		}
		if v, ok := changed["Active"]; ok {
			if !as(v.Value(), &s.active) {
				return s, fmt.Errorf("Active is %s, want a bool", bodyTypes([]any{v.Value()}))
			}
			s.kind = logindActive
		} else if slices.Contains(invalidated, "Active") {
			s.kind = logindActiveInvalidated
		}
	case login1Session + ".PauseDevice":
		if sig.Path != path {
			return s, nil
		}
		if len(b) != 3 || !as(b[0], &s.major) || !as(b[1], &s.minor) || !as(b[2], &s.pauseType) {
			return s, fmt.Errorf("body is %s, want (major, minor uint32, type string)", bodyTypes(b))
		}
		s.kind = logindPauseDevice
	case login1Session + ".ResumeDevice":
		if sig.Path != path {
			return s, nil
		}
		var fd dbus.UnixFD
		if len(b) != 3 || !as(b[0], &s.major) || !as(b[1], &s.minor) || !as(b[2], &fd) {
			return s, fmt.Errorf("body is %s, want (major, minor uint32, fd)", bodyTypes(b))
		}
		if fd < 0 {
			return s, fmt.Errorf("fd %d is not a descriptor", fd)
		}
		s.kind, s.fd = logindResumeDevice, int(fd)
	}
	return s, nil
}

// as stores v in *dst if v has exactly dst's type. Signal bodies are
// decoded with plain type checks, not dbus.Store: Store converts between
// types (a uint32 into a UnixFD, so any number would pass for a
// descriptor) and panics on a nil value.
func as[T any](v any, dst *T) bool {
	t, ok := v.(T)
	if ok {
		*dst = t
	}
	return ok
}

// bodyTypes describes a body's values by their Go types, for errors.
func bodyTypes(b []any) string {
	ts := make([]string, len(b))
	for i, v := range b {
		ts[i] = fmt.Sprintf("%T", v)
	}
	return "(" + strings.Join(ts, ", ") + ")"
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
	if b, err := l.queryActive(); err == nil {
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
	complete := func() { l.pauseComplete(major, minor) }
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

func (l *Logind) resumeDevice(major, minor uint32, fd int) {
	key := [2]uint32{major, minor}
	l.mu.Lock()
	dev := l.devices[key]
	if dev == nil || l.closed {
		l.mu.Unlock()
		closeFD(fd)
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
		closeFD(fd)
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

// decodeTakeDevice reads TakeDevice's reply: the device's fd and
// whether the session is inactive (the device starts paused). It owns
// the fds in body: every one it does not return is closed, all of them
// when the reply is malformed.
func decodeTakeDevice(body []any) (fd int, inactive bool, err error) {
	var ufd dbus.UnixFD
	if len(body) != 2 || !as(body[0], &ufd) || !as(body[1], &inactive) {
		closeBodyFDs(body, -1)
		return -1, false, fmt.Errorf("malformed TakeDevice reply: body is %s, want (fd, inactive bool)", bodyTypes(body))
	}
	if ufd < 0 {
		closeBodyFDs(body, -1)
		return -1, false, fmt.Errorf("malformed TakeDevice reply: fd %d is not a descriptor", ufd)
	}
	closeBodyFDs(body, int(ufd))
	return int(ufd), inactive, nil
}

// drmMajor is the DRM character devices' major number.
const drmMajor = 226

// closeBodyFDs closes the descriptors a message carries that nobody
// takes: all but keep (-1: all). godbus puts each received fd where its
// 'h' was, also inside arrays, structs, dicts and variants, and the same
// fd twice when the message names its index twice: each number is
// closed once, and negative ones (never fds) not at all.
func closeBodyFDs(body []any, keep int) {
	for _, fd := range bodyFDs(body) {
		if fd != keep {
			unix.Close(fd)
		}
	}
}

var (
	unixFDType  = reflect.TypeFor[dbus.UnixFD]()
	variantType = reflect.TypeFor[dbus.Variant]()
)

// bodyFDs lists the distinct non-negative fds anywhere in body.
func bodyFDs(body []any) []int {
	var fds []int
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		// The wire format nests at most 64 deep; anything deeper was
		// not decoded from it.
		if !v.IsValid() || depth > 64 {
			return
		}
		switch v.Type() {
		case unixFDType:
			if fd := int(v.Int()); fd >= 0 && !slices.Contains(fds, fd) {
				fds = append(fds, fd)
			}
			return
		case variantType:
			walk(reflect.ValueOf(v.Interface().(dbus.Variant).Value()), depth+1)
			return
		}
		switch v.Kind() {
		case reflect.Interface:
			walk(v.Elem(), depth+1)
		case reflect.Slice, reflect.Array:
			if !mayHoldFD(v.Type().Elem()) {
				return // a byte array, a string array...
			}
			for i := range v.Len() {
				walk(v.Index(i), depth+1)
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
			}
		}
	}
	for _, v := range body {
		walk(reflect.ValueOf(v), 0)
	}
	return fds
}

// mayHoldFD reports whether a value of type t can be or contain a
// UnixFD.
func mayHoldFD(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return t == unixFDType || t == variantType
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
