package seat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
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
type Seatd struct {
	log    *slog.Logger
	conn   *net.UnixConn
	socket string
	seat   string
	events *eventQueue

	reqMu    sync.Mutex // one request in flight: seatd replies in order
	writeMu  sync.Mutex
	replies  chan seatdMsg
	readDone chan struct{}
	enabled  chan struct{} // first ENABLE_SEAT, consumed by OpenSeatd

	mu      sync.Mutex
	active  bool
	started bool
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
	path := opt.SeatdSocket
	if path == "" {
		path = os.Getenv("SEATD_SOCK")
	}
	if path == "" {
		path = seatdDefaultSocket
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
			return nil, fmt.Errorf("%w (no socket at %s): start it (rc-service seatd start, or systemctl start seatd) or use --session logind", ErrSeatdNotRunning, path)
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return nil, fmt.Errorf("connect to seatd at %s: %w: %s", path, ErrPermission, groupHint(path))
		}
		return nil, fmt.Errorf("connect to seatd at %s: %w", path, err)
	}
	s := &Seatd{
		log:      opt.logger(),
		conn:     c.(*net.UnixConn),
		socket:   path,
		events:   newEventQueue(),
		replies:  make(chan seatdMsg, 8),
		readDone: make(chan struct{}),
		enabled:  make(chan struct{}),
		devices:  make(map[*os.File]seatdDevice),
	}
	go s.readLoop()
	reply, err := s.request(seatdOpenSeat, nil)
	if err == nil {
		err = replyError(reply, seatdSeatOpened)
	}
	if err != nil {
		s.shutdown()
		if errors.Is(err, ErrLost) {
			// seatd drops a client it refuses a seat instead of replying.
			return nil, fmt.Errorf("open seat through seatd at %s: %w: seatd refused the seat; another compositor holds it on this VT (see seatd's log)", path, ErrDeviceBusy)
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

	timer := time.NewTimer(seatdEnableTimeout)
	defer timer.Stop()
	select {
	case <-s.enabled:
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("open seat %s through seatd: %w: seatd did not make us active within %v; another compositor holds the seat, or vitrine was not started from the seat's active VT", s.seat, ErrDeviceBusy, seatdEnableTimeout)
	case <-s.readDone:
		s.shutdown()
		return nil, fmt.Errorf("open seat %s: %w", s.seat, s.lostErr())
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("open seat %s: %w", s.seat, ctx.Err())
	}
	s.log.Debug("seatd: seat open", "seat", s.seat, "socket", path)
	return s, nil
}

func trimNUL(s string) string {
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}

func (s *Seatd) Kind() string         { return KindSeatd }
func (s *Seatd) SeatName() string     { return s.seat }
func (s *Seatd) Events() <-chan Event { return s.events.out }

func (s *Seatd) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active && s.lost == nil
}

func (s *Seatd) lostErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.conn.Write(msg); err != nil {
		return fmt.Errorf("write to seatd: %w", err)
	}
	return nil
}

// request sends a message and waits for the reply seatd sends for it.
func (s *Seatd) request(op uint16, body []byte) (seatdMsg, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return s.requestLocked(op, body)
}

func (s *Seatd) requestLocked(op uint16, body []byte) (seatdMsg, error) {
	if err := s.write(op, body); err != nil {
		return seatdMsg{}, err
	}
	return s.awaitReply()
}

func (s *Seatd) awaitReply() (seatdMsg, error) {
	timer := time.NewTimer(seatdReplyTimeout)
	defer timer.Stop()
	select {
	case m := <-s.replies:
		return m, nil
	case <-s.readDone:
		// A reply may have been queued just before the connection ended.
		select {
		case m := <-s.replies:
			return m, nil
		default:
		}
		return seatdMsg{}, s.lostErr()
	case <-timer.C:
		return seatdMsg{}, fmt.Errorf("seatd did not answer within %v", seatdReplyTimeout)
	}
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
	s.mu.Lock()
	err := s.usable()
	for _, d := range s.devices {
		if d.path == path {
			err = errors.New("already open in this session")
		}
	}
	s.mu.Unlock()
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
	s.mu.Lock()
	s.devices[f] = seatdDevice{id: id, path: path}
	s.mu.Unlock()
	return f, nil
}

func (s *Seatd) CloseDevice(f *os.File) error {
	s.mu.Lock()
	d, ok := s.devices[f]
	delete(s.devices, f)
	lost := s.lost != nil
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("close device %s: not opened by this session", f.Name())
	}
	var errs []error
	if !lost {
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
	s.mu.Lock()
	err := s.usable()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("switch to VT %d: %w", vt, err)
	}
	body := make([]byte, 4)
	binary.NativeEndian.PutUint32(body, uint32(int32(vt)))
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if err := s.write(seatdSwitchSession, body); err != nil {
		return fmt.Errorf("switch to VT %d: %w", vt, err)
	}
	reply, err := s.requestLocked(seatdPing, nil)
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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	devs := s.devices
	s.devices = nil
	lost := s.lost != nil
	s.mu.Unlock()
	var errs []error
	for f, d := range devs {
		if !lost {
			if err := s.closeDeviceID(d.id); err != nil {
				errs = append(errs, fmt.Errorf("close %s through seatd: %w", d.path, err))
			}
		}
		f.Close()
	}
	if !lost {
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

func (s *Seatd) shutdown() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.conn.Close()
	<-s.readDone
	s.events.close()
}

func (s *Seatd) readLoop() {
	defer close(s.readDone)
	var buf []byte
	var fds []int
	defer func() {
		for _, fd := range fds {
			closeFD(fd)
		}
	}()
	chunk := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*16))
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUnix(chunk, oob)
		if oobn > 0 {
			fds = append(fds, parseRights(oob[:oobn])...)
		}
		if n > 0 {
			buf = append(buf, chunk[:n]...)
		}
		for len(buf) >= seatdHeaderSize {
			op := binary.NativeEndian.Uint16(buf)
			size := int(binary.NativeEndian.Uint16(buf[2:]))
			if len(buf) < seatdHeaderSize+size {
				break
			}
			m := seatdMsg{op: op, body: append([]byte(nil), buf[seatdHeaderSize:seatdHeaderSize+size]...), fd: -1}
			buf = buf[seatdHeaderSize+size:]
			if op == seatdDeviceOpened && len(fds) > 0 {
				m.fd = fds[0]
				fds = fds[1:]
			}
			s.dispatch(m)
		}
		if err != nil || n == 0 {
			s.mu.Lock()
			closed := s.closed
			if !closed && s.lost == nil {
				if err == nil {
					err = errors.New("seatd closed the connection")
				}
				s.lost = err
				s.active = false
			}
			started := s.started
			s.mu.Unlock()
			if !closed && started {
				s.log.Error("seatd: connection lost", "err", err)
				s.events.push(Event{Kind: Lost, Err: fmt.Errorf("%w: seatd: %v", ErrLost, err), ack: func() {}})
			}
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

func (s *Seatd) dispatch(m seatdMsg) {
	switch m.op {
	case seatdServerEnable:
		s.mu.Lock()
		s.active = true
		first := !s.started
		s.started = true
		s.mu.Unlock()
		if first {
			close(s.enabled)
			return
		}
		s.log.Info("seatd: seat enabled")
		s.events.push(Event{Kind: Resumed, ack: func() {}})
	case seatdServerDisable:
		s.mu.Lock()
		s.active = false
		s.mu.Unlock()
		s.log.Info("seatd: seat disabled")
		s.events.push(Event{Kind: Paused, ack: once(func() {
			if err := s.write(seatdDisableSeat, nil); err != nil {
				s.log.Warn("seatd: acknowledge disable", "err", err)
			}
		})})
	default:
		select {
		case s.replies <- m:
		default:
			s.log.Warn("seatd: unexpected message dropped", "opcode", m.op)
			closeFD(m.fd)
		}
	}
}
