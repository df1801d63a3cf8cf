package seat

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestPermissionErrorNamesGroup(t *testing.T) {
	g, err := user.LookupGroup("video")
	if err != nil {
		t.Skip("no video group here")
	}
	gid, _ := strconv.Atoi(g.Gid)
	path := filepath.Join(t.TempDir(), "card0")
	if err := os.WriteFile(path, nil, 0o660); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, -1, gid); err != nil {
		t.Skipf("cannot chown to video: %v", err)
	}
	err = explainOpenError(path, syscall.EACCES)
	if !errors.Is(err, ErrPermission) {
		t.Fatalf("%v does not wrap ErrPermission", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `group "video"`) || !strings.Contains(msg, "usermod -aG video") || strings.Contains(msg, "\n") {
		t.Fatalf("want one line naming group video and the fix, got %q", msg)
	}
	t.Log(msg)
}

func TestBusyErrorIsOneLine(t *testing.T) {
	err := explainOpenError("/dev/dri/card0", syscall.EBUSY)
	if !errors.Is(err, ErrDeviceBusy) || !strings.Contains(err.Error(), "/dev/dri/card0") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %q", err)
	}
}

func TestDirectSession(t *testing.T) {
	s, err := OpenDirect(Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.OpenDevice("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SwitchVT(2); err == nil || !strings.Contains(err.Error(), "--session logind or seatd") {
		t.Fatalf("SwitchVT on direct: %v", err)
	}
	if _, err := s.OpenDevice(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "no such device") {
		t.Fatalf("missing node: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatal("Close left a device open")
	}
}
