package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Wayland messages are little-endian on every platform vitrine targets
// (x86-64, arm64, armv7), and the wire format is host byte order, so
// reading them as little-endian is exact without a byte-order switch.
var le = binary.LittleEndian

const (
	headerSize = 8
	// MaxMessageSize is libwayland's limit; clients never send more, so a
	// larger size field means a corrupt or hostile stream.
	MaxMessageSize = 4096
)

// Fixed is wl_fixed_t: a signed 24.8 fixed-point number.
type Fixed int32

// FixedFromFloat rounds f to the nearest representable Fixed.
func FixedFromFloat(f float64) Fixed { return Fixed(math.Round(f * 256)) }

// FixedFromInt converts an integer exactly.
func FixedFromInt(i int) Fixed { return Fixed(i * 256) }

// Float returns the value as a float64.
func (f Fixed) Float() float64 { return float64(f) / 256 }

// Int returns the value truncated toward zero.
func (f Fixed) Int() int { return int(f / 256) }

var errShortMessage = errors.New("message shorter than its arguments")

// Reader decodes the arguments of one request. Errors are sticky: after
// the first one every accessor returns zero values and Err reports it, so
// generated code can read all arguments and check once.
type Reader struct {
	data   []byte
	client *Client
	err    error
}

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Err reports the first decoding error.
func (r *Reader) Err() error { return r.err }

// Uint reads a uint, object id or new_id.
func (r *Reader) Uint() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.data) < 4 {
		r.fail(errShortMessage)
		return 0
	}
	v := le.Uint32(r.data)
	r.data = r.data[4:]
	return v
}

// Int reads an int.
func (r *Reader) Int() int32 { return int32(r.Uint()) }

// Fixed reads a fixed.
func (r *Reader) Fixed() Fixed { return Fixed(r.Uint()) }

// Array reads an array. The returned slice aliases the client's input
// buffer and is valid only during dispatch; copy it to keep it.
func (r *Reader) Array() []byte {
	n := r.Uint()
	if r.err != nil {
		return nil
	}
	padded := (uint64(n) + 3) &^ 3
	if uint64(len(r.data)) < padded {
		r.fail(fmt.Errorf("array of %d bytes past the end of the message", n))
		return nil
	}
	b := r.data[:n:n]
	r.data = r.data[padded:]
	return b
}

// String reads a string; a null string reads as "" with ok false.
func (r *Reader) String() (s string, ok bool) {
	n := r.Uint()
	if r.err != nil || n == 0 {
		return "", false
	}
	padded := (uint64(n) + 3) &^ 3
	if uint64(len(r.data)) < padded {
		r.fail(fmt.Errorf("string of %d bytes past the end of the message", n))
		return "", false
	}
	if r.data[n-1] != 0 {
		r.fail(errors.New("string not NUL-terminated"))
		return "", false
	}
	s = string(r.data[:n-1])
	r.data = r.data[padded:]
	return s, true
}

// FD takes the next file descriptor the client sent. The caller owns it.
func (r *Reader) FD() int {
	if r.err != nil {
		return -1
	}
	if len(r.client.inFDs) == 0 {
		r.fail(errors.New("file descriptor expected"))
		return -1
	}
	fd := r.client.inFDs[0]
	r.client.inFDs = r.client.inFDs[1:]
	return fd
}

// Finish reports trailing bytes as an error: a message longer than its
// signature is as malformed as a short one.
func (r *Reader) Finish() error {
	if r.err == nil && len(r.data) != 0 {
		r.fail(fmt.Errorf("%d trailing bytes", len(r.data)))
	}
	return r.err
}

// Writer encodes one event into its client's output queue. Obtain one
// with Resource.NewEvent; finish it with Send.
type Writer struct {
	client *Client
	start  int
	fds    []int
}

func (w *Writer) put(v uint32) {
	if w.client == nil {
		return
	}
	w.client.out = le.AppendUint32(w.client.out, v)
}

// Uint writes a uint.
func (w *Writer) Uint(v uint32) { w.put(v) }

// Int writes an int.
func (w *Writer) Int(v int32) { w.put(uint32(v)) }

// Fixed writes a fixed.
func (w *Writer) Fixed(v Fixed) { w.put(uint32(v)) }

// Object writes an object id; nil writes the null object.
func (w *Writer) Object(o Object) {
	if o == nil || isNil(o) {
		w.put(0)
		return
	}
	w.put(o.base().id)
}

// String writes a string (never null).
func (w *Writer) String(s string) {
	if w.client == nil {
		return
	}
	w.put(uint32(len(s) + 1))
	w.client.out = append(w.client.out, s...)
	w.client.out = append(w.client.out, 0)
	w.pad()
}

// Array writes an array.
func (w *Writer) Array(b []byte) {
	if w.client == nil {
		return
	}
	w.put(uint32(len(b)))
	w.client.out = append(w.client.out, b...)
	w.pad()
}

func (w *Writer) pad() {
	for len(w.client.out)%4 != 0 {
		w.client.out = append(w.client.out, 0)
	}
}

// FD queues a duplicate of fd to travel with the event; the caller keeps
// ownership of fd.
func (w *Writer) FD(fd int) {
	if w.client == nil {
		return
	}
	d, err := dupCloexec(fd)
	if err != nil {
		w.client.fail(fmt.Errorf("dup fd for event: %w", err))
		return
	}
	w.fds = append(w.fds, d)
}

// Send finishes the event and queues it for the client, to be written
// at the end of this loop iteration.
func (w *Writer) Send() { w.finish(true) }

// Queue finishes the event without making the client's connection due
// for writing, like libwayland's wl_resource_queue_event: it travels
// with the next event sent by Send. It is for events a client needs
// only together with one it is known to be waiting for (a wl_buffer
// release before the frame callback it asked for), and saves the
// client and the compositor a wake-up each.
func (w *Writer) Queue() { w.finish(false) }

func (w *Writer) finish(due bool) {
	c := w.client
	if c == nil {
		closeAll(w.fds)
		return
	}
	size := len(c.out) - w.start
	if size > MaxMessageSize {
		// A compositor bug, never client input: drop the event rather
		// than corrupt the stream.
		c.out = c.out[:w.start]
		closeAll(w.fds)
		c.server.log.Error("event too large, dropped", "size", size)
		return
	}
	hdr := c.out[w.start : w.start+headerSize]
	le.PutUint32(hdr[4:], uint32(size)<<16|le.Uint32(hdr[4:])&0xffff)
	c.queueOut(w.start, w.fds, due)
}
