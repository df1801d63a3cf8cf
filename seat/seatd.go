package seat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// seatd wire protocol (seatd's include/protocol.h): every message is a
// header {uint16 opcode, uint16 size} in host byte order followed by size
// bytes of body. Server opcodes have bit 15 set.
const (
	seatdOpenSeat      = 1
	seatdCloseSeat     = 2
	seatdOpenDevice    = 3
	seatdCloseDevice   = 4
	seatdDisableSeat   = 5
	seatdSwitchSession = 6
	seatdPing          = 7

	seatdServer         = 1 << 15
	seatdSeatOpened     = seatdServer + 1
	seatdSeatClosed     = seatdServer + 2
	seatdDeviceOpened   = seatdServer + 3
	seatdDeviceClosed   = seatdServer + 4
	seatdServerDisable  = seatdServer + 5
	seatdServerEnable   = seatdServer + 6
	seatdPong           = seatdServer + 7
	seatdError          = seatdServer + 0x7fff
	seatdMaxPathLen     = 256
	seatdDefaultSocket  = "/run/seatd.sock"
	seatdReplyTimeout   = 10 * time.Second
	seatdEnableTimeout  = 3 * time.Second
	seatdHeaderSize     = 4
	seatdMaxMessageSize = 1 << 12
)

type seatdMsg struct {
	op   uint16
	body []byte
	fd   int // DEVICE_OPENED only, else -1
}

// Seatd is a session granted by the seatd daemon over its socket.
//
// seatd reports only session-wide Paused/Resumed events. Paused must be
// acknowledged (Ack) once every device is idle: seatd then revokes evdev
// fds and drops DRM master, and lets the VT switch proceed. On Resumed the
// DRM files are usable again as they are; evdev files stay revoked and
// must be closed and reopened.
//
// The socket is the compositor's to read, so it is read on the loop
// (Options.Loop) and nowhere else: server events when it is readable,
// and each request's reply right after the request, the way libseat
// does it. seatd answers at once, so a request holds the loop for one
// local round trip (at most seatdReplyTimeout if seatd hangs). Seatd is
// not safe for concurrent use: call it, and Ack its events, on the loop.
type Seatd struct {
	log     *slog.Logger
	fd      int
	socket  string
	seat    string
	notify  func(Event)
	unwatch func() // stops the loop watching fd; nil when not watched

	chunk   []byte
	oob     []byte
	in      []byte     // received bytes that are not a whole message yet
	fds     []int      // received fds not yet claimed by a DEVICE_OPENED
	replies []seatdMsg // replies read and not yet taken by a request

	active  bool
	started bool // the first ENABLE_SEAT came
	lost    error
	closed  bool
	devices map[*os.File]seatdDevice
}

type seatdDevice struct {
	id   int32
	path string
}

// OpenSeatd connects to seatd and opens the seat, waiting briefly for seatd
// to make it active.
func OpenSeatd(ctx context.Context, opt Options) (*Seatd, error) {
	if opt.Loop == nil {
		return nil, errors.New("seatd session: no event loop to read seatd's socket on (Options.Loop)")
	}
	path := opt.SeatdSocket
	if path == "" {
		path = os.Getenv("SEATD_SOCK")
	}
	if path == "" {
		path = seatdDefaultSocket
	}
	fd, err := dialSeatd(path)
	if err != nil {
		return nil, err
	}
	s := &Seatd{
		log:     opt.logger(),
		fd:      fd,
		socket:  path,
		notify:  opt.notifier(),
		chunk:   make([]byte, 4096),
		oob:     make([]byte, unix.CmsgSpace(4*16)),
		devices: make(map[*os.File]seatdDevice),
	}
	reply, err := s.request(seatdOpenSeat, nil)
	if err == nil {
		err = replyError(reply, seatdSeatOpened)
	}
	if err != nil {
		s.shutdown()
		if errors.Is(err, ErrLost) {
			// seatd drops a client it refuses a seat instead of replying.
			return nil, fmt.Errorf("open seat through seatd at %s: %w: seatd refused the seat; another compositor holds it on this VT (see seatd's log)", path, ErrSessionBusy)
		}
		return nil, fmt.Errorf("open seat through seatd at %s: %w", path, err)
	}
	if len(reply.body) < 2 {
		s.shutdown()
		return nil, fmt.Errorf("open seat through seatd: short reply")
	}
	n := int(binary.NativeEndian.Uint16(reply.body))
	if 2+n > len(reply.body) {
		n = len(reply.body) - 2
	}
	s.seat = trimNUL(string(reply.body[2 : 2+n]))

	deadline := time.Now().Add(seatdEnableTimeout)
	for !s.started {
		switch left := time.Until(deadline); {
		case s.lost != nil:
			err := s.lostErr()
			s.shutdown()
			return nil, fmt.Errorf("open seat %s: %w", s.seat, err)
		case ctx.Err() != nil:
			s.Close()
			return nil, fmt.Errorf("open seat %s: %w", s.seat, ctx.Err())
		case left <= 0:
			s.Close()
			return nil, fmt.Errorf("open seat %s through seatd: %w: seatd did not make us active within %v; another compositor holds the seat, or vitrine was not started from the seat's active VT", s.seat, ErrSessionBusy, seatdEnableTimeout)
		default:
			// Slices, so a cancelled ctx is noticed.
			s.receive(min(left, 100*time.Millisecond))
		}
	}
	s.unwatch, err = opt.Loop.WatchReadable(s.fd, s.dispatch)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open seat %s: watch seatd's socket: %w", s.seat, err)
	}
	s.log.Debug("seatd: seat open", "seat", s.seat, "socket", path, "event", "seatd.seat_open")
	return s, nil
}

// dialSeatd connects to seatd's socket; the connection is non-blocking.
func dialSeatd(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("connect to seatd at %s: %w", path, err)
	}
	// Connecting blocks at most until seatd's listen backlog has room.
	err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		switch {
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
			return -1, fmt.Errorf("%w (no socket at %s): start it (rc-service seatd start, or systemctl start seatd) or use --session logind", ErrSeatdNotRunning, path)
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return -1, fmt.Errorf("connect to seatd at %s: %w: %s", path, ErrPermission, groupHint(path))
		}
		return -1, fmt.Errorf("connect to seatd at %s: %w", path, err)
	}
	return fd, nil
}

func trimNUL(s string) string {
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}

func (s *Seatd) Kind() string     { return KindSeatd }
func (s *Seatd) SeatName() string { return s.seat }
func (s *Seatd) Active() bool     { return s.active && s.lost == nil }

func (s *Seatd) lostErr() error {
	if s.lost != nil {
		return fmt.Errorf("%w: %v", ErrLost, s.lost)
	}
	return ErrLost
}

func (s *Seatd) write(op uint16, body []byte) error {
	msg := make([]byte, seatdHeaderSize+len(body))
	binary.NativeEndian.PutUint16(msg[0:], op)
	binary.NativeEndian.PutUint16(msg[2:], uint16(len(body)))
	copy(msg[seatdHeaderSize:], body)
	for len(msg) > 0 {
		n, err := unix.SendmsgN(s.fd, msg, nil, nil, unix.MSG_NOSIGNAL)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			// A few bytes to a local daemon: the buffer is full only if
			// seatd stopped reading.
			if !s.poll(unix.POLLOUT, seatdReplyTimeout) {
				return fmt.Errorf("write to seatd: not accepted within %v", seatdReplyTimeout)
			}
			continue
		case err != nil:
			return fmt.Errorf("write to seatd: %w", err)
		}
		msg = msg[n:]
	}
	return nil
}

// poll waits up to d for events on the socket.
func (s *Seatd) poll(events int16, d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: events}}
	n, err := unix.Poll(fds, int((d+time.Millisecond-1)/time.Millisecond))
	return err == nil && n > 0
}

// request sends a message and waits for the reply seatd sends for it.
func (s *Seatd) request(op uint16, body []byte) (seatdMsg, error) {
	if err := s.write(op, body); err != nil {
		return seatdMsg{}, err
	}
	return s.awaitReply()
}

// awaitReply reads the socket until a reply is there. Server events read
// meanwhile are delivered as they come.
func (s *Seatd) awaitReply() (seatdMsg, error) {
	deadline := time.Now().Add(seatdReplyTimeout)
	for len(s.replies) == 0 {
		// A reply queued just before the connection ended still counts.
		if s.lost != nil {
			return seatdMsg{}, s.lostErr()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return seatdMsg{}, fmt.Errorf("seatd did not answer within %v", seatdReplyTimeout)
		}
		s.receive(left)
	}
	m := s.replies[0]
	s.replies = s.replies[1:]
	return m, nil
}

// replyError checks that m is the expected reply, turning seatd's error
// message into an errno.
func replyError(m seatdMsg, want uint16) error {
	if m.op == want {
		return nil
	}
	if m.op == seatdError {
		if len(m.body) >= 4 {
			return syscall.Errno(binary.NativeEndian.Uint32(m.body))
		}
		return errors.New("seatd error without code")
	}
	return fmt.Errorf("unexpected seatd message 0x%04x", m.op)
}

// OpenDevice asks seatd to open path (seatd hands out /dev/input/event*
// and /dev/dri/card* only).
func (s *Seatd) OpenDevice(path string) (*os.File, error) {
	err := s.usable()
	for _, d := range s.devices {
		if d.path == path {
			err = errors.New("already open in this session")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if len(path)+1 > seatdMaxPathLen {
		return nil, fmt.Errorf("open %s: path too long for seatd", path)
	}
	body := make([]byte, 2+len(path)+1)
	binary.NativeEndian.PutUint16(body, uint16(len(path)+1))
	copy(body[2:], path)
	reply, err := s.request(seatdOpenDevice, body)
	if err != nil {
		return nil, fmt.Errorf("open %s through seatd: %w", path, err)
	}
	if err := replyError(reply, seatdDeviceOpened); err != nil {
		closeFD(reply.fd)
		switch {
		case errors.Is(err, syscall.EPERM):
			return nil, fmt.Errorf("open %s through seatd: the seat is not active (vitrine's VT is in the background)", path)
		case errors.Is(err, syscall.ENOENT):
			return nil, fmt.Errorf("open %s through seatd: no such device, or not one seatd hands out (/dev/input/event*, /dev/dri/card*)", path)
		}
		return nil, explainOpenError(path, err)
	}
	if len(reply.body) < 4 || reply.fd < 0 {
		closeFD(reply.fd)
		return nil, fmt.Errorf("open %s through seatd: reply without device id or fd", path)
	}
	id := int32(binary.NativeEndian.Uint32(reply.body))
	f := os.NewFile(uintptr(reply.fd), path)
	s.devices[f] = seatdDevice{id: id, path: path}
	return f, nil
}

func (s *Seatd) CloseDevice(f *os.File) error {
	d, ok := s.devices[f]
	delete(s.devices, f)
	if !ok {
		return fmt.Errorf("close device %s: not opened by this session", f.Name())
	}
	var errs []error
	if s.lost == nil {
		if err := s.closeDeviceID(d.id); err != nil {
			errs = append(errs, fmt.Errorf("close %s through seatd: %w", d.path, err))
		}
	}
	errs = append(errs, f.Close())
	return errors.Join(errs...)
}

func (s *Seatd) closeDeviceID(id int32) error {
	body := make([]byte, 4)
	binary.NativeEndian.PutUint32(body, uint32(id))
	reply, err := s.request(seatdCloseDevice, body)
	if err != nil {
		return err
	}
	return replyError(reply, seatdDeviceClosed)
}

// SwitchVT asks seatd to switch session. seatd answers a successful switch
// with nothing, so a ping follows: its pong (or an error before it) tells
// the outcome without mistaking a later reply for this one.
func (s *Seatd) SwitchVT(vt int) error {
	if err := s.usable(); err != nil {
		return fmt.Errorf("switch to VT %d: %w", vt, err)
	}
	body := make([]byte, 4)
	binary.NativeEndian.PutUint32(body, uint32(int32(vt)))
	if err := s.write(seatdSwitchSession, body); err != nil {
		return fmt.Errorf("switch to VT %d: %w", vt, err)
	}
	reply, err := s.request(seatdPing, nil)
	if err != nil {
		return fmt.Errorf("switch to VT %d: %w", vt, err)
	}
	if reply.op == seatdPong {
		return nil
	}
	switchErr := replyError(reply, seatdPong)
	if pong, err := s.awaitReply(); err != nil || pong.op != seatdPong {
		s.log.Warn("seatd: no pong after switch error", "err", err)
	}
	return fmt.Errorf("switch to VT %d through seatd: %w", vt, switchErr)
}

func (s *Seatd) usable() error {
	if s.closed {
		return errors.New("session closed")
	}
	if s.lost != nil {
		return fmt.Errorf("%w: %v", ErrLost, s.lost)
	}
	return nil
}

// Close closes every device, closes the seat and disconnects.
func (s *Seatd) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	devs := s.devices
	s.devices = nil
	var errs []error
	for f, d := range devs {
		if s.lost == nil {
			if err := s.closeDeviceID(d.id); err != nil {
				errs = append(errs, fmt.Errorf("close %s through seatd: %w", d.path, err))
			}
		}
		f.Close()
	}
	if s.lost == nil {
		reply, err := s.request(seatdCloseSeat, nil)
		if err == nil {
			err = replyError(reply, seatdSeatClosed)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("close seat %s: %w", s.seat, err))
		}
	}
	s.shutdown()
	return errors.Join(errs...)
}

// shutdown drops the connection and every fd received and not handed out.
func (s *Seatd) shutdown() {
	s.closed = true
	if s.unwatch != nil {
		s.unwatch()
		s.unwatch = nil
	}
	unix.Close(s.fd)
	for _, fd := range s.fds {
		closeFD(fd)
	}
	for _, m := range s.replies {
		closeFD(m.fd)
	}
	s.fds, s.replies = nil, nil
}

// dispatch runs on the loop when the socket is readable. No request is
// waiting then (requests read their own replies), so a reply here is
// stray.
func (s *Seatd) dispatch() {
	s.receive(0)
	for _, m := range s.replies {
		s.log.Warn("seatd: unexpected message dropped", "opcode", m.op)
		closeFD(m.fd)
	}
	s.replies = s.replies[:0]
}

// receive reads what the socket holds, waiting up to wait for the first
// bytes, and handles every whole message.
func (s *Seatd) receive(wait time.Duration) {
	if wait > 0 && !s.poll(unix.POLLIN, wait) {
		return
	}
	for s.lost == nil {
		n, oobn, _, _, err := unix.Recvmsg(s.fd, s.chunk, s.oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return
		}
		if oobn > 0 {
			s.fds = append(s.fds, parseRights(s.oob[:oobn])...)
		}
		if n > 0 {
			s.in = append(s.in, s.chunk[:n]...)
			s.parse()
		}
		if err != nil || n == 0 {
			if err == nil {
				err = errors.New("seatd closed the connection")
			}
			s.connectionLost(err)
			return
		}
	}
}

func (s *Seatd) parse() {
	for len(s.in) >= seatdHeaderSize {
		op := binary.NativeEndian.Uint16(s.in)
		size := int(binary.NativeEndian.Uint16(s.in[2:]))
		if len(s.in) < seatdHeaderSize+size {
			return
		}
		m := seatdMsg{op: op, body: append([]byte(nil), s.in[seatdHeaderSize:seatdHeaderSize+size]...), fd: -1}
		s.in = s.in[seatdHeaderSize+size:]
		if op == seatdDeviceOpened && len(s.fds) > 0 {
			m.fd = s.fds[0]
			s.fds = s.fds[1:]
		}
		s.handle(m)
	}
}

func (s *Seatd) connectionLost(err error) {
	if s.lost != nil || s.closed {
		return
	}
	s.lost = err
	s.active = false
	// A hung-up socket stays readable: stop watching it, or the loop
	// would spin on it.
	if s.unwatch != nil {
		s.unwatch()
		s.unwatch = nil
	}
	if s.started {
		s.log.Error("seatd: connection lost", "err", err)
		s.notify(Event{Kind: Lost, Err: fmt.Errorf("%w: seatd: %v", ErrLost, err), ack: func() {}})
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

func (s *Seatd) handle(m seatdMsg) {
	switch m.op {
	case seatdServerEnable:
		s.active = true
		first := !s.started
		s.started = true
		if first {
			return // OpenSeatd waits for this one
		}
		s.log.Info("seatd: seat enabled", "event", "seatd.seat_enabled")
		s.notify(Event{Kind: Resumed, ack: func() {}})
	case seatdServerDisable:
		s.active = false
		s.log.Info("seatd: seat disabled", "event", "seatd.seat_disabled")
		s.notify(Event{Kind: Paused, ack: once(func() {
			if s.usable() != nil {
				return
			}
			if err := s.write(seatdDisableSeat, nil); err != nil {
				s.log.Warn("seatd: acknowledge disable", "err", err)
			}
		})})
	default:
		s.replies = append(s.replies, m)
	}
}
