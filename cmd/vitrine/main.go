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
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
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
	keymap     string
	noVTSwitch bool
	noQuitKey  bool
	hideCursor bool
	xkbNames   xkb.Names
	ping       time.Duration
	idle       time.Duration
	appOutput  appOutputFlag
	privileged string
	command    []string

	// Per-client limits (README: Limits).
	maxObjects, maxFDs, maxBuffers, maxFrameCallbacks int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{
		rotate:    newOutputFlag("0", checkRotate),
		mode:      newOutputFlag("", checkMode),
		appOutput: appOutputFlag{},
	}
	fs := flag.NewFlagSet("vitrine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.backend, "backend", "auto", "output backend: auto, drm or headless")
	fs.StringVar(&o.output, "output", "1920x1080@60", "headless output mode WIDTHxHEIGHT[@HZ]")
	fs.StringVar(&o.drmDevice, "drm-device", "", "DRM device to display on (default: the first card with a connected display)")
	fs.Var(o.rotate, "rotate", "output rotation in degrees, 0, 90, 180 or 270, counter-clockwise: DEGREES for every output or NAME=DEGREES for one (repeatable; e.g. --rotate HDMI-A-1=90)")
	fs.StringVar(&o.socket, "socket", "", "Wayland socket name in $XDG_RUNTIME_DIR (default: first free wayland-N)")
	fs.BoolVar(&o.restart, "restart", false, "restart the command when it exits instead of exiting (kiosk)")
	fs.StringVar(&o.session, "session", "auto", "session manager: auto, logind, seatd or direct")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text (key=value) or json (one object a line, with stable event names: README, Logs)")
	fs.BoolVar(&o.trace, "trace-protocol", false, "log every client request (at debug level)")
	fs.Var(o.mode, "mode", "drm mode WIDTHxHEIGHT[@HZ] for every output, or NAME=WIDTHxHEIGHT[@HZ] for one (repeatable; default: each display's preferred mode)")
	fs.BoolVar(&o.legacyKMS, "legacy-kms", false, "use legacy KMS (SETCRTC, PAGE_FLIP, DIRTYFB) even where atomic works, for testing drivers")
	fs.BoolVar(&o.noPlaneRot, "no-plane-rotation", false, "with --rotate, turn the picture in the CPU copy even when the display plane could rotate it (for drivers whose plane rotation is broken)")
	fs.StringVar(&o.keymap, "keymap", "", "compiled XKB keymap file to send to clients (e.g. from xkbcli compile-keymap --layout de); default: built-in US")
	fs.BoolVar(&o.noVTSwitch, "no-vt-switch", false, "disable Ctrl+Alt+F1..F12 virtual terminal switching (kiosks)")
	fs.StringVar(&o.xkbNames.Layout, "xkb-layout", "", "keyboard layout(s), e.g. de or us,ru (default $XKB_DEFAULT_LAYOUT, else built-in US); needs xkbcli (Debian: libxkbcommon-tools)")
	fs.StringVar(&o.xkbNames.Variant, "xkb-variant", "", "layout variant, e.g. nodeadkeys (default $XKB_DEFAULT_VARIANT)")
	fs.StringVar(&o.xkbNames.Options, "xkb-options", "", "XKB options, e.g. ctrl:nocaps,grp:alt_shift_toggle (default $XKB_DEFAULT_OPTIONS)")
	fs.StringVar(&o.xkbNames.Model, "xkb-model", "", "keyboard model, e.g. pc105 (default $XKB_DEFAULT_MODEL)")
	fs.StringVar(&o.xkbNames.Rules, "xkb-rules", "", "XKB rules (default $XKB_DEFAULT_RULES, else evdev)")
	fs.BoolVar(&o.hideCursor, "hide-cursor", false, "never show a pointer cursor (touch kiosks); without it the cursor shows once a pointer has moved")
	fs.BoolVar(&o.noQuitKey, "no-quit-key", false, "disable Ctrl+Alt+Backspace (kiosks)")
	fs.Var(o.appOutput, "app-output", "APP_ID=OUTPUT: put the windows of the application with that xdg app_id on that output (repeatable; default: the first output)")
	fs.DurationVar(&o.idle, "idle-timeout", 0, "switch the displays off after this long without input (e.g. 10m), back on at the next input; a visible window with an idle inhibitor (a video playing) keeps them on; 0: never")
	fs.DurationVar(&o.ping, "ping-timeout", 5*time.Second, "how long a client may take to answer xdg_wm_base.ping before it is logged as not responding")
	fs.StringVar(&o.privileged, "privileged-clients", "all", "clients that may capture the screen and configure outputs (screencopy, wlr-output-management): all, none, or program names separated by commas, e.g. grim,wlr-randr")
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
	case "auto", "drm", "headless":
	default:
		return nil, fmt.Errorf("--backend %q: want auto, drm or headless", o.backend)
	}
	if _, _, _, err := headless.ParseMode(o.output); err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	if _, err := privilegedClients(o.privileged); err != nil {
		return nil, err
	}
	if o.idle < 0 {
		return nil, fmt.Errorf("--idle-timeout %v: want a positive duration such as 10m, or 0 for never", o.idle)
	}
	return o, nil
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
		fmt.Fprintln(stderr, "vitrine:", err)
		return 1
	}
	return status
}

// serve runs the compositor until the command exits or a signal arrives.
func serve(opts *options, log *slog.Logger, started time.Duration) (int, error) {
	loop, err := eventloop.New()
	if err != nil {
		return 0, err
	}
	defer loop.Close()
	srv, err := protocol.NewServer(protocol.Options{Log: log, Loop: loop, MaxQueue: opts.maxQueue, MaxObjects: opts.maxObjects, MaxFDs: opts.maxFDs, Trace: opts.trace})
	if err != nil {
		return 0, err
	}
	privileged, _ := privilegedClients(opts.privileged) // checked by parseFlags
	comp := scene.New(scene.Config{Log: log, Server: srv, PingTimeout: opts.ping, Started: started, Privileged: privileged, MaxBuffers: opts.maxBuffers, MaxFrameCallbacks: opts.maxFrameCallbacks, IdleTimeout: opts.idle, AppOutputs: opts.appOutput})

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
		if err := configureInput(opts, comp, nil, log); err != nil {
			return 0, err
		}
	case "drm":
		b, err := openDRM(ctx, opts, log, comp, loop)
		if err != nil {
			return 0, err
		}
		// Runs after the loop stopped, so no frame is in flight when the
		// previous CRTC configuration is restored.
		defer b.close()
	}

	if err := ensureRuntimeDir(log); err != nil {
		return 0, err
	}
	if err := srv.Listen(opts.socket); err != nil {
		return 0, err
	}
	defer srv.Close()
	log.Info("listening", "WAYLAND_DISPLAY", srv.SocketName(), "event", "listening")

	status := 0
	var child *childProcess
	if len(opts.command) > 0 {
		child = &childProcess{argv: opts.command, display: srv.SocketName(), restart: opts.restart, log: log,
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
	err = comp.Run(ctx)
	if child != nil {
		child.stop()
	}
	for _, s := range comp.Stats() {
		// The stats: line is a contract in both formats; JSON logs also
		// get it as an event.
		fmt.Fprintln(os.Stderr, s.String())
		if opts.logFormat == "json" {
			log.Info("stats", "output", s.Output, "frames", s.Frames, "scanout", s.Scanout, "composited", s.Composited, "copied_bytes", s.CopiedBytes, "event", "stats")
		}
	}
	return status, err
}

// chooseBackend resolves --backend auto and says why.
func chooseBackend(opts *options) (string, string) {
	if opts.backend != "auto" {
		return opts.backend, "--backend " + opts.backend
	}
	if opts.drmDevice != "" {
		return "drm", "--drm-device given"
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

// ensureRuntimeDir gives vitrine a private runtime directory when the
// session did not (a root shell on a fresh machine, a container), so the
// headless backend works anywhere; clients it starts inherit it.
func ensureRuntimeDir(log *slog.Logger) error {
	if os.Getenv("XDG_RUNTIME_DIR") != "" {
		return nil
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("vitrine-runtime-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("XDG_RUNTIME_DIR is not set and creating %s failed: %w", dir, err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil || st.Uid != uint32(os.Getuid()) || st.Mode&0o077 != 0 || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return fmt.Errorf("XDG_RUNTIME_DIR is not set and %s is not a private directory of this user; set XDG_RUNTIME_DIR to one (mkdir -m 700 DIR)", dir)
	}
	os.Setenv("XDG_RUNTIME_DIR", dir)
	log.Warn("XDG_RUNTIME_DIR is not set; using a private directory", "dir", dir, "hint", "export XDG_RUNTIME_DIR="+dir+" to reach vitrine from other shells")
	return nil
}
