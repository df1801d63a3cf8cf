package protocol_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
)

func newQuietServer(t *testing.T) *protocol.Server {
	t.Helper()
	srv, err := protocol.NewServer(protocol.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// privateDir is a 0700 runtime directory for one test.
func privateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", dir)
	return dir
}

// TestSocketSymlinkRefused: a symlink where the socket goes is neither
// followed nor deleted; vitrine says what is there.
func TestSocketSymlinkRefused(t *testing.T) {
	dir := privateDir(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "wl-sym")); err != nil {
		t.Fatal(err)
	}
	err := newQuietServer(t).Listen("wl-sym")
	if err == nil || !strings.Contains(err.Error(), "is a symlink") {
		t.Fatalf("listen with a symlink in place of the socket: got %v, want a symlink error", err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Fatalf("the symlink's target changed: %q, %v", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "wl-sym")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v %v", fi, err)
	}
}

// TestSocketLockSymlinkRefused: a symlink as the lock file is not
// followed, so vitrine creates and locks nothing elsewhere.
func TestSocketLockSymlinkRefused(t *testing.T) {
	dir := privateDir(t)
	target := filepath.Join(t.TempDir(), "created-elsewhere")
	if err := os.Symlink(target, filepath.Join(dir, "wl-sym.lock")); err != nil {
		t.Fatal(err)
	}
	err := newQuietServer(t).Listen("wl-sym")
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("listen with a symlinked lock file: got %v, want a symlink error", err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatalf("the symlink's target was created: %v", err)
	}
}

// TestSocketNotASocketRefused: a regular file in the socket's place is
// someone's data, not a stale socket.
func TestSocketNotASocketRefused(t *testing.T) {
	dir := privateDir(t)
	path := filepath.Join(dir, "wl-file")
	if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := newQuietServer(t).Listen("wl-file")
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("listen over a regular file: got %v, want a not-a-socket error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "data" {
		t.Fatalf("the file was replaced")
	}
}

// TestStaleSocketReclaimed: a socket whose lock nobody holds (its
// compositor died) is replaced, and the new one accepts clients; one
// whose lock is held is left alone.
func TestStaleSocketReclaimed(t *testing.T) {
	dir := privateDir(t)
	path := filepath.Join(dir, "wl-stale")
	// A dead compositor's leftovers: a bound socket nobody listens on
	// and a lock file nobody holds.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newQuietServer(t)
	if err := srv.Listen("wl-stale"); err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	if err := unix.Connect(c, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatalf("connect to the reclaimed socket: %v", err)
	}

	// While it runs, a second server must not take the socket away.
	var before unix.Stat_t
	unix.Lstat(path, &before)
	if err := newQuietServer(t).Listen("wl-stale"); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second listen: got %v, want in use", err)
	}
	var after unix.Stat_t
	if err := unix.Lstat(path, &after); err != nil || after.Ino != before.Ino {
		t.Fatalf("the live socket was replaced or removed (inode %d -> %d, %v)", before.Ino, after.Ino, err)
	}
}
