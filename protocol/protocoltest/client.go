// Package protocoltest is a raw Wayland client for tests: it writes
// whatever bytes a test wants, well-formed or not, and reads events as
// they arrive. It is how the hostile-client tests misbehave on purpose.
package protocoltest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// Client is one raw connection.
type Client struct {
	conn *net.UnixConn
	buf  []byte
	// NextID is the next client object id to hand out.
	NextID uint32
	// KeepFDs keeps the fds events carry in FDs, in arrival order, for
	// the test to take; without it they are closed as they arrive.
	KeepFDs bool
	FDs     []int
}

// Dial connects to the socket at path.
func Dial(path string) (*Client, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	return &Client{conn: conn, NextID: 2}, nil
}

// Close closes the connection and the fds kept from events.
func (c *Client) Close() error {
	for _, fd := range c.FDs {
		unix.Close(fd)
	}
	c.FDs = nil
	return c.conn.Close()
}

// TakeFD removes and returns the oldest fd kept from an event.
func (c *Client) TakeFD() (int, bool) {
	if len(c.FDs) == 0 {
		return -1, false
	}
	fd := c.FDs[0]
	c.FDs = c.FDs[1:]
	return fd, true
}

// Conn exposes the socket, for tests that stop reading it.
func (c *Client) Conn() *net.UnixConn { return c.conn }

// NewID returns a fresh object id.
func (c *Client) NewID() uint32 {
	id := c.NextID
	c.NextID++
	return id
}

// Message encodes a request. Args may be uint32, int32, string (encoded
// with its NUL and padding) or []byte (an array).
func Message(object uint32, opcode uint16, args ...any) []byte {
	var body []byte
	for _, a := range args {
		switch v := a.(type) {
		case uint32:
			body = binary.LittleEndian.AppendUint32(body, v)
		case int32:
			body = binary.LittleEndian.AppendUint32(body, uint32(v))
		case int:
			body = binary.LittleEndian.AppendUint32(body, uint32(v))
		case string:
			body = binary.LittleEndian.AppendUint32(body, uint32(len(v)+1))
			body = append(body, v...)
			body = append(body, 0)
			for len(body)%4 != 0 {
				body = append(body, 0)
			}
		case []byte:
			body = binary.LittleEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
			for len(body)%4 != 0 {
				body = append(body, 0)
			}
		default:
			panic(fmt.Sprintf("protocoltest: unsupported argument %T", a))
		}
	}
	msg := binary.LittleEndian.AppendUint32(nil, object)
	msg = binary.LittleEndian.AppendUint32(msg, uint32(8+len(body))<<16|uint32(opcode))
	return append(msg, body...)
}

// Send writes a request.
func (c *Client) Send(object uint32, opcode uint16, args ...any) error {
	return c.Write(Message(object, opcode, args...))
}

// SendFDs writes a request with file descriptors attached.
func (c *Client) SendFDs(fds []int, object uint32, opcode uint16, args ...any) error {
	_, _, err := c.conn.WriteMsgUnix(Message(object, opcode, args...), unix.UnixRights(fds...), nil)
	return err
}

// Write writes raw bytes.
func (c *Client) Write(b []byte) error {
	_, err := c.conn.Write(b)
	return err
}

// Event is one decoded event header and its payload.
type Event struct {
	Object uint32
	Opcode uint16
	Args   []byte
}

// Uint returns argument word i.
func (e Event) Uint(i int) uint32 { return binary.LittleEndian.Uint32(e.Args[4*i:]) }

// String decodes a string argument starting at word i.
func (e Event) String(i int) string {
	n := int(e.Uint(i))
	if n == 0 {
		return ""
	}
	return string(e.Args[4*i+4 : 4*i+4+n-1])
}

// Read returns the next event, waiting up to timeout.
func (c *Client) Read(timeout time.Duration) (Event, error) {
	deadline := time.Now().Add(timeout)
	for {
		if len(c.buf) >= 8 {
			size := int(binary.LittleEndian.Uint32(c.buf[4:]) >> 16)
			if size >= 8 && len(c.buf) >= size {
				e := Event{Object: binary.LittleEndian.Uint32(c.buf), Opcode: uint16(binary.LittleEndian.Uint32(c.buf[4:])), Args: append([]byte(nil), c.buf[8:size]...)}
				c.buf = c.buf[size:]
				return e, nil
			}
		}
		c.conn.SetReadDeadline(deadline)
		tmp := make([]byte, 4096)
		oob := make([]byte, 256)
		n, oobn, _, _, err := c.conn.ReadMsgUnix(tmp, oob)
		n = max(n, 0) // some errors come with n = -1
		if oobn > 0 {
			// Unless the test keeps them, events with fds (keymaps) are
			// not inspected; don't leak them.
			if msgs, perr := unix.ParseSocketControlMessage(oob[:oobn]); perr == nil {
				for _, m := range msgs {
					if fds, ferr := unix.ParseUnixRights(&m); ferr == nil {
						for _, fd := range fds {
							if c.KeepFDs {
								c.FDs = append(c.FDs, fd)
							} else {
								unix.Close(fd)
							}
						}
					}
				}
			}
		}
		// A timed-out read reports n = -1 on this Go version.
		n = max(n, 0)
		c.buf = append(c.buf, tmp[:n]...)
		if err != nil {
			if n > 0 {
				continue
			}
			return Event{}, err
		}
		if n == 0 {
			return Event{}, io.EOF
		}
	}
}

// DisplayError is a wl_display.error event.
type DisplayError struct {
	Object  uint32
	Code    uint32
	Message string
}

// WaitError reads until wl_display.error arrives and then the server
// closes the connection. It fails if either does not happen in time.
func (c *Client) WaitError(timeout time.Duration) (DisplayError, error) {
	deadline := time.Now().Add(timeout)
	var got *DisplayError
	for {
		e, err := c.Read(time.Until(deadline))
		if err != nil {
			if got != nil && (errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET)) {
				return *got, nil
			}
			if got != nil {
				return *got, fmt.Errorf("got %+v but the connection was not closed: %w", *got, err)
			}
			return DisplayError{}, fmt.Errorf("no wl_display.error: %w", err)
		}
		if e.Object == 1 && e.Opcode == 0 && got == nil {
			got = &DisplayError{Object: e.Uint(0), Code: e.Uint(1), Message: e.String(2)}
		}
	}
}

// Roundtrip sends wl_display.sync and waits for its done event; it
// proves the server processed everything sent before.
func (c *Client) Roundtrip(timeout time.Duration) error {
	id := c.NewID()
	if err := c.Send(1, 0, id); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		e, err := c.Read(time.Until(deadline))
		if err != nil {
			return err
		}
		if e.Object == 1 && e.Opcode == 0 {
			return fmt.Errorf("protocol error during roundtrip: object %d code %d: %s", e.Uint(0), e.Uint(1), e.String(2))
		}
		if e.Object == id && e.Opcode == 0 {
			return nil
		}
	}
}

// Globals binds the registry and returns interface name → (name, version).
func (c *Client) Globals(timeout time.Duration) (map[string][2]uint32, uint32, error) {
	reg := c.NewID()
	if err := c.Send(1, 1, reg); err != nil {
		return nil, 0, err
	}
	sync := c.NewID()
	if err := c.Send(1, 0, sync); err != nil {
		return nil, 0, err
	}
	out := map[string][2]uint32{}
	deadline := time.Now().Add(timeout)
	for {
		e, err := c.Read(time.Until(deadline))
		if err != nil {
			return nil, 0, err
		}
		switch {
		case e.Object == reg && e.Opcode == 0:
			name := e.Uint(0)
			iface := e.String(1)
			n := int(e.Uint(1))
			ver := binary.LittleEndian.Uint32(e.Args[4+(n+3)&^3+4:])
			out[iface] = [2]uint32{name, ver}
		case e.Object == sync:
			return out, reg, nil
		}
	}
}

// New wraps an already connected socket.
func New(conn *net.UnixConn) *Client { return &Client{conn: conn, NextID: 2} }
