// Command vitrine-lab boots a Linux kernel in QEMU with real DRM drivers
// (virtio-gpu, bochs, cirrus, vgem, vkms) to run vitrine and its examples
// against them, and runs the project's scenario matrix.
//
//	vitrine-lab run [flags] -- COMMAND   run COMMAND in a guest
//	vitrine-lab check [--run PATTERN]    run the scenario matrix
//	vitrine-lab install                  apt-get install the host tools
//
// Inside the guest the same binary answers to lab-screendump,
// lab-input and lab-touch.
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
	"strings"
	"syscall"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/lab"
)

// Exit statuses of the lab itself, chosen like timeout(1) and env(1) so
// they are told apart from the guest command's own statuses.
const (
	exitLabError = 125
	exitTimeout  = 124
	// exitInterrupted is the shell's status for a command ended by SIGINT.
	exitInterrupted = 130
)

func main() {
	os.Exit(dispatch(os.Args, os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	switch filepath.Base(args[0]) {
	case "lab-screendump":
		return guestScreendump(args[1:], stdout, stderr)
	case "lab-input":
		return guestInput(args[1:], stderr)
	case "lab-touch":
		return guestTouch(args[1:], stdout, stderr)
	}
	rest := args[1:]
	install := false
	if len(rest) > 0 && (rest[0] == "--install" || rest[0] == "-install") {
		install, rest = true, rest[1:]
	}
	if len(rest) == 0 {
		if install {
			rest = []string{"install"}
		} else {
			fmt.Fprint(stderr, usage)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if install && rest[0] != "install" {
		if err := lab.Install(ctx); err != nil {
			fmt.Fprintln(stderr, "vitrine-lab:", err)
			return exitLabError
		}
	}
	switch rest[0] {
	case "run":
		return runCmd(ctx, rest[1:], stdout, stderr)
	case "check":
		return checkCmd(ctx, rest[1:], stdout, stderr)
	case "install":
		if err := lab.Install(ctx); err != nil {
			fmt.Fprintln(stderr, "vitrine-lab:", err)
			return exitLabError
		}
		return 0
	case "guest-screendump":
		return guestScreendump(rest[1:], stdout, stderr)
	case "guest-input":
		return guestInput(rest[1:], stderr)
	case "guest-touch":
		return guestTouch(rest[1:], stdout, stderr)
	case "guest-drm":
		if err := lab.PrintDRMDevices(stdout); err != nil {
			fmt.Fprintln(stderr, "vitrine-lab guest-drm:", err)
			return 1
		}
		return 0
	case "guest-fbfill":
		if len(rest) != 3 {
			fmt.Fprintln(stderr, "usage: vitrine-lab guest-fbfill FB RRGGBB   (FB: /dev/fb1, fb1 or part of its name, e.g. bochs)")
			return 2
		}
		c, err := lab.ParseColor(rest[2])
		if err == nil {
			var fb *lab.Framebuffer
			if fb, err = lab.FindFramebuffer(rest[1]); err == nil {
				err = fb.Fill(c)
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "vitrine-lab guest-fbfill:", err)
			return 1
		}
		return 0
	case "guest-head":
		if len(rest) != 3 {
			fmt.Fprintln(stderr, "usage: vitrine-lab guest-head DEVICE:HEAD WxH|off   (e.g. virtio-dual:1 1024x768)")
			return 2
		}
		if err := lab.GuestHead(rest[1], rest[2]); err != nil {
			fmt.Fprintln(stderr, "vitrine-lab guest-head:", err)
			return 1
		}
		return 0
	case "guest-seatd-probe":
		dev := "/dev/dri/card0"
		if len(rest) > 1 {
			dev = rest[1]
		}
		seat, driver, err := lab.ProbeSeatd("/run/seatd.sock", dev)
		if err != nil {
			fmt.Fprintln(stderr, "vitrine-lab guest-seatd-probe:", err)
			return 1
		}
		fmt.Fprintf(stdout, "seat=%s device=%s driver=%s\n", seat, dev, driver)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "vitrine-lab: unknown command %q\n%s", rest[0], usage)
	return 2
}

const usage = `usage:
  vitrine-lab [--install] run [--display virtio|virtio-dual|bochs|cirrus[,more]] [--render vgem|vkms]
              [--session none|logind|seatd] [--host-root] [--out DIR] [--input FILE] [--timeout D] -- COMMAND
  vitrine-lab [--install] check [--run PATTERN] [--out DIR] [--list]
  vitrine-lab install          apt-get install the Debian packages the lab needs
in the guest:
  lab-screendump NAME [DEVICE[:HEAD]] save the display (one head of it) as NAME.png in the run's --out directory
  lab-input [FILE]             play an input script (stdin without FILE)
  lab-touch [FILE]             play a touch script on a uinput multi-touch screen (also: vitrine-lab guest-touch)
  vitrine-lab guest-drm        list /dev/dri nodes with their kernel driver
  vitrine-lab guest-seatd-probe [DEVICE]  open the seat and DEVICE through seatd
  vitrine-lab guest-head DEVICE:HEAD WxH|off  plug a monitor into a head of a virtio-dual display, or unplug it
  vitrine-lab guest-fbfill FB RRGGBB      paint a framebuffer (fbdev emulation) one colour
`

func newLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	display := fs.String("display", "virtio", "display devices, comma-separated: virtio, virtio-dual (two heads), bochs, cirrus (the first is card0)")
	render := fs.String("render", "", "a second, non-QEMU DRM device: vgem (render-only) or vkms (virtual KMS with plane rotation and CRCs, built out of tree on first use)")
	session := fs.String("session", lab.SessionNone, "none (busybox initramfs, root), logind or seatd (disk image, autologin user), units (disk image booting examples/systemd/vitrine-kiosk.service)")
	hostRoot := fs.Bool("host-root", false, "run the command chrooted into the host's root (read-only over 9p, a tmpfs on top), so host programs such as foot, wvkbd or wlr-randr run in the guest; session none only")
	out := fs.String("out", "", "directory for screendumps and the console log (default out/lab in the checkout)")
	input := fs.String("input", "", "input script to play once the command has started")
	timeout := fs.Duration("timeout", 5*time.Minute, "kill the guest after this long")
	console := fs.Bool("console", false, "also stream the guest's serial console (kernel and init messages)")
	src := fs.String("src", "", "vitrine checkout to build (default: the one containing the working directory)")
	verbose := fs.Bool("v", false, "debug logging")
	requireVitrine := fs.Bool("require-vitrine", true, "fail when cmd/vitrine does not build (false: run without it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "vitrine-lab run: no command; usage: vitrine-lab run [flags] -- COMMAND")
		return 2
	}
	log := newLogger(stderr, *verbose)
	cfg := lab.Config{
		Displays: splitList(*display),
		Render:   *render,
		Session:  *session,
		HostRoot: *hostRoot,
		Command:  fs.Args(),
		OutDir:   *out,
		Timeout:  *timeout,
		Output:   stdout,
		Prefix:   "guest| ",
	}
	if *console {
		cfg.Console = &prefixWriter{w: stderr, prefix: "console| "}
	}
	if *input != "" {
		b, err := os.ReadFile(*input)
		if err != nil {
			fmt.Fprintln(stderr, "vitrine-lab run: --input:", err)
			return 2
		}
		cfg.Input = string(b)
	}
	root, err := moduleRoot(*src)
	if err != nil {
		fmt.Fprintln(stderr, "vitrine-lab:", err)
		return exitLabError
	}
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join(root, "out", "lab")
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "vitrine-lab run:", err)
		return 2
	}
	env, code := prepare(ctx, log, stderr, root, cfg.Session != lab.SessionNone, *requireVitrine)
	if env == nil {
		return code
	}
	defer env.Close()
	res, err := env.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "vitrine-lab run:", err)
		var te *lab.TimeoutError
		switch {
		case errors.As(err, &te):
			return exitTimeout
		case ctx.Err() != nil:
			return exitInterrupted
		}
		return exitLabError
	}
	log.Info("guest command finished", "exit", res.ExitCode, "boot", res.Boot.Round(100*time.Millisecond),
		"total", res.Total.Round(100*time.Millisecond), "out", cfg.OutDir)
	return res.ExitCode
}

// moduleRoot finds the vitrine checkout: src, or the one holding the
// working directory.
func moduleRoot(src string) (string, error) {
	if src == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("working directory: %w", err)
		}
		src = wd
	}
	return lab.FindModuleRoot(src)
}

// prepare builds or fetches what runs need. With strictVitrine, a
// cmd/vitrine that does not build stops here; otherwise it is a warning.
func prepare(ctx context.Context, log *slog.Logger, stderr io.Writer, root string, disk, strictVitrine bool) (*lab.Env, int) {
	binDir, err := os.MkdirTemp("", "vitrine-lab-bin-")
	if err != nil {
		fmt.Fprintln(stderr, "vitrine-lab:", err)
		return nil, exitLabError
	}
	env, err := lab.Prepare(ctx, log, lab.PrepareOptions{Source: root, BinDir: binDir, Disk: disk})
	if env == nil {
		os.RemoveAll(binDir)
	}
	if err != nil {
		if errors.Is(err, lab.ErrVitrineBuild) && env != nil {
			if strictVitrine {
				fmt.Fprintln(stderr, "vitrine-lab: cmd/vitrine does not build, so it cannot be put in the guest:", strings.TrimPrefix(err.Error(), lab.ErrVitrineBuild.Error()+": "))
				env.Close()
				return nil, exitLabError
			}
			log.Warn("cmd/vitrine does not build; scenarios that need it will fail", "err", err)
			return env, 0
		}
		fmt.Fprintln(stderr, "vitrine-lab:", err)
		return nil, exitLabError
	}
	return env, 0
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// prefixWriter prefixes each line written through it.
type prefixWriter struct {
	w       io.Writer
	prefix  string
	midLine bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if !p.midLine {
			out = append(out, p.prefix...)
			p.midLine = true
		}
		if c == '\r' {
			continue
		}
		out = append(out, c)
		if c == '\n' {
			p.midLine = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func guestScreendump(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || len(args) > 2 {
		fmt.Fprintln(stderr, "usage: lab-screendump NAME [DEVICE[:HEAD]]   (DEVICE: virtio, bochs, cirrus...; default the first display)")
		return 2
	}
	dev := ""
	if len(args) == 2 {
		dev = args[1]
	}
	path, err := lab.GuestScreendump(args[0], dev)
	if err != nil {
		fmt.Fprintln(stderr, "lab-screendump:", err)
		return 1
	}
	fmt.Fprintln(stdout, path)
	return 0
}

func guestInput(args []string, stderr io.Writer) int {
	var script []byte
	var err error
	switch len(args) {
	case 0:
		script, err = io.ReadAll(os.Stdin)
	case 1:
		script, err = os.ReadFile(args[0])
	default:
		fmt.Fprintln(stderr, "usage: lab-input [FILE]   (script on stdin without FILE)")
		return 2
	}
	if err == nil {
		err = lab.GuestInput(string(script))
	}
	if err != nil {
		fmt.Fprintln(stderr, "lab-input:", err)
		return 1
	}
	return 0
}

func guestTouch(args []string, stdout, stderr io.Writer) int {
	var script []byte
	var err error
	switch len(args) {
	case 0:
		script, err = io.ReadAll(os.Stdin)
	case 1:
		script, err = os.ReadFile(args[0])
	default:
		fmt.Fprintln(stderr, "usage: lab-touch [FILE]   (touch script on stdin without FILE: down F X Y, move F X Y, up F, A; B in one frame, sleep MS, wait-open NAME [MS], hold [MS]; X, Y 0..4095)")
		return 2
	}
	if err == nil {
		err = lab.GuestTouch(string(script), stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "lab-touch:", err)
		return 1
	}
	return 0
}
