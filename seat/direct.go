package seat

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Direct opens devices itself, relying on root or on the user's device
// groups (video, input). It has no VT handling: it is always active and
// cannot switch VTs, which suits tests and single-purpose appliances. It
// never delivers an event.
type Direct struct {
	log *slog.Logger
	vt  *consoleVT // nil unless started on a VT

	mu     sync.Mutex
	files  map[*os.File]string
	closed bool
}

// OpenDirect returns a direct session. Whether devices can be opened is
// only known when they are opened, and that error names the group to
// join. If started on a text console (the controlling terminal is a VT),
// the VT is put in graphics mode with its keyboard off until Close, unless
// opt.DirectKeepConsole is set.
func OpenDirect(opt Options) (*Direct, error) {
	d := &Direct{
		log:   opt.logger(),
		files: make(map[*os.File]string),
	}
	if !opt.DirectKeepConsole {
		vt, err := takeConsoleVT()
		if err != nil {
			return nil, fmt.Errorf("direct session: %w", err)
		}
		if vt != nil {
			d.log.Info("session: console VT switched to graphics mode, keyboard off")
			d.vt = vt
		}
	}
	return d, nil
}

func (d *Direct) Kind() string     { return KindDirect }
func (d *Direct) SeatName() string { return "seat0" }
func (d *Direct) Active() bool     { return true }

// OpenDevice opens path read-write, non-blocking and close-on-exec.
func (d *Direct) OpenDevice(path string) (*os.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("open %s: session closed", path)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, explainOpenError(path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	d.files[f] = path
	return f, nil
}

func (d *Direct) CloseDevice(f *os.File) error {
	d.mu.Lock()
	_, ok := d.files[f]
	delete(d.files, f)
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("close device: %v was not opened by this session", f.Name())
	}
	return f.Close()
}

// SwitchVT is not supported: without a session manager nobody would pause
// vitrine while another VT owns the display.
func (d *Direct) SwitchVT(vt int) error {
	return errors.New("switch VT: not possible with --session direct; use --session logind or seatd")
}

func (d *Direct) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	files := d.files
	d.files = nil
	d.mu.Unlock()
	var errs []error
	for f := range files {
		errs = append(errs, f.Close())
	}
	if d.vt != nil {
		errs = append(errs, d.vt.restore())
	}
	return errors.Join(errs...)
}
