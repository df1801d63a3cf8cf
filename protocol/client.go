package protocol

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	displayID    = 1
	serverIDBase = 0xff000000
	// maxFDsPerChunk keeps each sendmsg's SCM_RIGHTS well under the
	// kernel's SCM_MAX_FD (253) and libwayland's 28-fd receive buffer.
	maxFDsPerChunk = 28
)

// Client is one connected Wayland client. All methods except the
// goroutines' internals run on the compositor's loop goroutine.
type Client struct {
	server *Server
	conn   *net.UnixConn
	raw    syscall.RawConn

	objects      map[uint32]Object
	nextServerID uint32

	in    []byte
	inFDs []int
	eof   bool

	out    []byte
	outFDs []int
	dirty  bool
	dead   bool

	// Credentials from SO_PEERCRED at accept time.
	PID, UID, GID int

	// Data is for the compositor's per-client state.
	Data any

	w clientWriter
}

// chunk is bytes plus the fds that must arrive no later than them.
type chunk struct {
	data []byte
	fds  []int
}

// clientWriter is the hand-off between the loop goroutine, which never
// blocks on a client, and the goroutine that writes to its socket.
type clientWriter struct {
	mu      sync.Mutex
	queue   []chunk
	pending int // bytes queued or being written
	closing bool
	wake    chan struct{}
}

func newClient(s *Server, conn *net.UnixConn) (*Client, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("client socket: %w", err)
	}
	c := &Client{
		server:       s,
		conn:         conn,
		raw:          raw,
		objects:      make(map[uint32]Object),
		nextServerID: serverIDBase,
		PID:          -1,
		UID:          -1,
		GID:          -1,
	}
	c.w.wake = make(chan struct{}, 1)
	_ = raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			c.PID, c.UID, c.GID = int(cred.Pid), int(cred.Uid), int(cred.Gid)
		}
	})
	c.objects[displayID] = &display{Resource: Resource{client: c, id: displayID, version: 1, iface: displayInterface}}
	return c, nil
}

// Alive reports whether the client is still connected and in good
// standing.
func (c *Client) Alive() bool { return !c.dead }

// Object returns the object with id, or nil.
func (c *Client) Object(id uint32) Object { return c.objects[id] }

// Server returns the server the client is connected to.
func (c *Client) Server() *Server { return c.server }

// PostError sends wl_display.error and disconnects the client. Only the
// first error is sent; the client is beyond repair after it.
func (c *Client) PostError(objectID, code uint32, msg string) {
	if c.dead {
		return
	}
	c.server.log.Info("client protocol error, disconnecting", "pid", c.PID, "object", objectID, "code", code, "error", msg)
	d := c.objects[displayID].base()
	w := d.NewEvent(0)
	w.Uint(objectID)
	w.Uint(code)
	w.String(msg)
	w.Send()
	c.disconnect(errorFlushTime)
}

// fail disconnects the client for a reason that is not a protocol
// violation it can be told about (I/O error, queue overflow).
func (c *Client) fail(err error) {
	if c.dead {
		return
	}
	c.server.log.Info("disconnecting client", "pid", c.PID, "reason", err)
	// Nothing queued is worth waiting for: the client may never read it.
	c.disconnect(0)
}

// Close disconnects the client without an error message.
func (c *Client) Close() { c.fail(errors.New("closed by compositor")) }

// errorFlushTime bounds how long a disconnected client's last events
// (its wl_display.error) may take to leave; a client that does not read
// loses them.
const errorFlushTime = time.Second

func (c *Client) disconnect(flushWindow time.Duration) {
	c.dead = true
	// Stop reading at once: a peer that keeps writing gets EPIPE rather
	// than a socket that silently swallows its requests.
	c.conn.CloseRead()
	c.conn.SetWriteDeadline(time.Now().Add(flushWindow))
	c.flush()
	c.w.mu.Lock()
	c.w.closing = true
	c.w.mu.Unlock()
	c.signalWriter()
	c.destroyObjects()
	closeAll(c.inFDs)
	c.inFDs = nil
	c.in = nil
	c.server.removeClient(c)
}

func (c *Client) destroyObjects() {
	ids := make([]uint32, 0, len(c.objects))
	for id := range c.objects {
		ids = append(ids, id)
	}
	// Newer objects tend to depend on older ones (a subsurface on its
	// surfaces, a frame callback on its surface), so tear down newest
	// first.
	slices.Sort(ids)
	for i := len(ids) - 1; i >= 0; i-- {
		if o, ok := c.objects[ids[i]]; ok {
			o.base().Destroy()
		}
	}
	c.objects = map[uint32]Object{}
}

func (c *Client) sendDeleteID(id uint32) {
	d := c.objects[displayID]
	if d == nil {
		return
	}
	w := d.base().NewEvent(1)
	w.Uint(id)
	w.Send()
}

// queueOut accounts for an event just encoded into c.out.
func (c *Client) queueOut(fds []int) {
	c.outFDs = append(c.outFDs, fds...)
	if !c.dirty {
		c.dirty = true
		c.server.dirty = append(c.server.dirty, c)
	}
	if len(c.outFDs) >= maxFDsPerChunk/2 {
		c.flush()
	}
	c.w.mu.Lock()
	over := c.w.pending+len(c.out) > c.server.maxQueue
	c.w.mu.Unlock()
	if over && !c.dead {
		c.fail(fmt.Errorf("client is not reading its socket: more than %d bytes queued", c.server.maxQueue))
	}
}

// flush hands the encoded events to the writer goroutine.
func (c *Client) flush() {
	c.dirty = false
	if len(c.out) == 0 && len(c.outFDs) == 0 {
		return
	}
	ch := chunk{data: c.out, fds: c.outFDs}
	c.out, c.outFDs = nil, nil
	c.w.mu.Lock()
	if c.w.closing {
		c.w.mu.Unlock()
		closeAll(ch.fds)
		return
	}
	c.w.queue = append(c.w.queue, ch)
	c.w.pending += len(ch.data)
	c.w.mu.Unlock()
	c.signalWriter()
}

func (c *Client) signalWriter() {
	select {
	case c.w.wake <- struct{}{}:
	default:
	}
}

// writeLoop runs on its own goroutine: it is the only place that may
// block on the client's socket.
func (c *Client) writeLoop() {
	defer c.conn.Close()
	for range c.w.wake {
		for {
			c.w.mu.Lock()
			q := c.w.queue
			c.w.queue = nil
			closing := c.w.closing
			c.w.mu.Unlock()
			if len(q) == 0 {
				if closing {
					return
				}
				break
			}
			for i, ch := range q {
				err := c.writeChunk(ch)
				closeAll(ch.fds)
				c.w.mu.Lock()
				c.w.pending -= len(ch.data)
				c.w.mu.Unlock()
				if err != nil {
					for _, rest := range q[i+1:] {
						closeAll(rest.fds)
					}
					c.server.post(Event{client: c, err: fmt.Errorf("write: %w", err)})
					c.drainAfterError()
					return
				}
			}
		}
	}
}

// drainAfterError releases queued fds until the loop marks the client
// closing, so no fd leaks when a write fails.
func (c *Client) drainAfterError() {
	for range c.w.wake {
		c.w.mu.Lock()
		q := c.w.queue
		c.w.queue = nil
		closing := c.w.closing
		c.w.mu.Unlock()
		for _, ch := range q {
			closeAll(ch.fds)
		}
		if closing {
			return
		}
	}
}

func (c *Client) writeChunk(ch chunk) error {
	data := ch.data
	var oob []byte
	if len(ch.fds) > 0 {
		oob = unix.UnixRights(ch.fds...)
	}
	for len(data) > 0 || oob != nil {
		var n int
		var werr error
		err := c.raw.Write(func(fd uintptr) bool {
			n, werr = unix.SendmsgN(int(fd), data, oob, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
			return werr != unix.EAGAIN
		})
		if err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		oob = nil
		data = data[n:]
	}
	return nil
}

// readLoop runs on its own goroutine and hands bytes and fds to the loop.
func (c *Client) readLoop() {
	buf := make([]byte, 16*1024)
	oob := make([]byte, unix.CmsgSpace(maxFDsPerChunk*4))
	for {
		var n, oobn, flags int
		var rerr error
		err := c.raw.Read(func(fd uintptr) bool {
			n, oobn, flags, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		var fds []int
		if oobn > 0 {
			fds = parseRights(oob[:oobn])
		}
		if err == nil && flags&unix.MSG_CTRUNC != 0 {
			err = errors.New("too many file descriptors in one message")
		}
		if err == nil && n == 0 && len(fds) == 0 {
			c.server.post(Event{client: c, eof: true})
			return
		}
		if n > 0 || len(fds) > 0 {
			c.server.post(Event{client: c, data: slices.Clone(buf[:n]), fds: fds})
		}
		if err != nil {
			c.server.post(Event{client: c, err: fmt.Errorf("read: %w", err)})
			return
		}
	}
}

func parseRights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if r, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, r...)
		}
	}
	return fds
}

// receive appends input and dispatches every complete request.
func (c *Client) receive(data []byte, fds []int) {
	if c.dead {
		closeAll(fds)
		return
	}
	c.in = append(c.in, data...)
	c.inFDs = append(c.inFDs, fds...)
	c.dispatch()
}

func (c *Client) dispatch() {
	consumed := 0
	defer func() {
		if !c.dead && consumed > 0 {
			c.in = append(c.in[:0], c.in[consumed:]...)
		}
	}()
	for !c.dead {
		in := c.in[consumed:]
		if len(in) < headerSize {
			if c.eof && len(in) > 0 {
				c.PostError(displayID, ErrInvalidMethod, "connection closed inside a message header")
			}
			return
		}
		id := le.Uint32(in)
		word := le.Uint32(in[4:])
		size, opcode := int(word>>16), uint16(word&0xffff)
		if size < headerSize || size%4 != 0 || size > MaxMessageSize {
			c.PostError(displayID, ErrInvalidMethod, fmt.Sprintf("invalid message size %d for object %d", size, id))
			return
		}
		if len(in) < size {
			if c.eof {
				c.PostError(displayID, ErrInvalidMethod, "connection closed inside a message")
			}
			return
		}
		obj, ok := c.objects[id]
		if !ok {
			c.PostError(displayID, ErrInvalidObject, fmt.Sprintf("invalid object %d", id))
			return
		}
		b := obj.base()
		if int(opcode) >= len(b.iface.Requests) {
			c.PostError(id, ErrInvalidMethod, fmt.Sprintf("invalid method %d for %s#%d", opcode, b.iface.Name, id))
			return
		}
		msg := &b.iface.Requests[opcode]
		if msg.Since > b.version {
			c.PostError(id, ErrInvalidMethod, fmt.Sprintf("%s.%s needs version %d, object has %d", b.iface.Name, msg.Name, msg.Since, b.version))
			return
		}
		if need := msg.fdCount(); need > len(c.inFDs) {
			if c.eof {
				c.PostError(id, ErrInvalidMethod, fmt.Sprintf("%s.%s: file descriptor expected", b.iface.Name, msg.Name))
			}
			return
		}
		consumed += size
		r := Reader{data: in[headerSize:size], client: c}
		c.server.trace(c, b, msg)
		err := obj.Dispatch(opcode, &r)
		if c.dead {
			return
		}
		if err != nil {
			var perr *Error
			if errors.As(err, &perr) {
				c.PostError(perr.ObjectID, perr.Code, perr.Msg)
			} else {
				c.PostError(id, ErrInvalidMethod, fmt.Sprintf("%s.%s: %v", b.iface.Name, msg.Name, err))
			}
			return
		}
		if msg.Destructor {
			b.Destroy()
		}
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func dupCloexec(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}

// CloseFDs closes fds a request carried when nobody takes ownership.
func CloseFDs(fds ...int) { closeAll(fds) }
