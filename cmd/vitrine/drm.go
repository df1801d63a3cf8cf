package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat"
	"github.com/vitrine-wm/vitrine/seat/evdev"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

var filepathGlob = filepath.Glob

// The KMS output is what scene drives: the plain output, direct scanout
// and the cursor plane. scene finds the optional ones by type assertion,
// so a method set drifting on either side must fail here, at build time.
var (
	_ scene.Output          = (*kms.Output)(nil)
	_ scene.Scanouter       = (*kms.Output)(nil)
	_ scene.CursorPlane     = (*kms.Output)(nil)
	_ scene.ModeSetter      = (*kms.Output)(nil)
	_ scene.TransformSetter = (*kms.Output)(nil)
)

// drmBackend is the KMS side of vitrine: the session that granted the
// device, the device and its outputs.
type drmBackend struct {
	log  *slog.Logger
	sess seat.Session
	dev  *kms.Device
	set  *kms.OutputSet
	in   *seat.Input
	comp *scene.Compositor
	loop seatLoop
	// events is the device's fd on the loop: page-flip events.
	events *eventloop.Source
	// uevents is the kernel's uevent socket, read on the loop for
	// connector hotplug; nil without hotplug.
	uevents     *evdev.UeventMonitor
	stopUevents func()
	// paused is true while another VT has the display. It is only read
	// and written on the loop.
	paused bool

	// What reopen needs to take a device again after one went away
	// (drmdevice.go): dev, set and events are nil in between.
	srv        clientLister
	devicePath string
	kopts      kms.Options
	presented  func(*kms.Output, present.Info)
	// retryTimer tries again while the session manager does not know
	// the new device yet (tryReopen); nil until first needed.
	retryTimer *eventloop.Timer
	retry      reopenRetry
}

// clientLister is the part of the protocol server the backend logs from.
type clientLister interface{ Clients() []*protocol.Client }

var errNoConnectedDisplay = errors.New("no connected display")

// errDRMAsRoot is the drm backend refused to root without --session
// direct (DESIGN: root opens devices only when it says so).
var errDRMAsRoot = errors.New("refusing to run the drm backend as root: log in as a user on a console (logind or seatd gives it the devices), or pass --session direct to open the devices as root")

// openDRM opens the display device through the session and lights every
// connected connector. Input devices, the session's events and hotplug
// are handled on loop.
func openDRM(ctx context.Context, opts *options, log *slog.Logger, comp *scene.Compositor, srv clientLister, loop *eventloop.Loop) (*drmBackend, error) {
	if os.Geteuid() == 0 && opts.session != seat.KindDirect {
		return nil, errDRMAsRoot
	}
	b := &drmBackend{log: log, comp: comp, loop: seatLoop{loop: loop}, srv: srv, devicePath: opts.drmDevice}
	sess, err := seat.OpenWith(ctx, opts.session, seat.Options{
		Log:  log,
		Loop: b.loop,
		// Called on the D-Bus reader (logind) or inside a seatd request:
		// the event is handled on the loop, after what is running now.
		Events: func(ev seat.Event) { b.loop.Post(func() { b.handleSession(ev) }) },
	})
	if err != nil {
		return nil, err
	}
	b.sess = sess
	b.dev, err = b.openDevice(opts.drmDevice)
	if err != nil {
		sess.Close()
		return nil, err
	}
	b.events, err = loop.AddFD(b.dev.FD(), eventloop.Readable, b.drmReadable)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("%s: %w", b.dev.Path(), err)
	}
	def, per := opts.kmsConfig()
	kopts := kms.Options{
		OutputConfig:    def,
		PerOutput:       per,
		ForceLegacy:     opts.legacyKMS,
		NoPlaneRotation: opts.noPlaneRot,
		NoOverlayPlanes: opts.noOverlays,
		Logger:          log,
		NewTimer:        b.newTimer,
	}
	// Completions come from the device's events or a kms timer, both on
	// the loop: straight in, no queue.
	b.kopts = kopts
	b.presented = func(o *kms.Output, info present.Info) { comp.PresentDone(o, info) }
	b.set, err = kms.NewOutputs(b.dev, kopts, b.presented)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("%s: %w", b.dev.Path(), err)
	}
	if len(b.set.Outputs()) == 0 {
		// A kiosk booted before its screen, or a TV switched off: the
		// clients start anyway, on a placeholder output, and move to
		// the display when its connector is plugged.
		name, m := b.set.PlaceholderHint()
		log.Warn("no display connected; clients see a placeholder output until one is", "device", b.dev.Path(), "driver", b.dev.Driver(), "placeholder", name, "event", "output.none_connected")
		comp.AddPlaceholder(name, scene.Mode{Width: m.Width, Height: m.Height, RefreshMilliHz: m.RefreshMilliHz})
	}
	for _, o := range b.set.Outputs() {
		comp.AddOutput(o)
		log.Info("kms output", "name", o.Name(), "atomic", o.Atomic(), "plane_rotation", o.PlaneRotation())
	}
	if err := setMainDevice(opts, comp, b.dev, log); err != nil {
		b.close()
		return nil, err
	}
	if err := configureInput(opts, comp, sess, log); err != nil {
		b.close()
		return nil, err
	}
	b.in, err = seat.NewInput(sess, b.loop, comp.HandleInput, seat.InputOptions{Log: log, MapInput: opts.mapInput})
	if err != nil {
		// A display without input still makes a kiosk (signage).
		log.Warn("no input devices", "err", err)
	}
	b.watchHotplug()
	return b, nil
}

// configureInput applies --keymap (or the XKB names), --no-vt-switch
// and --no-quit-key.
func configureInput(opts *options, comp *scene.Compositor, sess seat.Session, log *slog.Logger) error {
	return configureInputWith(opts, comp, sess, log, nil)
}

// configureInputWith is configureInput with the keymap to use when
// neither --keymap nor XKB names ask for one (nil: the built-in US).
func configureInputWith(opts *options, comp *scene.Compositor, sess seat.Session, log *slog.Logger, fallback *xkb.Keymap) error {
	cfg := scene.InputConfig{QuitKey: !opts.noQuitKey, HideCursor: opts.hideCursor, NoWindowBindings: opts.noBindings}
	cfg.CursorTheme, cfg.CursorSize, cfg.CursorPath = cursorTheme(os.Getenv)
	km, err := keymapFor(opts, os.Getenv, log)
	if err != nil {
		return err
	}
	if km == nil {
		km = fallback
	}
	cfg.Keymap = km
	if !opts.noVTSwitch && sess != nil {
		cfg.SwitchVT = sess.SwitchVT
	}
	comp.ConfigureInput(cfg)
	return nil
}

// keymapFor is the keymap to send: --keymap FILE, else the one compiled
// for the --xkb-* flags over XKB_DEFAULT_*, else nil (built-in US). A
// layout asked for on the command line that cannot be compiled is an
// error; one from the environment (set for a whole system) only a
// warning, so a machine without xkbcli still starts.
func keymapFor(opts *options, getenv func(string) string, log *slog.Logger) (*xkb.Keymap, error) {
	if opts.keymap != "" {
		km, err := xkb.LoadKeymap(opts.keymap)
		if err != nil {
			return nil, fmt.Errorf("--keymap: %w", err)
		}
		return km, nil
	}
	names := xkb.NamesFromEnv(getenv).Over(opts.xkbNames)
	if names.Empty() {
		return nil, nil
	}
	km, err := xkb.Compile(names, exec.LookPath)
	switch {
	case err == nil:
		log.Info("keymap", "xkb", names.String())
		return km, nil
	case !opts.xkbNames.Empty():
		return nil, fmt.Errorf("--xkb-*: %w", err)
	default:
		log.Warn("XKB_DEFAULT_* ignored; using the built-in US keymap", "err", err)
		return nil, nil
	}
}

// openDevice opens path, or the first primary node with a connected
// connector, through the session.
func (b *drmBackend) openDevice(path string) (*kms.Device, error) {
	var candidates []string
	if path != "" {
		candidates = []string{path}
	} else {
		infos, err := kms.ListDevices("/sys", "/dev")
		if err != nil {
			return nil, fmt.Errorf("list DRM devices: %w", err)
		}
		for _, in := range infos {
			if in.Node == kms.NodePrimary {
				candidates = append(candidates, in.Path)
			}
		}
		if len(candidates) == 0 {
			return nil, errors.New("no DRM display device in /dev/dri (is the display driver loaded?)")
		}
	}
	var errs []error
	// fallback is the first device that could be opened but shows
	// nothing yet: with no display connected anywhere, vitrine starts on
	// it and waits for a monitor.
	var fallback *kms.Device
	for _, p := range candidates {
		f, err := b.sess.OpenDevice(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("open %s: %w", p, err))
			continue
		}
		dev, err := kms.NewDevice(f)
		if err != nil {
			b.sess.CloseDevice(f)
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		if !dev.IsMaster() {
			dev.Close()
			errs = append(errs, fmt.Errorf("%s: %w: another compositor or display server is DRM master on it; stop it or switch to its VT", p, seat.ErrDeviceBusy))
			continue
		}
		if path == "" && !hasConnectedConnector(dev) {
			if fallback == nil && dev.Node() == kms.NodePrimary {
				fallback = dev
			} else {
				dev.Close()
			}
			errs = append(errs, fmt.Errorf("%s (%s): no connected display", p, dev.Driver()))
			continue
		}
		if fallback != nil {
			fallback.Close()
		}
		b.log.Info("display device", "path", p, "driver", dev.Driver(), "event", "drm.device")
		return dev, nil
	}
	if fallback != nil {
		b.log.Info("display device", "path", fallback.Path(), "driver", fallback.Driver(), "why", "no card has a connected display; waiting on the first for one", "event", "drm.device")
		return fallback, nil
	}
	return nil, errors.Join(errs...)
}

func hasConnectedConnector(dev *kms.Device) bool {
	res, err := dev.Resources()
	if err != nil {
		return false
	}
	for _, id := range res.Connectors {
		if c, err := dev.Connector(id); err == nil && c.Connection == kms.Connected {
			return true
		}
	}
	return false
}

// watchHotplug puts the kernel's uevent socket on the loop, to add and
// remove outputs as connectors come and go.
func (b *drmBackend) watchHotplug() {
	m, err := evdev.ListenUevents()
	if err == nil {
		b.stopUevents, err = b.loop.WatchReadable(m.FD(), func() { b.readUevents(m) })
		if err != nil {
			m.Close()
		}
	}
	if err != nil {
		b.log.Warn("no hotplug events; outputs stay as found at start", "err", err)
		return
	}
	b.uevents = m
}

// readUevents rescans the connectors once for all the DRM hotplug
// notices queued.
func (b *drmBackend) readUevents(m *evdev.UeventMonitor) {
	changed, gone := false, ""
	err := m.Dispatch(func(msg []byte) {
		ev, err := kms.ParseUevent(msg)
		if err != nil {
			return
		}
		h, ok := kms.HotplugFromUevent(ev)
		switch {
		case !ok:
		case h.Action == "remove" && b.isOurCard(h):
			gone = "the kernel removed " + h.DevName + " (driver unbound or device unplugged)"
		default:
			changed = true
		}
	})
	if gone != "" {
		b.deviceGone(goneUevent, gone)
	}
	switch {
	case errors.Is(err, evdev.ErrUeventOverrun):
		b.log.Warn("uevents lost; rescanning connectors")
		changed = true
	case err != nil:
		b.log.Error("hotplug watch stopped", "err", err)
		b.stopUevents()
	}
	if !changed {
		return
	}
	if b.dev == nil {
		b.reopen()
		return
	}
	if b.paused {
		// Without DRM master a new output cannot be lit; the rescan on
		// resume picks the change up.
		b.log.Info("connectors changed while the session is away; rescanning on return", "event", "hotplug.deferred")
		return
	}
	b.rescan()
}

// rescan adds and removes outputs to match the connected connectors.
func (b *drmBackend) rescan() {
	added, removed, err := b.set.Rescan()
	if err != nil {
		b.log.Error("rescan connectors", "err", err)
	}
	for _, o := range removed {
		b.comp.RemoveOutput(o)
	}
	for _, o := range added {
		b.comp.AddOutput(o)
	}
}

// pause stops drawing; another VT has the display.
func (b *drmBackend) pause() {
	if !b.paused && b.set != nil {
		for _, o := range b.set.Outputs() {
			// The fault the lab's VT rows provoke: what is in flight
			// now completes in the kernel while the display is someone
			// else's, and resume must neither wait for it nor take its
			// late event for a new flip's.
			if st := o.FrameInFlight(); st != "" {
				b.log.Info("session paused with a frame in flight", "output", o.Name(), "stage", st, "event", "session.paused_in_flight")
			}
		}
	}
	b.paused = true
	b.comp.SetActive(false)
}

// resume takes the display back: monitors may have come or gone while
// away, so the connectors are read again before the remaining outputs are
// lit and everything is repainted.
func (b *drmBackend) resume() {
	if !b.paused {
		// logind reports both the device and the session coming back;
		// the first one did the work.
		return
	}
	b.paused = false
	if b.dev == nil {
		b.comp.SetActive(true)
		b.reopen()
		return
	}
	b.rescan()
	if err := b.set.Resume(); err != nil {
		b.log.Error("resume outputs", "err", err)
	}
	b.comp.SetActive(true)
}

// handleSession runs on the loop for every session event: input devices
// first, then the display, which stops drawing while another VT has it
// and repaints everything when it comes back.
func (b *drmBackend) handleSession(ev seat.Event) {
	if b.in != nil && b.in.HandleSessionEvent(ev) {
		return
	}
	var file *os.File
	if b.dev != nil {
		file = b.dev.File()
	}
	switch displayAction(ev, file) {
	case displayPause:
		b.pause()
	case displayResume:
		b.resume()
	case displayGone:
		b.deviceGone(goneLogind, "logind says "+ev.Path+" was removed (driver unbound or device unplugged)")
	}
	if ev.Kind == seat.Lost {
		b.comp.Stop(fmt.Errorf("session manager gone: %w", ev.Err))
	}
	ev.Ack()
}

// What a session event asks of the display (displayAction).
const (
	displayNothing = iota
	displayPause
	displayResume
	displayGone
)

// displayAction decides what a session event means for the display
// device whose file is cur (nil while there is none). logind says
// "gone" (PauseDevice type gone) when the device is removed: that is the
// end of the device, not a pause, or vitrine would wait for a resume that
// never comes and stay paused on the card that replaces it. Device
// events are matched by file, not path: a rebound driver brings a new
// card under the same name, and a late event about the old one must not
// touch it.
func displayAction(ev seat.Event, cur *os.File) int {
	switch ev.Kind {
	case seat.Paused:
		return displayPause
	case seat.Resumed:
		return displayResume
	case seat.DevicePaused:
		switch {
		case cur == nil || ev.OldFile != cur:
			return displayNothing
		case ev.Gone:
			return displayGone
		}
		return displayPause
	case seat.DeviceResumed:
		// DRM fds survive a pause (only master is dropped): the
		// session keeps the device's file (seat never hands a new one
		// for DRM), so only the outputs need resuming.
		if cur != nil && ev.OldFile == cur {
			return displayResume
		}
	}
	return displayNothing
}

func (b *drmBackend) close() {
	if b.retryTimer != nil {
		b.retryTimer.Stop()
	}
	if b.in != nil {
		b.in.Close()
	}
	if b.uevents != nil {
		b.stopUevents()
		b.uevents.Close()
	}
	if b.set != nil {
		b.set.Close()
	}
	if b.events != nil {
		b.events.Remove()
	}
	if b.dev != nil {
		b.dev.Close()
	}
	b.sess.Close()
}

func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vitrine probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rep, err := kms.Probe()
	if errors.Is(err, iofs.ErrNotExist) {
		fmt.Fprintln(stderr, "vitrine probe: no DRM devices: /sys/class/drm does not exist (no DRM driver is loaded, or this is a container without /sys)")
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "vitrine probe:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "vitrine probe:", err)
			return 1
		}
		return 0
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "vitrine probe:", err)
		return 1
	}
	return 0
}
