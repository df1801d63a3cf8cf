package kms

import (
	"encoding/binary"
	"errors"
	"fmt"
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

// Monotonic is the event's timestamp on CLOCK_MONOTONIC, the clock of
// wp_presentation and of the compositor's loop. Go's time.Time cannot
// carry that clock, hence a duration since its origin.
func (e FlipEvent) Monotonic() time.Duration {
	return time.Duration(e.Sec)*time.Second + time.Duration(e.Usec)*time.Microsecond
}

// ParseEvents decodes the events in one read(2) of a DRM fd. Unknown event
// types are skipped; a truncated record is an error.
func ParseEvents(buf []byte) ([]FlipEvent, error) {
	var evs []FlipEvent
	err := parseEvents(buf, func(ev FlipEvent) { evs = append(evs, ev) })
	return evs, err
}

// parseEvents calls fn for each event in buf, in order, without
// collecting them: the dispatch path allocates nothing.
func parseEvents(buf []byte, fn func(FlipEvent)) error {
	for len(buf) > 0 {
		if len(buf) < 8 {
			return fmt.Errorf("DRM event: %d trailing bytes", len(buf))
		}
		typ := binary.NativeEndian.Uint32(buf[0:])
		length := int(binary.NativeEndian.Uint32(buf[4:]))
		if length < 8 || length > len(buf) {
			return fmt.Errorf("DRM event type %d: bad length %d (have %d bytes)", typ, length, len(buf))
		}
		rec := buf[:length]
		buf = buf[length:]
		switch typ {
		case EventVblank, EventFlipComplete:
			if length < 32 {
				return fmt.Errorf("DRM event type %d: length %d, want 32", typ, length)
			}
			fn(FlipEvent{
				Type:     typ,
				UserData: binary.NativeEndian.Uint64(rec[8:]),
				Sec:      binary.NativeEndian.Uint32(rec[16:]),
				Usec:     binary.NativeEndian.Uint32(rec[20:]),
				Sequence: binary.NativeEndian.Uint32(rec[24:]),
				CrtcID:   binary.NativeEndian.Uint32(rec[28:]),
			})
		}
	}
	return nil
}

// HandleEvents registers fn for events whose user_data has key in its
// low 32 bits (Output uses its CRTC id, and the high bits for itself);
// DispatchEvents calls it. The returned func unregisters it.
func (d *Device) HandleEvents(key uint32, fn func(FlipEvent)) (unregister func()) {
	if d.handlers == nil {
		d.handlers = map[uint32]func(FlipEvent){}
	}
	d.handlers[key] = fn
	return func() { delete(d.handlers, key) }
}

// DispatchEvents reads the events queued on the device, without blocking,
// and calls the handler registered for each, on the calling goroutine,
// before it returns. Call it when FD is readable: the device is an event
// source in the shape of libwayland's wl_event_source, with no thread of
// its own. Nothing queued is not an error.
//
// One read takes every complete event that fits the buffer, a page; if
// more are queued the fd stays readable and the next dispatch takes them.
func (d *Device) DispatchEvents() error {
	if d.evbuf == nil {
		d.evbuf = make([]byte, 4096)
	}
	var n int
	var err error
	for {
		n, err = unix.Read(d.fd, d.evbuf)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EAGAIN) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: read DRM events: %w", d.path, err)
	}
	if err := parseEvents(d.evbuf[:n], d.dispatch); err != nil {
		return fmt.Errorf("%s: %w", d.path, err)
	}
	return nil
}

func (d *Device) dispatch(ev FlipEvent) {
	if fn := d.handlers[uint32(ev.UserData)]; fn != nil {
		fn(ev)
	}
}
