package seat

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// explainOpenError turns a failed open of a device node into one line that
// names the device and the fix.
func explainOpenError(path string, err error) error {
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("open %s: %w: %s", path, ErrPermission, groupHint(path))
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("open %s: %w: another compositor or display server holds it; stop it or use its VT", path, ErrDeviceBusy)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("open %s: no such device", path)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// groupHint names the group that owns path and how to join it.
func groupHint(path string) string {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "check its permissions, or use --session logind or seatd"
	}
	who := "your user"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	gid := strconv.FormatUint(uint64(st.Gid), 10)
	name := gid
	if g, err := user.LookupGroupId(gid); err == nil {
		name = g.Name
	}
	if st.Gid == 0 {
		return "it is owned by root:root; run vitrine in a logind or seatd session (--session logind|seatd) or as root with --session direct"
	}
	return fmt.Sprintf("add %s to group %q (usermod -aG %s %s) and log in again, or use --session logind|seatd", who, name, name, who)
}

// deviceNumber returns the major and minor numbers of a character device.
func deviceNumber(path string) (major, minor uint32, err error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return 0, 0, fmt.Errorf("%s is not a character device", path)
	}
	return unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)), nil
}

// fileIs reports whether a and b are the same open file (same pointer).
func fileIs(a, b *os.File) bool { return a != nil && a == b }

// closeFD closes a descriptor received from a session manager that nobody
// will use, so it does not leak.
func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
