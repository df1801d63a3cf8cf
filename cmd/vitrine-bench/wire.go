package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// headerSize is the Wayland message header: object id, then size<<16|opcode.
const headerSize = 8

// maxMessageSize bounds a message: the size field is 16 bits, and
// libwayland never sends more than its 4096-byte buffer in one message.
const maxMessageSize = 1 << 16

// framer splits one direction of a Wayland byte stream into messages. The
// stream arrives in arbitrary chunks, so a message may straddle two reads;
// only that straddling tail is copied, everything else is parsed in place.
type framer struct {
	pending []byte
}

// errBadFrame means the stream no longer looks like Wayland messages;
// counting stops, forwarding does not.
var errBadFrame = errors.New("malformed wayland message header")

// feed splits p, after any bytes kept from the previous call, into whole
// messages and calls fn for each. A trailing partial message is kept.
func (f *framer) feed(p []byte, fn func(object uint32, opcode uint16, args []byte)) error {
	if len(f.pending) > 0 {
		// Complete the straddling message first, taking from p only
		// what it needs, so the rest of p is still parsed in place.
		for len(f.pending) < headerSize && len(p) > 0 {
			f.pending = append(f.pending, p[0])
			p = p[1:]
		}
		if len(f.pending) < headerSize {
			return nil
		}
		size, err := messageSize(f.pending)
		if err != nil {
			return err
		}
		need := size - len(f.pending)
		if need > len(p) {
			f.pending = append(f.pending, p...)
			return nil
		}
		f.pending = append(f.pending, p[:need]...)
		p = p[need:]
		emit(f.pending, fn)
		f.pending = f.pending[:0]
	}
	for len(p) >= headerSize {
		size, err := messageSize(p)
		if err != nil {
			return err
		}
		if size > len(p) {
			break
		}
		emit(p[:size], fn)
		p = p[size:]
	}
	f.pending = append(f.pending, p...)
	return nil
}

func messageSize(h []byte) (int, error) {
	size := int(binary.LittleEndian.Uint32(h[4:8]) >> 16)
	if size < headerSize || size%4 != 0 {
		return 0, fmt.Errorf("%w: size %d", errBadFrame, size)
	}
	return size, nil
}

func emit(msg []byte, fn func(object uint32, opcode uint16, args []byte)) {
	object := binary.LittleEndian.Uint32(msg[0:4])
	opcode := uint16(binary.LittleEndian.Uint32(msg[4:8]))
	fn(object, opcode, msg[headerSize:])
}

// argReader decodes the few argument types the counter needs. Reading past
// the end yields zero values and sets bad, so callers check once.
type argReader struct {
	b   []byte
	bad bool
}

func (r *argReader) uint() uint32 {
	if len(r.b) < 4 {
		r.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

// string reads a length-prefixed, NUL-terminated, 4-byte padded string.
func (r *argReader) string() string {
	n := int(r.uint())
	if r.bad || n == 0 {
		return ""
	}
	padded := (n + 3) &^ 3
	if padded > len(r.b) || n < 1 {
		r.bad = true
		return ""
	}
	s := string(r.b[:n-1])
	r.b = r.b[padded:]
	return s
}
