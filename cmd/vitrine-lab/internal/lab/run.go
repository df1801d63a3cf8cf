package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/qmp"
	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// Display devices the lab can give the guest: the QEMU device and the
// kernel module that drives it.
var displayDevices = map[string]struct {
	device, module string
	// heads > 0 gives each head a VNC server through which the host
	// plugs and unplugs its monitor (heads.go, vitrine-lab guest-head).
	heads int
}{
	"virtio": {"virtio-gpu-pci", "virtio-gpu", 0},
	"bochs":  {"bochs-display", "bochs", 0},
	"cirrus": {"cirrus-vga", "cirrus", 0},
	// Virtual-1 connected at 1280x800, Virtual-2 disconnected until the
	// host plugs a monitor into head 1.
	"virtio-dual": {"virtio-gpu-pci,max_outputs=2", "virtio-gpu", 2},
}

// Sessions a run can use.
const (
	SessionNone   = "none"   // busybox initramfs, command runs as root
	SessionLogind = "logind" // disk image, command runs in the autologin user's logind session
	SessionSeatd  = "seatd"  // disk image, seatd running
	// SessionUnits boots the disk image with examples/systemd's
	// vitrine-kiosk.service enabled (as README installs it, as the
	// image's user, with the app from /etc/default/vitrine-kiosk) and
	// its seatd variant installed; the command runs as root from a
	// service of its own once the kiosk's unit has started.
	SessionUnits = "units"
)

// Config describes one boot.
type Config struct {
	Displays []string // virtio, bochs, cirrus; the first is card0
	Render   string   // "", "vgem", "vkms" (RenderVKMS) or "vkms-overlay" (RenderVKMSOverlay)
	Session  string   // SessionNone (default), SessionLogind, SessionSeatd
	// HostRoot runs the command (session none only) chrooted into the
	// host's root, shared read-only over 9p with a tmpfs overlay on top,
	// so the host's programs (foot, wvkbd, wlr-randr, GTK) run in the
	// guest with their libraries and fonts; /lab/bin comes first on PATH.
	HostRoot bool
	// UdevRules are appended to the disk image's rules (disk sessions
	// only), e.g. a touchscreen's ENV{WL_OUTPUT}.
	UdevRules string
	// Command is run by sh in the guest: one element is a shell command
	// line, several are an argv.
	Command []string
	OutDir  string // screendumps and console.log go here
	// Input is an input script (see parseInputScript) played once the
	// command has started.
	Input   string
	Timeout time.Duration
	// Output receives the command's output, each line prefixed with
	// Prefix. Console, if set, receives the serial console (kernel, init).
	Output  io.Writer
	Prefix  string
	Console io.Writer
}

// DisplayIDs returns the QEMU device ids the displays get, which
// lab-screendump's DEVICE argument names: the display name, with a
// number from the second of a kind on (virtio, virtio2).
func (c *Config) DisplayIDs() []string {
	count := map[string]int{}
	var ids []string
	for _, d := range c.Displays {
		count[d]++
		id := d
		if count[d] > 1 {
			id = d + strconv.Itoa(count[d])
		}
		ids = append(ids, id)
	}
	return ids
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	if len(c.Displays) == 0 {
		c.Displays = []string{"virtio"}
	}
	for _, d := range c.Displays {
		if _, ok := displayDevices[d]; !ok {
			return fmt.Errorf("--display %s: unknown display (want virtio, virtio-dual, bochs or cirrus)", d)
		}
	}
	if c.Render != "" && c.Render != "vgem" && c.Render != RenderVKMS && c.Render != RenderVKMSOverlay {
		return fmt.Errorf("--render %s: unknown render device (want vgem, vkms or vkms-overlay)", c.Render)
	}
	switch c.Session {
	case "":
		c.Session = SessionNone
	case SessionNone, SessionLogind, SessionSeatd, SessionUnits:
	default:
		return fmt.Errorf("--session %s: unknown session (want none, logind, seatd or units)", c.Session)
	}
	if c.HostRoot && c.Session != SessionNone {
		return fmt.Errorf("--host-root needs --session none (the disk image has its own root), not %s", c.Session)
	}
	if c.UdevRules != "" && c.Session == SessionNone {
		return errors.New("udev rules need a disk session (logind, seatd, units): the initramfs runs no udevd")
	}
	if len(c.Command) == 0 {
		return errors.New("no command to run in the guest (give it after --)")
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.OutDir == "" {
		return errors.New("no output directory")
	}
	if c.Output == nil {
		c.Output = io.Discard
	}
	return nil
}

// Result is what a finished guest command left behind.
type Result struct {
	ExitCode int
	Output   []byte // the command's output, unprefixed
	Boot     time.Duration
	Total    time.Duration
	// Screendumps are the PNG files lab-screendump wrote, in order.
	Screendumps []string
}

// Screendump loads the screendump the guest saved as name (its
// lab-screendump NAME), for Check functions that judge pixels their own
// way (screencheck.CompareImages against a reference, say).
func (r *Result) Screendump(name string) (image.Image, error) {
	for _, p := range r.Screendumps {
		if filepath.Base(p) == name+".png" {
			return screencheck.ReadPNG(p)
		}
	}
	return nil, fmt.Errorf("the guest took no screendump named %q (took %d)", name, len(r.Screendumps))
}

// TimeoutError reports a guest that did not finish in time. QEMU has been
// killed by the time it is returned.
type TimeoutError struct {
	After   time.Duration
	Started bool   // whether the command had started
	Output  string // the end of the command's output
	Console string // the end of the serial console
}

func (e *TimeoutError) Error() string {
	var b strings.Builder
	if e.Started {
		fmt.Fprintf(&b, "guest timed out after %s while the command was running; QEMU killed", e.After)
	} else {
		fmt.Fprintf(&b, "guest timed out after %s before the command started (boot hung); QEMU killed", e.After)
	}
	if e.Output != "" {
		fmt.Fprintf(&b, "\nlast output lines:\n%s", e.Output)
	}
	if e.Console != "" {
		fmt.Fprintf(&b, "\nlast console lines:\n%s", e.Console)
	}
	return b.String()
}

// Env is what every run needs, prepared once: the kernel, the base
// initramfs, the disk image (if a session needs it) and the guest
// binaries.
type Env struct {
	Log       *slog.Logger
	Cache     *Cache
	Kernel    *Kernel
	Initramfs string
	Image     string
	Bins      map[string]string // name in the guest's PATH -> host path
	// BinDir, if set, is removed by Close.
	BinDir string
	// QEMU processes, so tests can prove none is left behind.
	mu      sync.Mutex
	procs   map[int]bool
	started []int
}

// Close removes the built guest binaries.
func (e *Env) Close() error {
	if e.BinDir == "" {
		return nil
	}
	return os.RemoveAll(e.BinDir)
}

// PrepareOptions says what to prepare.
type PrepareOptions struct {
	Source string // the vitrine checkout
	BinDir string // where guest binaries are built; Env.Close removes it
	Disk   bool   // a logind or seatd session will be used
}

// Prepare downloads or builds what is missing from the cache and builds
// the guest binaries. A cmd/vitrine build failure is returned as
// ErrVitrineBuild together with a usable Env.
func Prepare(ctx context.Context, log *slog.Logger, opt PrepareOptions) (*Env, error) {
	if err := CheckTools(opt.Disk); err != nil {
		return nil, err
	}
	cache, err := OpenCache(log)
	if err != nil {
		return nil, err
	}
	env := &Env{Log: log, Cache: cache, BinDir: opt.BinDir, procs: map[int]bool{}}
	if env.Kernel, err = cache.Kernel(ctx); err != nil {
		return nil, err
	}
	if env.Initramfs, err = cache.BaseInitramfs(ctx, env.Kernel); err != nil {
		return nil, err
	}
	if opt.Disk {
		if env.Image, err = cache.DiskImage(ctx, env.Kernel); err != nil {
			return nil, err
		}
	}
	rep, buildErr := BuildGuest(ctx, log, opt.Source, opt.BinDir)
	if rep == nil {
		return nil, buildErr
	}
	env.Bins = rep.Built
	// The example units travel with the binaries, for SessionUnits.
	units, _ := filepath.Glob(filepath.Join(opt.Source, "examples", "systemd", "*"))
	for _, u := range units {
		env.Bins[filepath.Base(u)] = u
	}
	return env, buildErr
}

// Run boots the guest, runs cfg.Command and returns its exit status.
// QEMU is killed on every path out of Run.
func (e *Env) Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Session != SessionNone && e.Image == "" {
		return nil, fmt.Errorf("session %s needs the disk image, which was not prepared", cfg.Session)
	}
	if err := e.prepareRender(ctx, cfg.Render); err != nil {
		return nil, err
	}
	var steps []inputStep
	if cfg.Input != "" {
		var err error
		if steps, err = parseInputScript(cfg.Input); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	// Socket paths must stay under 108 bytes, so not in OutDir.
	tmp, err := os.MkdirTemp("", "vlab-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	// A marker the command cannot print by accident ends its output.
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("end marker: %w", err)
	}
	eof := "vitrine-lab-end-of-output-" + hex.EncodeToString(nonce)
	initrd, err := e.initrd(tmp, &cfg, eof)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		res, err := e.boot(ctx, tmp, initrd, &cfg, steps, eof)
		var be *bootError
		if !errors.As(err, &be) || attempt == bootAttempts {
			return res, err
		}
		// The command never ran, so booting again cannot run it twice.
		failed := filepath.Join(cfg.OutDir, fmt.Sprintf("console-failed-boot-%d.log", attempt))
		os.Rename(filepath.Join(cfg.OutDir, "console.log"), failed)
		e.Log.Warn("the guest kernel died while booting; booting again", "attempt", attempt, "console", failed)
	}
}

// bootAttempts bounds boots of one run. Under TCG on a loaded host the
// guest kernel occasionally dies before userspace (seen: "IO-APIC + timer
// doesn't work", an int3 oops while patching kernel text with two
// vCPUs), which says nothing about what the run tests.
const bootAttempts = 3

// bootError is a guest that died before the command started.
type bootError struct{ err error }

func (e *bootError) Error() string { return e.err.Error() }
func (e *bootError) Unwrap() error { return e.err }

func (e *Env) boot(ctx context.Context, tmp, initrd string, cfg *Config, steps []inputStep, eof string) (*Result, error) {
	m, err := e.start(ctx, tmp, initrd, cfg)
	if err != nil {
		return nil, err
	}
	defer m.kill()
	return m.wait(ctx, cfg, steps, eof)
}

// initrd writes base + per-run archive to one file for -initrd.
func (e *Env) initrd(tmp string, cfg *Config, eof string) (string, error) {
	var modules []string
	for _, d := range cfg.Displays {
		modules = append(modules, displayDevices[d].module)
	}
	var params []string
	if cfg.Render != "" {
		m, ps := renderModule(cfg.Render)
		modules = append(modules, m)
		for _, p := range ps {
			params = append(params, m+":"+p)
		}
	}
	modules = append(modules, "virtio_input", "evdev", "uinput")
	if cfg.Session != SessionNone {
		modules = append(modules, "virtio_blk", "ext4")
	}
	order, err := moduleLoadOrder(e.Kernel, modules)
	if err != nil {
		return "", err
	}
	files := &runFiles{command: commandScript(cfg.Command), bins: e.Bins}
	hostRoot := ""
	if cfg.HostRoot {
		hostRoot = "1"
		if order, files.modules, err = hostRootModules(context.Background(), e.Kernel, order); err != nil {
			return "", err
		}
	}
	files.config = fmt.Sprintf("LAB_SESSION=%s\nLAB_DISPLAYS=%s\nLAB_RENDER=%s\nLAB_MODULES=%s\nLAB_PARAMS=%s\nLAB_EOF=%s\nLAB_HOSTROOT=%s\nLAB_UDEV_RULES=%s\n",
		shellQuote(cfg.Session), shellQuote(strings.Join(cfg.DisplayIDs(), " ")),
		shellQuote(cfg.Render), shellQuote(strings.Join(order, " ")), shellQuote(strings.Join(params, " ")), shellQuote(eof), hostRoot, shellQuote(cfg.UdevRules))
	over, err := overlay(files)
	if err != nil {
		return "", err
	}
	base, err := os.ReadFile(e.Initramfs)
	if err != nil {
		return "", fmt.Errorf("read base initramfs: %w", err)
	}
	path := filepath.Join(tmp, "initrd")
	if err := os.WriteFile(path, append(base, over...), 0o644); err != nil {
		return "", fmt.Errorf("write initrd: %w", err)
	}
	return path, nil
}

// commandScript turns the user's command into the guest's /lab/command.
func commandScript(argv []string) string {
	if len(argv) == 1 {
		return argv[0] + "\n"
	}
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ") + "\n"
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// machine is one running QEMU and the host ends of its channels.
type machine struct {
	env     *Env
	cmd     *exec.Cmd
	exited  chan struct{} // closed when QEMU has exited
	waitErr error
	stderr  bytes.Buffer
	qmp     *qmp.Client
	conns   map[string]net.Conn
	tmp     string // the run's temporary directory (sockets)
	console *tailBuffer
	conLog  *os.File
	start   time.Time
	// readers are the goroutines reading QEMU's channels; kill waits for
	// them so nothing is written to the caller's writers after Run.
	readers  sync.WaitGroup
	done     chan struct{}
	killOnce sync.Once
}

// channels are the QEMU chardevs the lab connects to. QEMU connects to
// sockets the host listens on, so there is no polling for QEMU's.
var channels = []string{"qmp", "console", "ctl", "out", "status"}

func (e *Env) start(ctx context.Context, tmp, initrd string, cfg *Config) (*machine, error) {
	listeners := map[string]*net.UnixListener{}
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for _, ch := range channels {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(tmp, ch+".sock"), Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("listen for qemu %s: %w", ch, err)
		}
		listeners[ch] = l
	}
	sock := func(ch string) string { return filepath.Join(tmp, ch+".sock") }
	args := []string{
		"-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "1024",
		"-nodefaults", "-no-reboot", "-display", "none",
		"-kernel", e.Kernel.Vmlinuz(), "-initrd", initrd,
		// no_timer_check: a slow TCG guest can fail the IO-APIC timer
		// check and panic.
		"-append", "console=ttyS0 quiet panic=-1 no_timer_check systemd.show_status=false",
		"-chardev", "socket,id=qmp,path=" + sock("qmp"),
		"-mon", "chardev=qmp,mode=control",
		"-chardev", "socket,id=console,path=" + sock("console"),
		"-serial", "chardev:console",
		"-device", "virtio-serial-pci,id=vser",
	}
	for _, p := range []string{"ctl", "out", "status"} {
		args = append(args, "-chardev", "socket,id="+p+",path="+sock(p),
			"-device", "virtserialport,chardev="+p+",name=lab."+p)
	}
	ids := cfg.DisplayIDs()
	for i, d := range cfg.Displays {
		args = append(args, "-device", displayDevices[d].device+",id="+ids[i])
	}
	args = append(args, "-device", "virtio-keyboard-pci", "-device", "virtio-tablet-pci")
	args = append(args, headArgs(tmp, cfg)...)
	if cfg.Session != SessionNone {
		args = append(args, "-drive", "file="+e.Image+",if=virtio,format=raw,snapshot=on")
	}
	if cfg.HostRoot {
		args = append(args, "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
	}

	m := &machine{env: e, tmp: tmp, exited: make(chan struct{}), done: make(chan struct{}), conns: map[string]net.Conn{}, console: &tailBuffer{max: 64 << 10}, start: time.Now()}
	var err error
	if m.conLog, err = os.Create(filepath.Join(cfg.OutDir, "console.log")); err != nil {
		return nil, fmt.Errorf("console log: %w", err)
	}
	m.cmd = exec.Command("qemu-system-x86_64", args...)
	m.cmd.Stdout = &m.stderr
	m.cmd.Stderr = &m.stderr
	// Its own process group, so kill takes QEMU and anything it spawned;
	// Pdeathsig covers the lab itself being killed outright.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		m.conLog.Close()
		return nil, fmt.Errorf("start qemu-system-x86_64: %w", err)
	}
	e.track(m.cmd.Process.Pid, true)
	go func() {
		m.waitErr = m.cmd.Wait()
		e.track(m.cmd.Process.Pid, false)
		close(m.exited)
	}()

	type accepted struct {
		ch   string
		conn net.Conn
		err  error
	}
	results := make(chan accepted, len(channels))
	for ch, l := range listeners {
		go func() {
			c, err := l.Accept()
			results <- accepted{ch, c, err}
		}()
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for range channels {
		select {
		case a := <-results:
			if a.err != nil {
				m.kill()
				return nil, fmt.Errorf("qemu %s channel: %w", a.ch, a.err)
			}
			m.conns[a.ch] = a.conn
		case <-m.exited:
			m.kill()
			return nil, fmt.Errorf("qemu-system-x86_64 exited at start: %v: %s", m.waitErr, strings.TrimSpace(m.stderr.String()))
		case <-deadline.C:
			m.kill()
			return nil, errors.New("qemu-system-x86_64 did not connect its channels within 30s")
		case <-ctx.Done():
			m.kill()
			return nil, ctx.Err()
		}
	}
	if m.qmp, err = qmp.New(m.conns["qmp"]); err != nil {
		m.kill()
		return nil, err
	}
	m.goRead(func() { m.copyConsole(cfg.Console) })
	return m, nil
}

// track records running QEMU processes so tests can check none is left.
func (e *Env) track(pid int, running bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if running {
		e.procs[pid] = true
		e.started = append(e.started, pid)
	} else {
		delete(e.procs, pid)
	}
}

// Started returns the process ids of every QEMU this Env started.
func (e *Env) Started() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.started...)
}

// Running returns how many QEMU processes this Env started are still
// running.
func (e *Env) Running() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.procs)
}

// kill ends QEMU's process group, waits for QEMU to be reaped and for
// the channel readers to stop. It is safe to call more than once.
func (m *machine) kill() {
	m.killOnce.Do(func() {
		select {
		case <-m.exited:
		default:
			syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.exited
		}
		close(m.done)
		for _, c := range m.conns {
			c.Close()
		}
		m.readers.Wait()
		if m.conLog != nil {
			m.conLog.Close()
		}
	})
}

func (m *machine) goRead(f func()) {
	m.readers.Add(1)
	go func() {
		defer m.readers.Done()
		f()
	}()
}

func (m *machine) copyConsole(echo io.Writer) {
	w := io.MultiWriter(m.console, m.conLog)
	if echo != nil {
		w = io.MultiWriter(w, echo)
	}
	io.Copy(w, m.conns["console"])
}

// wait serves the guest until the command's exit status arrives, QEMU
// exits, the timeout passes or ctx is cancelled.
func (m *machine) wait(ctx context.Context, cfg *Config, steps []inputStep, eof string) (*Result, error) {
	res := &Result{ExitCode: -1}
	// The readers keep running until QEMU is killed, after wait has
	// returned, so they fill local buffers that res gets copies of.
	var outMu sync.Mutex
	var output []byte
	outEnded := make(chan struct{})
	m.goRead(func() {
		ended := readOutput(m.conns["out"], eof, func(line []byte) {
			outMu.Lock()
			defer outMu.Unlock()
			output = append(output, line...)
			text := string(line)
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
			fmt.Fprint(cfg.Output, cfg.Prefix+text)
		})
		if ended {
			close(outEnded)
		}
	})

	status := make(chan string, 4)
	m.goRead(func() {
		defer close(status)
		sc := bufio.NewScanner(m.conns["status"])
		for sc.Scan() {
			select {
			case status <- strings.TrimSpace(sc.Text()):
			case <-m.done:
				return
			}
		}
	})

	var shotsMu sync.Mutex
	var shots []string
	m.goRead(func() {
		m.serveControl(cfg, func(p string) {
			shotsMu.Lock()
			shots = append(shots, p)
			shotsMu.Unlock()
		})
	})

	timer := time.NewTimer(cfg.Timeout)
	defer timer.Stop()
	started := false
	inputDone := make(chan error, 1)
	for {
		select {
		case s, ok := <-status:
			if !ok {
				status = nil
				continue
			}
			switch {
			case s == "start":
				started = true
				res.Boot = time.Since(m.start)
				if len(steps) > 0 {
					go func() { inputDone <- m.play(steps) }()
				}
			case strings.HasPrefix(s, "exit "):
				code, err := strconv.Atoi(strings.TrimPrefix(s, "exit "))
				if err != nil {
					return nil, fmt.Errorf("guest sent a bad exit status %q", s)
				}
				res.ExitCode = code
				res.Total = time.Since(m.start)
				select {
				case <-outEnded:
				case <-time.After(5 * time.Second):
					m.env.Log.Warn("the guest's output did not end with the run's marker; it may be cut short")
				}
				outMu.Lock()
				res.Output = append([]byte(nil), output...)
				outMu.Unlock()
				shotsMu.Lock()
				res.Screendumps = append([]string(nil), shots...)
				shotsMu.Unlock()
				return res, nil
			}
		case err := <-inputDone:
			if err != nil {
				return nil, fmt.Errorf("--input: %w", err)
			}
		case <-m.exited:
			how := "the guest powered off or its kernel panicked"
			if m.waitErr != nil {
				how = m.waitErr.Error()
			}
			err := fmt.Errorf("QEMU exited before the guest command finished (%s)%s; last console lines:\n%s",
				how, stderrNote(&m.stderr), tail(m.console.String(), 25))
			if !started {
				return nil, &bootError{err}
			}
			return nil, err
		case <-timer.C:
			m.kill()
			outMu.Lock()
			out := strings.TrimRight(tail(string(output), 10), "\n")
			outMu.Unlock()
			return nil, &TimeoutError{After: cfg.Timeout, Started: started, Output: out,
				Console: strings.TrimRight(tail(m.console.String(), 25), "\n")}
		case <-ctx.Done():
			return nil, fmt.Errorf("guest run cancelled: %w", ctx.Err())
		}
	}
}

func stderrNote(b *bytes.Buffer) string {
	if s := strings.TrimSpace(b.String()); s != "" {
		return ": " + tail(s, 5)
	}
	return ""
}

// play sends an input script's events through QMP.
func (m *machine) play(steps []inputStep) error {
	for _, s := range steps {
		if s.pause > 0 {
			time.Sleep(s.pause)
			continue
		}
		if err := m.qmp.SendInput(s.events); err != nil {
			return err
		}
	}
	return nil
}

// controlRequest is one line from lab-screendump or lab-input.
type controlRequest struct {
	Op     string `json:"op"` // "screendump", "input" or "head"
	Name   string `json:"name,omitempty"`
	Device string `json:"device,omitempty"` // ID or ID:HEAD
	Script string `json:"script,omitempty"`
	Size   string `json:"size,omitempty"` // "head": WxH or off
}

type controlReply struct {
	OK    bool   `json:"ok"`
	Path  string `json:"path,omitempty"`
	Error string `json:"error,omitempty"`
}

func (m *machine) serveControl(cfg *Config, shot func(string)) {
	conn := m.conns["ctl"]
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		var req controlRequest
		var reply controlReply
		if err := json.Unmarshal(line, &req); err != nil {
			reply.Error = fmt.Sprintf("bad request %q: %v", line, err)
		} else if p, err := m.handle(cfg, &req); err != nil {
			reply.Error = err.Error()
		} else {
			reply.OK, reply.Path = true, p
			if req.Op == "screendump" {
				shot(p)
			}
		}
		b, _ := json.Marshal(reply)
		if _, err := conn.Write(append(b, '\n')); err != nil {
			return
		}
	}
}

func (m *machine) handle(cfg *Config, req *controlRequest) (string, error) {
	switch req.Op {
	case "screendump":
		name := strings.TrimSuffix(req.Name, ".png")
		if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			return "", fmt.Errorf("screendump name %q: want a plain file name", req.Name)
		}
		dev, head, err := parseHeadTarget(cfg, req.Device)
		if err != nil {
			return "", fmt.Errorf("screendump device: %w", err)
		}
		ppm := filepath.Join(cfg.OutDir, "."+name+".ppm")
		defer os.Remove(ppm)
		if head > 0 {
			err = m.qmp.ScreendumpHead(dev, head, ppm)
		} else {
			err = m.qmp.Screendump(dev, ppm)
		}
		if err != nil {
			return "", err
		}
		png := filepath.Join(cfg.OutDir, name+".png")
		if _, err := screencheck.PPMToPNG(ppm, png); err != nil {
			return "", err
		}
		m.env.Log.Debug("screendump saved", "device", dev, "path", png)
		return png, nil
	case "input":
		steps, err := parseInputScript(req.Script)
		if err != nil {
			return "", err
		}
		return "", m.play(steps)
	case "head":
		dev, head, err := parseHeadTarget(cfg, req.Device)
		if err != nil {
			return "", err
		}
		w, h, err := parseHeadSize(req.Size)
		if err != nil {
			return "", err
		}
		for i, id := range cfg.DisplayIDs() {
			if id == dev && displayDevices[cfg.Displays[i]].heads == 0 {
				return "", fmt.Errorf("display %s cannot have its monitor plugged or unplugged (use virtio-dual)", dev)
			}
		}
		return "", setHeadSize(headSocket(m.tmp, dev, head), w, h, 10*time.Second)
	}
	return "", fmt.Errorf("unknown request %q", req.Op)
}

// readOutput passes each line of r to emit until the end marker eof,
// and reports whether the marker came. Output without a final newline
// shares its line with the marker and is passed on without it.
func readOutput(r io.Reader, eof string, emit func([]byte)) bool {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		before, ended := strings.CutSuffix(string(line), eof+"\n")
		if ended {
			line = []byte(before)
		}
		if len(line) > 0 {
			emit(line)
		}
		if ended {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
