package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// checkRuntimeDir enforces what the XDG base directory spec requires of
// XDG_RUNTIME_DIR: a directory owned by this user with mode 0700. The
// Wayland socket lives there; in a directory others can write to, they
// could replace it, and in one they can read, reach it.
func checkRuntimeDir(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("XDG_RUNTIME_DIR=%s: %w (create it: mkdir -m 700 %s)", dir, err, dir)
	}
	uid := uint32(os.Geteuid())
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("XDG_RUNTIME_DIR=%s is not a directory: point XDG_RUNTIME_DIR at a private directory (mkdir -m 700 DIR)", dir)
	case st.Uid != uid:
		return fmt.Errorf("XDG_RUNTIME_DIR=%s is owned by uid %d, not by this user (uid %d): others could replace the Wayland socket; set XDG_RUNTIME_DIR to a directory of yours (mkdir -m 700 DIR)", dir, st.Uid, uid)
	case st.Mode&0o777 != 0o700:
		return fmt.Errorf("XDG_RUNTIME_DIR=%s has mode %04o, want 0700: other users could reach or replace the Wayland socket; fix with chmod 700 %s", dir, st.Mode&0o777, dir)
	}
	return nil
}

// ensureRuntimeDir checks XDG_RUNTIME_DIR, or, when the session did not
// set one (a root shell on a fresh machine, a container), gives vitrine
// a private one so the headless backend works anywhere; clients it
// starts inherit it.
func ensureRuntimeDir(log *slog.Logger) error {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return checkRuntimeDir(dir)
	}
	dir, err := privateRuntimeDir(log)
	if err != nil {
		return err
	}
	os.Setenv("XDG_RUNTIME_DIR", dir)
	log.Warn("XDG_RUNTIME_DIR is not set; using a private directory", "dir", dir, "hint", "export XDG_RUNTIME_DIR="+dir+" to reach vitrine from other shells")
	return nil
}

// privateRuntimeDir is $TMPDIR/vitrine-runtime-UID, a name other shells
// can guess. In a shared /tmp anyone may have made it first, so it is
// used only if it is a directory of this user with mode 0700 (mkdir
// makes it so; an existing one must already be); otherwise vitrine
// takes a fresh directory with a random name instead.
func privateRuntimeDir(log *slog.Logger) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("vitrine-runtime-%d", os.Geteuid()))
	err := unix.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return "", fmt.Errorf("XDG_RUNTIME_DIR is not set and creating %s failed: %w; set XDG_RUNTIME_DIR to a private directory (mkdir -m 700 DIR)", dir, err)
	}
	why := privateDirProblem(dir)
	if why == "" {
		return dir, nil
	}
	log.Warn("not using the usual private runtime directory", "dir", dir, "why", why)
	fresh, err := os.MkdirTemp("", fmt.Sprintf("vitrine-runtime-%d-", os.Geteuid()))
	if err != nil {
		return "", fmt.Errorf("XDG_RUNTIME_DIR is not set, %s %s, and making another failed: %w", dir, why, err)
	}
	if why := privateDirProblem(fresh); why != "" {
		return "", fmt.Errorf("XDG_RUNTIME_DIR is not set and the new directory %s %s", fresh, why)
	}
	return fresh, nil
}

// privateDirProblem says why dir is not a private directory of this
// user, "" when it is. Lstat: a symlink to one is not one.
func privateDirProblem(dir string) string {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return err.Error()
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return "is not a directory"
	case st.Uid != uint32(os.Geteuid()):
		return fmt.Sprintf("is owned by uid %d", st.Uid)
	case st.Mode&0o777 != 0o700:
		return fmt.Sprintf("has mode %04o, not 0700", st.Mode&0o777)
	}
	return ""
}
