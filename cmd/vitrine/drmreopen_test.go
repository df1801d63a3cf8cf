package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/seat"
)

// refusingSession is a session whose every OpenDevice fails with err.
type refusingSession struct {
	err   error
	opens int
}

func (s *refusingSession) Kind() string     { return seat.KindLogind }
func (s *refusingSession) SeatName() string { return "seat0" }
func (s *refusingSession) OpenDevice(path string) (*os.File, error) {
	s.opens++
	return nil, fmt.Errorf("open %s through logind: No such device (System.Error.ENODEV): %w", path, s.err)
}
func (s *refusingSession) CloseDevice(*os.File) error { return nil }
func (s *refusingSession) Active() bool               { return true }
func (s *refusingSession) SwitchVT(int) error         { return nil }
func (s *refusingSession) Close() error               { return nil }

func reopenBackend(t *testing.T, sess seat.Session) (*drmBackend, *eventloop.Loop) {
	loop, err := eventloop.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loop.Close() })
	return &drmBackend{
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		sess:       sess,
		loop:       seatLoop{loop: loop},
		devicePath: "/dev/dri/card0",
	}, loop
}

// TestReopenRetriesDeviceNotReady: the lab's unbind under logind. The
// rebound card's uevent comes before logind has heard of the card from
// udev, so TakeDevice fails and no other uevent follows: vitrine must try
// again by itself, or it stays on the placeholder output for good.
func TestReopenRetriesDeviceNotReady(t *testing.T) {
	sess := &refusingSession{err: seat.ErrDeviceNotReady}
	b, loop := reopenBackend(t, sess)
	b.reopen()
	if sess.opens != 1 {
		t.Fatalf("reopen opened %d times, want 1", sess.opens)
	}
	deadline := time.Now().Add(2 * time.Second)
	for sess.opens < 3 && time.Now().Before(deadline) {
		if err := loop.Dispatch(100 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if sess.opens < 3 {
		t.Fatalf("after a refusal as not ready, %d opens in 2 s, want retries (3 within 50+100 ms)", sess.opens)
	}
	b.close()
	if b.retryTimer.Armed() {
		t.Fatal("the retry timer is still armed after close")
	}
}

// TestReopenNoRetryOtherErrors: any other failure waits for the next
// uevent, as before: no timer, so an absent device costs no wake-ups.
func TestReopenNoRetryOtherErrors(t *testing.T) {
	sess := &refusingSession{err: seat.ErrDeviceBusy}
	b, _ := reopenBackend(t, sess)
	b.reopen()
	if b.retryTimer != nil && b.retryTimer.Armed() {
		t.Fatal("a busy device armed the retry timer")
	}
}

// TestReopenRetrySchedule: backing off to a second, giving up after
// about 6.5 s, and starting again on the next uevent (reset).
func TestReopenRetrySchedule(t *testing.T) {
	var r reopenRetry
	var got []time.Duration
	for {
		d, ok := r.next()
		if !ok {
			break
		}
		got = append(got, d)
		if len(got) > 100 {
			t.Fatal("reopenRetry never gives up")
		}
	}
	ms := time.Millisecond
	want := []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second, time.Second, time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("retries %v, want %v", got, want)
	}
	r.reset()
	if d, ok := r.next(); !ok || d != 50*ms {
		t.Fatalf("after reset: %v %v, want 50ms true", d, ok)
	}
}
