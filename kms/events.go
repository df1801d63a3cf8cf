package kms

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DRM event types (struct drm_event.type).
const (
	EventVblank       = 0x01
	EventFlipComplete = 0x02
	EventCrtcSequence = 0x03
)

// FlipEvent is a vblank or page-flip-complete event read from the device.
type FlipEvent struct {
	Type     uint32
	UserData uint64
	Sec      uint32 // CLOCK_MONOTONIC seconds of the flip (DRM_CAP_TIMESTAMP_MONOTONIC)
	Usec     uint32
	Sequence uint32
	CrtcID   uint32 // 0 on kernels without DRM_CAP_CRTC_IN_VBLANK_EVENT
}

// Time converts the event's timestamp. The clock is CLOCK_MONOTONIC, which
// Go's time.Time cannot carry: callers comparing it with time.Now use
// MonotonicNow; wp_presentation wants the raw seconds anyway.
func (e FlipEvent) Time() time.Time {
	return time.Unix(int64(e.Sec), int64(e.Usec)*1000)
}

// ParseEvents decodes the events in one read(2) of a DRM fd. Unknown event
// types are skipped; a truncated record is an error.
func ParseEvents(buf []byte) ([]FlipEvent, error) {
	var evs []FlipEvent
	for len(buf) > 0 {
		if len(buf) < 8 {
			return evs, fmt.Errorf("DRM event: %d trailing bytes", len(buf))
		}
		typ := binary.NativeEndian.Uint32(buf[0:])
		length := int(binary.NativeEndian.Uint32(buf[4:]))
		if length < 8 || length > len(buf) {
			return evs, fmt.Errorf("DRM event type %d: bad length %d (have %d bytes)", typ, length, len(buf))
		}
		rec := buf[:length]
		buf = buf[length:]
		switch typ {
		case EventVblank, EventFlipComplete:
			if length < 32 {
				return evs, fmt.Errorf("DRM event type %d: length %d, want 32", typ, length)
			}
			evs = append(evs, FlipEvent{
				Type:     typ,
				UserData: binary.NativeEndian.Uint64(rec[8:]),
				Sec:      binary.NativeEndian.Uint32(rec[16:]),
				Usec:     binary.NativeEndian.Uint32(rec[20:]),
				Sequence: binary.NativeEndian.Uint32(rec[24:]),
				CrtcID:   binary.NativeEndian.Uint32(rec[28:]),
			})
		}
	}
	return evs, nil
}

// eventLoop reads the device's events on one goroutine and hands each to
// the handler registered for its user_data. It starts with the first
// handler, so a device nobody flips on costs no thread.
type eventLoop struct {
	dev      *Device
	mu       sync.Mutex
	handlers map[uint64]func(FlipEvent)
	running  bool
	stopped  bool
	wake     [2]int // pipe that interrupts poll on stop
	done     chan struct{}
}

// HandleEvents registers fn for events whose user_data is key (Output uses
// its CRTC id). fn runs on the device's event goroutine. The returned func
// unregisters it.
func (d *Device) HandleEvents(key uint64, fn func(FlipEvent)) (unregister func(), err error) {
	l := &d.events
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return nil, fmt.Errorf("%s: device closed", d.path)
	}
	if !l.running {
		if err := unix.Pipe2(l.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			return nil, fmt.Errorf("event loop pipe: %w", err)
		}
		l.handlers = make(map[uint64]func(FlipEvent))
		l.done = make(chan struct{})
		l.running = true
		go l.run()
	}
	l.handlers[key] = fn
	return func() {
		l.mu.Lock()
		delete(l.handlers, key)
		l.mu.Unlock()
	}, nil
}

func (l *eventLoop) run() {
	defer close(l.done)
	buf := make([]byte, 4096)
	fds := []unix.PollFd{{Fd: int32(l.dev.fd), Events: unix.POLLIN}, {Fd: int32(l.wake[0]), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			slog.Error("DRM event loop stopped", "device", l.dev.path, "err", err)
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			slog.Error("DRM event loop stopped", "device", l.dev.path, "revents", fds[0].Revents)
			return
		}
		n, err := unix.Read(l.dev.fd, buf)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			slog.Error("DRM event loop stopped", "device", l.dev.path, "err", err)
			return
		}
		evs, err := ParseEvents(buf[:n])
		if err != nil {
			slog.Warn("DRM event", "device", l.dev.path, "err", err)
		}
		for _, ev := range evs {
			l.mu.Lock()
			fn := l.handlers[ev.UserData]
			l.mu.Unlock()
			if fn != nil {
				fn(ev)
			}
		}
	}
}

func (l *eventLoop) stop() {
	l.mu.Lock()
	l.stopped = true
	running := l.running
	l.mu.Unlock()
	if !running {
		return
	}
	unix.Write(l.wake[1], []byte{0})
	<-l.done
	unix.Close(l.wake[0])
	unix.Close(l.wake[1])
}
