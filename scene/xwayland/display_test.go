package xwayland

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDisplayLocks: a display held by a live process is skipped, a lock
// left by a dead one is taken over, and closing removes the lock and
// socket. Fails if a live lock is stolen, a stale one blocks, or files
// are left behind.
func TestDisplayLocks(t *testing.T) {
	// Display numbers far above what anything here uses.
	const first = 900
	live := fmt.Sprintf("/tmp/.X%d-lock", first)
	stale := fmt.Sprintf("/tmp/.X%d-lock", first+1)
	for _, p := range []string{live, stale} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists already; not touching another server's lock", p)
		}
	}
	// Our own pid is alive; pid 2^22+1 is beyond pid_max's default range.
	must(t, os.WriteFile(live, []byte(fmt.Sprintf("%10d\n", os.Getpid())), 0o444))
	defer os.Remove(live)
	must(t, os.WriteFile(stale, []byte(fmt.Sprintf("%10d\n", 1<<22+1)), 0o444))
	defer os.Remove(stale)
	if err := unix.Kill(1<<22+1, 0); err == nil {
		t.Skip("pid 4194305 exists here")
	}

	d, err := openDisplay(first)
	if err != nil {
		t.Fatal(err)
	}
	if d.number != first+1 {
		d.close()
		t.Fatalf("took display :%d, want :%d (the live lock's display skipped, the stale one taken)", d.number, first+1)
	}
	b, err := os.ReadFile(stale)
	if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock %s holds %q (%v), want this pid", stale, b, err)
	}
	if _, err := os.Stat(d.sockPath); err != nil {
		t.Errorf("socket: %v", err)
	}
	d.close()
	for _, p := range []string{stale, d.sockPath} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s left behind after close", p)
		}
	}
	if b, _ := os.ReadFile(live); strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("the live lock was changed: %q", b)
	}
}

// TestLookBinaryNamesPackage: a missing Xwayland gives one line naming
// the Debian package.
func TestLookBinaryNamesPackage(t *testing.T) {
	_, err := LookBinary("Xwayland-that-is-not-installed")
	if err == nil || !strings.Contains(err.Error(), "apt-get install xwayland") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v: want one line naming the package xwayland", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
