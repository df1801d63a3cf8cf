package xwayland

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// socketDir is where X clients look for display sockets.
const socketDir = "/tmp/.X11-unix"

// maxDisplay bounds the search for a free display number.
const maxDisplay = 64

// display is an X display number vitrine holds: its lock file and the two
// listening sockets X clients connect to (the file in /tmp/.X11-unix and
// Linux's abstract socket of the same name, which libxcb tries first).
type display struct {
	number   int
	lockPath string
	sockPath string
	// fds are the listening sockets, handed to each Xwayland with
	// -listenfd; vitrine keeps them open so clients can connect while no
	// Xwayland runs.
	fds []int
}

// Name is the DISPLAY value, ":N".
func (d *display) Name() string { return ":" + strconv.Itoa(d.number) }

// openDisplay takes the first free display number from first on.
func openDisplay(first int) (*display, error) {
	if _, err := os.Lstat(socketDir); errors.Is(err, os.ErrNotExist) {
		// Every user's X servers put sockets there: world-writable and
		// sticky, whatever the umask, as X servers make it.
		if err := os.Mkdir(socketDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create %s: %w", socketDir, err)
		} else if err == nil {
			if err := os.Chmod(socketDir, 0o777|os.ModeSticky); err != nil {
				return nil, fmt.Errorf("chmod %s: %w", socketDir, err)
			}
		}
	}
	var errs []error
	for n := first; n < first+maxDisplay; n++ {
		d, err := tryDisplay(n)
		if err == nil {
			return d, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("no free X display from :%d to :%d: %w", first, first+maxDisplay-1, errors.Join(errs[len(errs)-1]))
}

func tryDisplay(n int) (*display, error) {
	d := &display{number: n, lockPath: fmt.Sprintf("/tmp/.X%d-lock", n), sockPath: filepath.Join(socketDir, fmt.Sprintf("X%d", n))}
	if err := takeLock(d.lockPath); err != nil {
		return nil, err
	}
	abstract, err := listen("@" + d.sockPath)
	if err != nil {
		os.Remove(d.lockPath)
		return nil, fmt.Errorf("display :%d: abstract socket: %w", n, err)
	}
	// The lock is ours, so a socket file left there is a dead server's.
	if err := os.Remove(d.sockPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		unix.Close(abstract)
		os.Remove(d.lockPath)
		return nil, fmt.Errorf("display :%d: remove stale %s: %w", n, d.sockPath, err)
	}
	file, err := listen(d.sockPath)
	if err != nil {
		unix.Close(abstract)
		os.Remove(d.lockPath)
		return nil, fmt.Errorf("display :%d: %w", n, err)
	}
	d.fds = []int{file, abstract}
	return d, nil
}

// takeLock creates the X lock file the way X servers do (the pid,
// right-aligned in 10 columns), with O_EXCL so two servers never both
// win; a lock whose pid is gone is removed and taken.
func takeLock(path string) error {
	for range 2 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o444)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%10d\n", os.Getpid())
			cerr := f.Close()
			if err := errors.Join(werr, cerr); err != nil {
				os.Remove(path)
				return fmt.Errorf("write %s: %w", path, err)
			}
			return nil
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create %s: %w", path, err)
		}
		pid, err := lockOwner(path)
		if err != nil {
			return err
		}
		if pid > 0 && (unix.Kill(pid, 0) == nil || errors.Is(unix.Kill(pid, 0), unix.EPERM)) {
			return fmt.Errorf("%s is held by running pid %d", path, pid)
		}
		// Stale: its server died without cleaning up.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", path, err)
		}
	}
	return fmt.Errorf("%s: another server took it meanwhile", path)
}

// lockOwner reads the pid in a lock file; 0 when it holds none (a server
// that crashed between creating and writing it).
func lockOwner(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return 0, nil
		}
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	buf := make([]byte, 32)
	n, _ := unix.Read(fd, buf)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:max(n, 0)])))
	if err != nil {
		return 0, nil
	}
	return pid, nil
}

func listen(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind %s: %w", path, err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listen %s: %w", path, err)
	}
	return fd, nil
}

// close removes the socket and lock file.
func (d *display) close() {
	for _, fd := range d.fds {
		unix.Close(fd)
	}
	d.fds = nil
	os.Remove(d.sockPath)
	os.Remove(d.lockPath)
}
