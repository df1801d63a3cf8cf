// Package evdev reads Linux evdev input devices: the input_event wire
// layout, device capabilities from sysfs and ioctls, and input hotplug
// through kernel uevents.
package evdev

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// Event types, codes and values used by vitrine, transcribed from
// linux/input-event-codes.h.
const (
	EvSyn = 0x00
	EvKey = 0x01
	EvRel = 0x02
	EvAbs = 0x03
	EvMsc = 0x04

	SynReport  = 0
	SynDropped = 3

	RelX           = 0x00
	RelY           = 0x01
	RelHWheel      = 0x06
	RelWheel       = 0x08
	RelWheelHiRes  = 0x0b
	RelHWheelHiRes = 0x0c

	AbsX            = 0x00
	AbsY            = 0x01
	AbsMTSlot       = 0x2f
	AbsMTPositionX  = 0x35
	AbsMTPositionY  = 0x36
	AbsMTTrackingID = 0x39
	AbsCnt          = 0x40

	KeyEsc       = 1
	KeyEnter     = 28
	KeyA         = 30
	KeyZ         = 44
	KeySpace     = 57
	KeyBackspace = 14
	KeyF1        = 59
	KeyF10       = 68
	KeyF11       = 87
	KeyF12       = 88
	KeyLeftCtrl  = 29
	KeyLeftAlt   = 56
	KeyRightCtrl = 97
	KeyRightAlt  = 100

	BtnMisc       = 0x100
	BtnLeft       = 0x110
	BtnRight      = 0x111
	BtnMiddle     = 0x112
	BtnTask       = 0x117
	BtnToolPen    = 0x140
	BtnToolFinger = 0x145
	BtnTouch      = 0x14a
	BtnGearUp     = 0x151
	KeyCnt        = 0x300
	RelCnt        = 0x10
)

// Event is one struct input_event.
type Event struct {
	Time  time.Duration // timestamp since the clock's epoch
	Type  uint16
	Code  uint16
	Value int32
}

func (e Event) String() string {
	return fmt.Sprintf("%v type=%d code=%d value=%d", e.Time, e.Type, e.Code, e.Value)
}

// WordSize is the size of a C long on the running architecture: the two
// fields of the timestamp in struct input_event are longs (struct timeval
// on 64-bit, __kernel_ulong_t pairs on 32-bit ABIs with a 64-bit time_t),
// so the event is 24 bytes on 64-bit and 16 bytes on 32-bit ARM.
const WordSize = strconv.IntSize / 8

// Size is the size of struct input_event on the running architecture.
const Size = 2*WordSize + 8

// SizeFor returns the size of struct input_event for a given long size.
func SizeFor(wordSize int) int { return 2*wordSize + 8 }

// Decode decodes one event in host byte order for a long of wordSize
// bytes (4 or 8). b must hold at least SizeFor(wordSize) bytes.
func Decode(b []byte, wordSize int) Event {
	ne := binary.NativeEndian
	var sec, usec int64
	if wordSize == 8 {
		sec, usec = int64(ne.Uint64(b)), int64(ne.Uint64(b[8:]))
	} else {
		sec, usec = int64(ne.Uint32(b)), int64(ne.Uint32(b[4:]))
	}
	o := 2 * wordSize
	return Event{
		Time:  time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond,
		Type:  ne.Uint16(b[o:]),
		Code:  ne.Uint16(b[o+2:]),
		Value: int32(ne.Uint32(b[o+4:])),
	}
}

// Encode appends e in the layout Decode reads; tests and virtual devices
// use it.
func Encode(dst []byte, e Event, wordSize int) []byte {
	ne := binary.NativeEndian
	sec := int64(e.Time / time.Second)
	usec := int64(e.Time%time.Second) / int64(time.Microsecond)
	if wordSize == 8 {
		dst = ne.AppendUint64(dst, uint64(sec))
		dst = ne.AppendUint64(dst, uint64(usec))
	} else {
		dst = ne.AppendUint32(dst, uint32(sec))
		dst = ne.AppendUint32(dst, uint32(usec))
	}
	dst = ne.AppendUint16(dst, e.Type)
	dst = ne.AppendUint16(dst, e.Code)
	return ne.AppendUint32(dst, uint32(e.Value))
}

// DecodeAll decodes every whole event in b and returns the bytes of a
// trailing partial event, which a reader keeps for the next read.
func DecodeAll(dst []Event, b []byte, wordSize int) ([]Event, []byte) {
	n := SizeFor(wordSize)
	for len(b) >= n {
		dst = append(dst, Decode(b, wordSize))
		b = b[n:]
	}
	return dst, b
}
