package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/seat"
)

// TestExitCause feeds exitCause errors shaped as serve returns them
// (wrapped, joined), a real one from the seat package among them: each
// must get its own cause, a busy session before the busy device it is a
// kind of.
func TestExitCause(t *testing.T) {
	loop, err := eventloop.New()
	if err != nil {
		t.Fatal(err)
	}
	defer loop.Close()
	_, noSeatd := seat.OpenWith(context.Background(), seat.KindSeatd, seat.Options{SeatdSocket: filepath.Join(t.TempDir(), "seatd.sock"), Loop: seatLoop{loop: loop}})
	if noSeatd == nil {
		t.Fatal("seatd opened at a socket that does not exist")
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{noSeatd, "seatd_missing"},
		{fmt.Errorf("take control of logind session 2: %w: another compositor controls this session; stop it first", seat.ErrSessionBusy), "session_busy"},
		{errors.Join(fmt.Errorf("/dev/dri/card0: %w: another compositor or display server is DRM master on it", seat.ErrDeviceBusy), errors.New("/dev/dri/card1 (bochs): no connected display")), "device_busy"},
		{fmt.Errorf("open /dev/dri/card0: %w: add lab to group \"video\"", seat.ErrPermission), "permission"},
		{fmt.Errorf("%w: no logind session", seat.ErrNoSession), "no_session"},
		{fmt.Errorf("session manager gone: %w", seat.ErrLost), "session_lost"},
		{errDRMAsRoot, "root_refused"},
		{errors.New("listen: address in use"), "other"},
	} {
		if got := exitCause(tc.err); got != tc.want {
			t.Errorf("exitCause(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestExitEvent runs vitrine's drm backend where it must fail (as root
// without --session direct; otherwise with no seatd at SEATD_SOCK):
// with --log-format json the failure is one exit.error event with its
// cause, and then the one human line; the text format has only the line.
func TestExitEvent(t *testing.T) {
	t.Setenv("SEATD_SOCK", filepath.Join(t.TempDir(), "seatd.sock"))
	rt := t.TempDir()
	if err := os.Chmod(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", rt)
	want := "seatd_missing"
	if os.Geteuid() == 0 {
		want = "root_refused"
	}
	var out bytes.Buffer
	if status := run([]string{"--backend", "drm", "--session", "seatd", "--log-format", "json"}, &out); status != 1 {
		t.Fatalf("vitrine exited %d, want 1:\n%s", status, out.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var exits []map[string]any
	for _, l := range lines[:len(lines)-1] {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("a line before the last is not JSON (%v): %q", err, l)
		}
		if rec["event"] == "exit.error" {
			exits = append(exits, rec)
		}
	}
	if len(exits) != 1 {
		t.Fatalf("%d exit.error events, want 1:\n%s", len(exits), out.String())
	}
	if exits[0]["cause"] != want || exits[0]["level"] != "ERROR" {
		t.Errorf("exit.error %v, want level ERROR and cause %q", exits[0], want)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "vitrine: ") || !strings.Contains(last, fmt.Sprint(exits[0]["err"])) {
		t.Errorf("last line %q, want \"vitrine: \" and the event's err %q", last, exits[0]["err"])
	}

	out.Reset()
	if status := run([]string{"--backend", "drm", "--session", "seatd"}, &out); status != 1 {
		t.Fatalf("text format: vitrine exited %d, want 1:\n%s", status, out.String())
	}
	if strings.Contains(out.String(), "exit.error") || strings.Count(out.String(), "vitrine: ") != 1 {
		t.Errorf("text format: want only the one \"vitrine: \" line, got:\n%s", out.String())
	}
}
