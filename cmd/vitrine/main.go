// Command vitrine is a minimal Wayland compositor for Linux KMS.
//
//	vitrine [flags] [-- command args...]
//	vitrine probe [--json]
//
// With a command, vitrine starts it with WAYLAND_DISPLAY set and exits
// with its exit status when it exits; --restart restarts it instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/nested"
	"github.com/vitrine-wm/vitrine/scene/present"
	"github.com/vitrine-wm/vitrine/seat/xkb"
)

// headlessName is the headless backend's one output, as --rotate NAME=
// and clients see it.
const headlessName = "HEADLESS-1"

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		// The compositor is one loop on one goroutine and draws on it; a
		// second scheduler slot only gives the runtime an idle processor
		// to wake a spinning thread for each time the loop wakes (a
		// futex wake-up and a context switch, three times a frame).
		runtime.GOMAXPROCS(1)
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

type options struct {
	backend    string
	output     string
	drmDevice  string
	rotate     *outputFlag
	scale      *outputFlag
	socket     string
	restart    bool
	session    string
	logLevel   string
	logFormat  string
	trace      bool
	maxQueue   int
	mode       *outputFlag
	legacyKMS  bool
	noPlaneRot bool
	noOverlays bool
	// renderDevice is --render-device: the feedback's main device.
	renderDevice string
	keymap       string
	noVTSwitch   bool
	noQuitKey    bool
	hideCursor   bool
	xkbNames     xkb.Names
	ping         time.Duration
	idle         time.Duration
	appOutput    appOutputFlag
	mapInput     mapInputFlag
	privileged   string
	osk          string
	layout       string
	noBindings   bool
	xwayland     string
	command      []string
	// wlOutputs is how many windows the wayland backend opens.
	wlOutputs int

	// Per-client limits (README: Limits).
	maxObjects, maxFDs, maxBuffers, maxFrameCallbacks int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{
		rotate:    newOutputFlag("0", checkRotate),
		scale:     newOutputFlag("", checkScale),
		mode:      newOutputFlag("", checkMode),
		appOutput: appOutputFlag{},
	}
	fs := flag.NewFlagSet("vitrine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.backend, "backend", "auto", "output backend: auto, drm, headless or wayland (windows in the Wayland compositor WAYLAND_DISPLAY names)")
	fs.StringVar(&o.output, "output", "1920x1080@60", "headless output mode WIDTHxHEIGHT[@HZ]; with --backend wayland, the windows' size until the parent compositor picks one")
	fs.IntVar(&o.wlOutputs, "wayland-outputs", 1, "with --backend wayland, how many windows (outputs) to open")
	fs.StringVar(&o.drmDevice, "drm-device", "", "DRM device to display on (default: the first card with a connected display)")
	fs.StringVar(&o.renderDevice, "render-device", "", "DRM node clients are told to render with (linux-dmabuf main device), e.g. /dev/dri/renderD128 (default: the render node whose buffers the display imports, else the display's own render node, else the first render node)")
	fs.Var(o.rotate, "rotate", "output rotation in degrees, 0, 90, 180 or 270, counter-clockwise: DEGREES for every output or NAME=DEGREES for one (repeatable; e.g. --rotate HDMI-A-1=90)")
	fs.Var(o.scale, "scale", "output scale, whole or fractional (1, 1.5, 2...): SCALE for every output or NAME=SCALE for one (repeatable; e.g. --scale HDMI-A-1=2); clients see a layout that much smaller and draw at the panel's pixels where they support it (default 1)")
	fs.StringVar(&o.socket, "socket", "", "Wayland socket name in $XDG_RUNTIME_DIR (default: first free wayland-N)")
	fs.BoolVar(&o.restart, "restart", false, "restart the command when it exits instead of exiting (kiosk)")
	fs.StringVar(&o.session, "session", "auto", "session manager: auto, logind, seatd or direct")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text (key=value) or json (one object a line, with stable event names: README, Logs)")
	fs.BoolVar(&o.trace, "trace-protocol", false, "log every client request (at debug level)")
	fs.Var(o.mode, "mode", "drm mode WIDTHxHEIGHT[@HZ] for every output, or NAME=WIDTHxHEIGHT[@HZ] for one (repeatable; default: each display's preferred mode)")
	fs.BoolVar(&o.legacyKMS, "legacy-kms", false, "use legacy KMS (SETCRTC, PAGE_FLIP, DIRTYFB) even where atomic works, for testing drivers")
	fs.BoolVar(&o.noPlaneRot, "no-plane-rotation", false, "with --rotate, turn the picture in the CPU copy even when the display plane could rotate it (for drivers whose plane rotation is broken)")
	fs.BoolVar(&o.noOverlays, "no-overlay-planes", false, "never put client buffers on overlay planes: composite them (to compare the paths, or for drivers whose overlays misbehave)")
	fs.StringVar(&o.keymap, "keymap", "", "compiled XKB keymap file to send to clients (e.g. from xkbcli compile-keymap --layout de); default: built-in US")
	fs.BoolVar(&o.noVTSwitch, "no-vt-switch", false, "disable Ctrl+Alt+F1..F12 virtual terminal switching (kiosks)")
	fs.StringVar(&o.xkbNames.Layout, "xkb-layout", "", "keyboard layout(s), e.g. de or us,ru (default $XKB_DEFAULT_LAYOUT, else built-in US); needs xkbcli (Debian: libxkbcommon-tools)")
	fs.StringVar(&o.xkbNames.Variant, "xkb-variant", "", "layout variant, e.g. nodeadkeys (default $XKB_DEFAULT_VARIANT)")
	fs.StringVar(&o.xkbNames.Options, "xkb-options", "", "XKB options, e.g. ctrl:nocaps,grp:alt_shift_toggle (default $XKB_DEFAULT_OPTIONS)")
	fs.StringVar(&o.xkbNames.Model, "xkb-model", "", "keyboard model, e.g. pc105 (default $XKB_DEFAULT_MODEL)")
	fs.StringVar(&o.xkbNames.Rules, "xkb-rules", "", "XKB rules (default $XKB_DEFAULT_RULES, else evdev)")
	fs.BoolVar(&o.hideCursor, "hide-cursor", false, "never show a pointer cursor (touch kiosks); without it the cursor shows once a pointer has moved")
	fs.BoolVar(&o.noQuitKey, "no-quit-key", false, "disable Ctrl+Alt+Backspace (kiosks)")
	fs.Var(&o.mapInput, "map-input", "DEVICE=OUTPUT: put a touchscreen's or tablet's input (its name or /dev/input/eventN) on that output (repeatable; wins over udev's WL_OUTPUT; default: the first output)")
	fs.Var(o.appOutput, "app-output", "APP_ID=OUTPUT: put the windows of the application with that xdg app_id on that output (repeatable; default: the first output)")
	fs.DurationVar(&o.idle, "idle-timeout", 0, "switch the displays off after this long without input (e.g. 10m), back on at the next input; a visible window with an idle inhibitor (a video playing) keeps them on; 0: never")
	fs.DurationVar(&o.ping, "ping-timeout", 5*time.Second, "how long a client may take to answer xdg_wm_base.ping before it is logged as not responding")
	fs.StringVar(&o.privileged, "privileged-clients", "", "clients that may capture the screen, configure outputs and inject input (screencopy, wlr-output-management, output power, virtual keyboard and pointer) or read and set the selections at any time (wlr-data-control): child (the command's process tree), all, none, or program names separated by commas, e.g. grim,wlr-randr (default: child with a command, all without)")
	fs.StringVar(&o.layout, "layout", "", "window layout: desktop (floating windows, click to focus, Alt+Tab) or kiosk (every window fills its output); default: kiosk with --restart, else desktop")
	fs.BoolVar(&o.noBindings, "no-bindings", false, "turn off the desktop layout's bindings (Alt+Tab, Super+Q, Super+Shift+Q, Super+drag), so clients get those keys and buttons")
	fs.StringVar(&o.osk, "osk", "", "on-screen keyboard command, shown while a text field has the keyboard focus (SIGUSR2) and hidden otherwise (SIGUSR1), e.g. \"wvkbd-mobintl --hidden\"")
	fs.StringVar(&o.xwayland, "xwayland", "auto", "X11 clients through Xwayland, started when the first one connects: auto (when Xwayland is installed), on, or off")
	fs.IntVar(&o.maxQueue, "client-queue-limit", protocol.DefaultMaxQueue, "bytes of events queued for a client before it is disconnected for not reading")
	fs.IntVar(&o.maxObjects, "client-object-limit", protocol.DefaultMaxObjects, "protocol objects a client may have before it is disconnected")
	fs.IntVar(&o.maxFDs, "client-fd-limit", protocol.DefaultMaxFDs, "file descriptors vitrine may hold for a client (pools, dma-buf planes, fds not yet used) before it is disconnected")
	fs.IntVar(&o.maxBuffers, "client-buffer-limit", scene.DefaultMaxBuffers, "wl_buffers a client may have before it is disconnected")
	fs.IntVar(&o.maxFrameCallbacks, "client-frame-callback-limit", scene.DefaultMaxFrameCallbacks, "frame callbacks a client may have waiting before it is disconnected")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: vitrine [flags] [-- command args...]\n       vitrine probe [--json]\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.command = fs.Args()
	switch o.backend {
	case "auto", "drm", "headless", "wayland":
	default:
		return nil, fmt.Errorf("--backend %q: want auto, drm, headless or wayland", o.backend)
	}
	if o.wlOutputs < 1 || o.wlOutputs > 16 {
		return nil, fmt.Errorf("--wayland-outputs %d: want 1 to 16", o.wlOutputs)
	}
	if _, _, _, err := headless.ParseMode(o.output); err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	if o.privileged == "" {
		o.privileged = defaultPrivileged(o.command)
	}
	var childPID func() int
	if len(o.command) > 0 {
		childPID = func() int { return 0 }
	}
	if _, err := privilegedClients(o.privileged, childPID); err != nil {
		return nil, err
	}
	switch o.xwayland {
	case "auto", "on", "off":
	default:
		return nil, fmt.Errorf("--xwayland %q: want auto, on or off", o.xwayland)
	}
	if o.idle < 0 {
		return nil, fmt.Errorf("--idle-timeout %v: want a positive duration such as 10m, or 0 for never", o.idle)
	}
	if _, err := o.sceneLayout(); err != nil {
		return nil, err
	}
	return o, nil
}

// sceneLayout is --layout, or the default: a command restarted with
// --restart is a kiosk, anything else a session with several windows.
func (o *options) sceneLayout() (scene.Layout, error) {
	switch o.layout {
	case "desktop":
		return scene.LayoutDesktop, nil
	case "kiosk":
		return scene.LayoutKiosk, nil
	case "":
		if o.restart {
			return scene.LayoutKiosk, nil
		}
		return scene.LayoutDesktop, nil
	}
	return 0, fmt.Errorf("--layout %q: want desktop or kiosk", o.layout)
}

func (o *options) layoutName() string {
	if l, _ := o.sceneLayout(); l == scene.LayoutKiosk {
		return "kiosk"
	}
	return "desktop"
}

func (o *options) layoutWhy() string {
	switch {
	case o.layout != "":
		return "--layout " + o.layout
	case o.restart:
		return "--restart without --layout"
	}
	return "no --restart and no --layout"
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func run(args []string, stderr io.Writer) int {
	started := eventloop.Now()
	if len(args) > 0 && args[0] == "probe" {
		return runProbe(args[1:], os.Stdout, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "vitrine:", err)
		return 2
	}
	log, err := newLogger(opts.logLevel, opts.logFormat, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "vitrine:", err)
		return 2
	}
	status, err := serve(opts, log, started)
	if err != nil {
		if opts.logFormat == "json" {
			// Scripts read the cause from the event; people read the
			// line after it. The text format has only the line, so
			// it stays the one line a failed start prints.
			log.Error("vitrine exits", "err", err, "cause", exitCause(err), "event", "exit.error")
		}
		fmt.Fprintln(stderr, "vitrine:", err)
		return 1
	}
	return status
}

// serve runs the compositor until the command exits or a signal arrives.
func serve(opts *options, log *slog.Logger, started time.Duration) (int, error) {
	// A runtime directory given but unsafe is refused before any device
	// is opened: the refusal leaves nothing to undo.
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if err := checkRuntimeDir(dir); err != nil {
			return 0, err
		}
	}
	loop, err := eventloop.New()
	if err != nil {
		return 0, err
	}
	defer loop.Close()
	srv, err := protocol.NewServer(protocol.Options{Log: log, Loop: loop, MaxQueue: opts.maxQueue, MaxObjects: opts.maxObjects, MaxFDs: opts.maxFDs, Trace: opts.trace})
	if err != nil {
		return 0, err
	}
	// The child starts after the socket exists; until then, and between
	// restarts, no process heads its tree.
	var child *childProcess
	var childPID func() int
	if len(opts.command) > 0 {
		childPID = func() int { return child.pid() }
	}
	privileged, _ := privilegedClients(opts.privileged, childPID) // checked by parseFlags
	layout, _ := opts.sceneLayout()                               // checked by parseFlags
	log.Info("layout selected", "layout", opts.layoutName(), "why", opts.layoutWhy())
	var osk *onScreenKeyboard
	if privileged != nil && opts.osk != "" {
		// The on-screen keyboard types through the virtual keyboard: it
		// is privileged whatever the flag says, or it could not work.
		others := privileged
		privileged = func(c *protocol.Client) bool {
			return others(c) || osk.owns(c.PID)
		}
	}
	comp := scene.New(scene.Config{Log: log, Server: srv, Layout: layout, PingTimeout: opts.ping, Started: started, Privileged: privileged, MaxBuffers: opts.maxBuffers, MaxFrameCallbacks: opts.maxFrameCallbacks, IdleTimeout: opts.idle, AppOutputs: opts.appOutput, OutputScale: opts.scaleFor,
		TextInputActive: func(active bool) {
			if osk != nil {
				osk.show(active)
			}
		}})

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()

	backend, why := chooseBackend(opts)
	log.Info("backend selected", "backend", backend, "why", why, "event", "backend.selected")
	switch backend {
	case "headless":
		w, h, mhz, _ := headless.ParseMode(opts.output)
		var out *headless.Output
		out, err := headless.New(loop, headlessName, w, h, mhz, opts.transformFor(headlessName), func(info present.Info) {
			comp.PresentDone(out, info)
		})
		if err != nil {
			return 0, err
		}
		comp.AddOutput(out)
		defer out.Close()
		if err := setMainDevice(opts, comp, nil, log); err != nil {
			return 0, err
		}
		if err := configureInput(opts, comp, nil, log); err != nil {
			return 0, err
		}
	case "wayland":
		b, err := openNested(opts, log, comp, loop)
		if err != nil {
			return 0, err
		}
		defer b.Close()
	case "drm":
		b, err := openDRM(ctx, opts, log, comp, srv, loop)
		if err != nil {
			return 0, err
		}
		// Runs after the loop stopped, so no frame is in flight when the
		// previous CRTC configuration is restored.
		defer b.close()
	}

	// Made only now, so a backend that refuses to start (root on drm)
	// says so in one line, without this one's warning first.
	if err := ensureRuntimeDir(log); err != nil {
		return 0, err
	}
	if err := srv.Listen(opts.socket); err != nil {
		return 0, err
	}
	defer srv.Close()
	log.Info("listening", "WAYLAND_DISPLAY", srv.SocketName(), "event", "listening")

	if argv := strings.Fields(opts.osk); len(argv) > 0 {
		osk = newOnScreenKeyboard(argv, srv.SocketName(), loop, log)
		if err := osk.start(); err != nil {
			return 0, fmt.Errorf("--osk: %w", err)
		}
		defer osk.stop()
	}

	x, err := startXwayland(opts.xwayland, log, comp, srv)
	if err != nil {
		return 0, err
	}
	xdisplay := ""
	if x != nil {
		defer x.Close()
		xdisplay = x.Display()
	}

	status := 0
	if len(opts.command) > 0 {
		child = &childProcess{argv: opts.command, display: srv.SocketName(), xdisplay: xdisplay, restart: opts.restart, log: log, loop: loop,
			exited: func(code int) {
				comp.Post(func() {
					status = code
					comp.Stop(nil)
				})
			}}
		if err := child.start(); err != nil {
			return 0, err
		}
	}
	stopStatus := statusOnSignal(comp, srv, log)
	err = comp.Run(ctx)
	stopStatus()
	if child != nil {
		child.stop()
	}
	for _, s := range comp.Stats() {
		// The stats: line is a contract in both formats; JSON logs also
		// get it as an event.
		fmt.Fprintln(os.Stderr, s.String())
		if opts.logFormat == "json" {
			args := []any{"output", s.Output, "frames", s.Frames, "scanout", s.Scanout, "composited", s.Composited, "copied_bytes", s.CopiedBytes}
			for i, n := range s.Overlays {
				args = append(args, fmt.Sprintf("overlay%d", i), n)
			}
			log.Info("stats", append(args, "event", "stats")...)
		}
	}
	return status, err
}

// setMainDevice tells the scene which device clients should render with:
// --render-device, else kms.ChooseMainDevice's pick for display (nil on
// the headless backend).
func setMainDevice(opts *options, comp *scene.Compositor, display *kms.Device, log *slog.Logger) error {
	if opts.renderDevice != "" {
		id, err := kms.NodeID(opts.renderDevice)
		if err != nil {
			return fmt.Errorf("--render-device %s: %w", opts.renderDevice, err)
		}
		comp.SetMainDevice(id)
		log.Info("main device for clients", "path", opts.renderDevice, "why", "--render-device", "event", "dmabuf.main_device")
		return nil
	}
	infos, err := kms.ListDevices("/sys", "/dev")
	if err != nil {
		// No DRM at all (a container): nothing to name.
		log.Debug("no DRM devices for the dma-buf main device", "err", err)
		return nil
	}
	m := kms.ChooseMainDevice(display, infos)
	comp.SetMainDevice(m.ID)
	log.Info("main device for clients", "path", m.Path, "why", m.Why, "event", "dmabuf.main_device")
	return nil
}

// chooseBackend resolves --backend auto and says why.
func chooseBackend(opts *options) (string, string) {
	if opts.backend != "auto" {
		return opts.backend, "--backend " + opts.backend
	}
	if opts.drmDevice != "" {
		return "drm", "--drm-device given"
	}
	// Inside a Wayland session the display belongs to that compositor:
	// a window in it is the only way to show anything.
	if d := os.Getenv("WAYLAND_DISPLAY"); d != "" {
		path, err := nested.SocketPath(d, os.Getenv)
		if err == nil && nested.Listening(path) {
			return "wayland", "WAYLAND_DISPLAY is set (" + path + "): running as a window in that compositor; --backend drm or headless to override"
		}
		// A stale WAYLAND_DISPLAY (left in a console's environment)
		// falls through to the other backends.
	}
	cards, _ := filepathGlob("/dev/dri/card*")
	if len(cards) == 0 {
		return "headless", "no DRM display device (/dev/dri/card* is missing)"
	}
	if os.Getenv("XDG_SEAT") == "" && os.Getenv("XDG_SESSION_ID") == "" {
		return "headless", "no session with a seat (XDG_SEAT and XDG_SESSION_ID unset); start vitrine from a console login, or pass --backend drm --session direct as root"
	}
	return "drm", "found " + strings.Join(cards, ", ") + " and a seat"
}

// openNested connects to the parent compositor and adds one output per
// window.
func openNested(opts *options, log *slog.Logger, comp *scene.Compositor, loop *eventloop.Loop) (*nested.Backend, error) {
	w, h, mhz, _ := headless.ParseMode(opts.output) // checked by parseFlags
	if opts.rotate.String() != "0" {
		log.Warn("--rotate is ignored by the wayland backend: the parent compositor rotates its windows")
	}
	b, err := nested.Connect(nested.Config{
		Log: log, Loop: loop, Outputs: opts.wlOutputs, Width: w, Height: h, RefreshMilliHz: mhz,
		PresentDone: func(o *nested.Output, info present.Info) { comp.PresentDone(o, info) },
		Resized:     func(o *nested.Output) { comp.OutputResized(o) },
		Input:       comp.HandleInput,
		Closed: func(err error) {
			if err != nil {
				log.Error("wayland backend stopped", "err", err)
			}
			comp.Stop(err)
		},
	})
	if err != nil {
		return nil, err
	}
	for _, o := range b.Outputs() {
		comp.AddOutput(o)
	}
	// Without --keymap or XKB names, keys mean what they mean in the
	// parent: its keymap goes to vitrine's clients.
	var parentKeymap *xkb.Keymap
	if text := b.Keymap(); text != "" {
		if parentKeymap, err = xkb.Parse(text); err != nil {
			log.Warn("the parent compositor's keymap cannot be used; the built-in US keymap is", "err", err)
			parentKeymap = nil
		}
	}
	if err := configureInputWith(opts, comp, nil, log, parentKeymap); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// statusOnSignal logs one status line each time vitrine gets SIGUSR1:
// what a long run (vitrine-bench soak) watches for leaks that /proc does
// not show, without a debug server any client could reach. The line is
// written on the loop, so the client count is consistent with it.
func statusOnSignal(comp *scene.Compositor, srv *protocol.Server, log *slog.Logger) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			comp.Post(func() {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				log.Info("status", "goroutines", runtime.NumGoroutine(), "clients", len(srv.Clients()),
					"heap_inuse_bytes", ms.HeapInuse, "heap_objects", ms.HeapObjects, "gc_cycles", ms.NumGC)
			})
		}
	}()
	return func() {
		signal.Stop(sig)
		close(sig)
	}
}
