package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
)

const (
	displayID    = 1
	serverIDBase = 0xff000000
	// maxFDsPerChunk is how many fds one recvmsg takes from a client:
	// libwayland sends at most 28 at a time.
	maxFDsPerChunk = 28
	// fdsPerSend is how many fds one sendmsg carries. libwayland clients
	// take up to 28 per recvmsg and queue them, but
	// github.com/neurlang/wayland (the examples' library) takes one per
	// message header it reads and keeps it in a buffer that the next
	// read reuses: an fd that arrives with an earlier message's header,
	// or beside another fd, is lost or turns into a wrong number the
	// client then closes. So each fd travels in a sendmsg of its own that
	// starts with the event carrying it. Events with fds are rare
	// (keymaps, format tables): the extra system calls cost nothing per
	// frame.
	fdsPerSend = 1
)

// Client is one connected Wayland client. Everything about it runs on
// the loop's thread: its socket is one of the loop's fds, read when
// readable and written when the loop flushes.
type Client struct {
	server *Server
	fd     int
	src    *eventloop.Source

	objects      map[uint32]Object
	nextServerID uint32
	// perInterface counts live objects by interface, for limits on
	// kinds of objects (frame callbacks, buffers).
	perInterface map[*Interface]int
	// heldFDs are fds kept on the client's behalf (HoldFDs).
	heldFDs int
	// spare holds destroyed objects of Recycle interfaces (Reuse).
	spare map[*Interface][]Object

	// in holds received bytes not yet dispatched; inFDs the fds that
	// came with them.
	in     []byte
	inFDs  []int
	oob    []byte
	iov    unix.Iovec
	msg    unix.Msghdr
	reader Reader
	eof    bool

	// out holds encoded events from outStart on; outFDs the fds to send
	// with them, outFDAt[i] the offset in out where the event carrying
	// outFDs[i] starts: each fd travels in the sendmsg that begins with
	// its event.
	out      []byte
	outStart int
	outFDs   []int
	outFDAt  []int
	rights   []byte
	dirty    bool
	dead     bool
	// closing: dead, but its last events (a protocol error) may still
	// leave until closeTimer fires.
	closing    bool
	closeTimer *eventloop.Timer

	// Credentials from SO_PEERCRED at accept time.
	PID, UID, GID int
	// cmdline is /proc/PID/cmdline at accept time, for log lines that
	// must say which program misbehaved.
	cmdline string

	// Data is for the compositor's per-client state.
	Data any
}

// inputReserve is the free space kept at the end of the input buffer
// before each read: at least one whole message.
const inputReserve = MaxMessageSize

func newClient(s *Server, fd int) (*Client, error) {
	c := &Client{
		server:       s,
		fd:           fd,
		objects:      make(map[uint32]Object),
		perInterface: make(map[*Interface]int),
		nextServerID: serverIDBase,
		in:           make([]byte, 0, 4*inputReserve),
		oob:          make([]byte, unix.CmsgSpace(maxFDsPerChunk*4)),
		rights:       make([]byte, unix.CmsgSpace(fdsPerSend*4)),
		PID:          -1,
		UID:          -1,
		GID:          -1,
	}
	if cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
		c.PID, c.UID, c.GID = int(cred.Pid), int(cred.Uid), int(cred.Gid)
		c.cmdline = readCmdline(c.PID)
	}
	src, err := s.loop.AddFD(fd, eventloop.Readable, c.ready)
	if err != nil {
		return nil, fmt.Errorf("client socket: %w", err)
	}
	c.src = src
	c.reader.client = c
	c.objects[displayID] = &display{Resource: Resource{client: c, id: displayID, version: 1, iface: displayInterface}}
	return c, nil
}

// readCmdline is a process's command line with spaces between the
// arguments, cut at a length a log line can carry; "" if it is gone.
func readCmdline(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) > 256 {
		b = b[:256]
	}
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}

// Cmdline is the client's command line as it was when it connected.
func (c *Client) Cmdline() string { return c.cmdline }

// SetProcess names the process behind a client the compositor connected
// itself (AddClientFD): a socketpair's peer credentials are the
// compositor's own, which would blame it in logs and privilege checks.
func (c *Client) SetProcess(pid int) {
	c.PID = pid
	c.cmdline = readCmdline(pid)
}

// Count is how many live objects of iface the client has.
func (c *Client) Count(iface *Interface) int { return c.perInterface[iface] }

func (c *Client) counted(iface *Interface, n int) {
	if c.perInterface != nil {
		c.perInterface[iface] += n
	}
}

// HoldFDs accounts for n fds the compositor keeps for the client (a
// pool's mapping, a dma-buf's planes). It fails, and the caller must
// not keep them, when the client would hold more than its limit.
func (c *Client) HoldFDs(n int) error {
	if c.heldFDs+len(c.inFDs)+n > c.server.maxFDs {
		return &Error{ObjectID: displayID, Code: ErrNoMemory, Msg: fmt.Sprintf("too many file descriptors: the limit is %d per client (--client-fd-limit)", c.server.maxFDs)}
	}
	c.heldFDs += n
	return nil
}

// ReleaseFDs gives back what HoldFDs accounted for once the fds are
// closed.
func (c *Client) ReleaseFDs(n int) { c.heldFDs -= n }

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
	c.server.log.Info("client protocol error, disconnecting", "pid", c.PID, "cmdline", c.cmdline, "object", objectID, "code", code, "error", msg, "event", "client.protocol_error")
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
	c.server.log.Info("disconnecting client", "pid", c.PID, "cmdline", c.cmdline, "reason", err, "event", "client.disconnected")
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
	unix.Shutdown(c.fd, unix.SHUT_RD)
	c.destroyObjects()
	closeAll(c.inFDs)
	c.inFDs = nil
	c.in = nil
	c.server.removeClient(c)
	if flushWindow > 0 {
		c.writeOut()
	}
	if flushWindow <= 0 || c.pendingOut() == 0 {
		c.closeSocket()
		return
	}
	// The error is still queued: wait for the socket to drain, but not
	// longer than flushWindow.
	c.closing = true
	c.src.SetEvents(eventloop.Writable)
	c.closeTimer = c.server.loop.NewTimer(c.closeSocket)
	c.closeTimer.SetAfter(flushWindow)
}

func (c *Client) closeSocket() {
	if c.fd < 0 {
		return
	}
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	c.closing = false
	c.src.Remove()
	unix.Close(c.fd)
	c.fd = -1
	closeAll(c.outFDs)
	c.outFDs, c.outFDAt, c.out = nil, nil, nil
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

// ready handles the socket's epoll events.
func (c *Client) ready(ev eventloop.Events) {
	if ev&eventloop.Writable != 0 {
		c.writeOut()
		if c.closing && c.pendingOut() == 0 {
			c.closeSocket()
			return
		}
	}
	if c.dead {
		if ev&(eventloop.Error|eventloop.Hangup) != 0 && c.closing {
			c.closeSocket()
		}
		return
	}
	if ev&(eventloop.Readable|eventloop.Error|eventloop.Hangup) != 0 {
		c.readIn()
	}
}

// readIn takes what one recvmsg gives and dispatches every complete
// request. The loop calls it again while the socket stays readable, so
// one busy client cannot hold the loop for longer than one read.
func (c *Client) readIn() {
	if cap(c.in)-len(c.in) < inputReserve {
		c.in = slices.Grow(c.in, inputReserve)
	}
	buf := c.in[len(c.in):cap(c.in)]
	n, oobn, flags, err := c.recv(buf, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return
	}
	if oobn > 0 {
		c.inFDs = appendRights(c.inFDs, c.oob[:oobn])
	}
	if err == nil && flags&unix.MSG_CTRUNC != 0 {
		err = errors.New("too many file descriptors in one message")
	}
	if err == nil && len(c.inFDs)+c.heldFDs > c.server.maxFDs {
		// fds sent ahead of the requests that take them, or with
		// requests that take none, cost the compositor's fd table.
		c.PostError(displayID, ErrNoMemory, fmt.Sprintf("too many file descriptors: %d held, the limit is %d per client (--client-fd-limit)", len(c.inFDs)+c.heldFDs, c.server.maxFDs))
		return
	}
	if n > 0 {
		c.in = c.in[:len(c.in)+n]
	}
	if n > 0 || oobn > 0 {
		c.dispatch()
	}
	switch {
	case c.dead:
	case err != nil:
		c.fail(fmt.Errorf("read: %w", err))
	case n == 0 && oobn == 0:
		c.eof = true
		c.dispatch()
		c.fail(errors.New("client closed the connection"))
	}
}

// recv is recvmsg(2) through the client's own msghdr: x/sys/unix's
// Recvmsg puts a source-address buffer on the heap on every call. With
// MSG_DONTWAIT it never blocks, so it is a raw system call (see
// eventloop: an ordinary one wakes the runtime's monitor thread).
func (c *Client) recv(p []byte, flags int) (n, oobn, recvflags int, err error) {
	c.iov.Base = &p[0]
	c.iov.SetLen(len(p))
	c.msg = unix.Msghdr{Iov: &c.iov, Control: &c.oob[0]}
	c.msg.SetIovlen(1)
	c.msg.SetControllen(len(c.oob))
	r, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.msg)), uintptr(flags|unix.MSG_DONTWAIT))
	if errno != 0 {
		return 0, 0, 0, errno
	}
	return int(r), int(c.msg.Controllen), int(c.msg.Flags), nil
}

// send is sendmsg(2), non-blocking and raw like recv.
func (c *Client) send(p, oob []byte) (int, error) {
	c.iov.Base = &p[0]
	c.iov.SetLen(len(p))
	c.msg = unix.Msghdr{Iov: &c.iov}
	c.msg.SetIovlen(1)
	if len(oob) > 0 {
		c.msg.Control = &oob[0]
		c.msg.SetControllen(len(oob))
	}
	r, _, errno := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// appendRights appends the fds of the SCM_RIGHTS messages in oob,
// parsing in place so a read allocates nothing.
func appendRights(fds []int, oob []byte) []int {
	hdr := unix.SizeofCmsghdr
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafePointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_RIGHTS {
			data := oob[unix.CmsgLen(0):l]
			for len(data) >= 4 {
				fds = append(fds, int(int32(le.Uint32(data))))
				data = data[4:]
			}
		}
		space := unix.CmsgSpace(l - unix.CmsgLen(0))
		if space > len(oob) {
			break
		}
		oob = oob[space:]
	}
	return fds
}

// queueOut accounts for an event just encoded into c.out at start; due
// makes the connection one to write at the end of the iteration.
func (c *Client) queueOut(start int, fds []int, due bool) {
	for _, fd := range fds {
		c.outFDs = append(c.outFDs, fd)
		c.outFDAt = append(c.outFDAt, start)
	}
	if due && !c.dirty {
		c.dirty = true
		c.server.dirty = append(c.server.dirty, c)
	}
	if len(c.outFDs) >= maxFDsPerChunk {
		c.writeOut()
	}
	if c.pendingOut() > c.server.maxQueue && !c.dead {
		c.fail(fmt.Errorf("client is not reading its socket: more than %d bytes queued", c.server.maxQueue))
	}
}

func (c *Client) pendingOut() int { return len(c.out) - c.outStart }

// flush writes what is queued; called once per loop iteration.
func (c *Client) flush() {
	c.dirty = false
	if c.pendingOut() > 0 {
		c.writeOut()
	}
}

// writeOut sends queued events until the socket would block; what is
// left waits for the socket to become writable.
func (c *Client) writeOut() {
	if c.fd < 0 {
		return
	}
	for c.pendingOut() > 0 {
		// A write never carries fds past the start of the event they
		// belong to: the bytes before it go alone, then the event starts
		// a write with its fds, which ends where the next fds' event
		// starts. A client reading a message at a time then finds each
		// fd with the header of its own message (see fdsPerSend).
		end, nfds := len(c.out), 0
		if len(c.outFDs) > 0 {
			if at := c.outFDAt[0]; at > c.outStart {
				end = at
			} else {
				for nfds < len(c.outFDs) && nfds < fdsPerSend && c.outFDAt[nfds] == at {
					nfds++
				}
				if nfds < len(c.outFDs) {
					end = max(c.outFDAt[nfds], at+1)
				}
			}
		}
		var oob []byte
		if nfds > 0 {
			oob = c.putRights(c.outFDs[:nfds])
		}
		n, err := c.send(c.out[c.outStart:end], oob)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			c.src.SetEvents(eventloop.Readable | eventloop.Writable)
			return
		}
		if err != nil {
			if c.closing {
				c.closeSocket()
				return
			}
			c.fail(fmt.Errorf("write: %w", err))
			return
		}
		if nfds > 0 {
			// The fds went with the first byte; they were our duplicates.
			closeAll(c.outFDs[:nfds])
			c.outFDs = append(c.outFDs[:0], c.outFDs[nfds:]...)
			c.outFDAt = append(c.outFDAt[:0], c.outFDAt[nfds:]...)
		}
		c.outStart += n
	}
	c.out, c.outStart = c.out[:0], 0
	if !c.closing {
		c.src.SetEvents(eventloop.Readable)
	}
}

// putRights encodes an SCM_RIGHTS message into the client's scratch
// buffer.
func (c *Client) putRights(fds []int) []byte {
	l := unix.CmsgLen(4 * len(fds))
	b := c.rights[:unix.CmsgSpace(4*len(fds))]
	clear(b)
	h := (*unix.Cmsghdr)(unsafePointer(&b[0]))
	h.Level = unix.SOL_SOCKET
	h.Type = unix.SCM_RIGHTS
	h.SetLen(l)
	data := b[unix.CmsgLen(0):]
	for i, fd := range fds {
		le.PutUint32(data[4*i:], uint32(fd))
	}
	return b
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
		// The kernel hands over fds with the bytes they were sent with,
		// never later, so a whole message without its fds will never
		// get them: waiting would stall the client's requests forever.
		// libwayland fails such a message too.
		if need := msg.fdCount(); need > len(c.inFDs) {
			c.PostError(id, ErrInvalidMethod, fmt.Sprintf("%s.%s: file descriptor expected", b.iface.Name, msg.Name))
			return
		}
		consumed += size
		// One Reader per client, reused: handing a fresh one to the
		// interface call would put it on the heap for every request.
		r := &c.reader
		r.data, r.err = in[headerSize:size], nil
		c.server.trace(c, b, msg)
		err := obj.Dispatch(opcode, r)
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

func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
