package lab

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// seatd's wire protocol (include/protocol.h in seatd): a {uint16 opcode,
// uint16 size} header in host order, then size bytes. Server opcodes have
// bit 15 set.
const (
	seatdOpOpenSeat     = 1
	seatdOpOpenDevice   = 3
	seatdOpSeatOpened   = 1<<15 + 1
	seatdOpDeviceOpened = 1<<15 + 3
	seatdOpEnableSeat   = 1<<15 + 6
	seatdOpError        = 1<<15 + 0x7fff
)

// ProbeSeatd opens the seat through the seatd daemon at socket and then
// the DRM device at devPath, the way a libseat client does, and returns
// the seat name and the device's driver. The guest's seatd scenario uses
// it to show that the session really hands out devices; it is not the
// compositor's client (package seat is).
func ProbeSeatd(socket, devPath string) (seat, driver string, err error) {
	conn, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return "", "", fmt.Errorf("connect to seatd: %w", err)
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	uc.SetDeadline(time.Now().Add(10 * time.Second))

	if err := seatdSend(uc, seatdOpOpenSeat, nil); err != nil {
		return "", "", err
	}
	op, body, _, err := seatdRecv(uc, seatdOpSeatOpened)
	if err != nil {
		return "", "", err
	}
	if op != seatdOpSeatOpened || len(body) < 2 {
		return "", "", fmt.Errorf("seatd: open seat answered opcode %#x", op)
	}
	n := int(binary.NativeEndian.Uint16(body))
	if n < 1 || 2+n > len(body) {
		return "", "", fmt.Errorf("seatd: bad seat name length %d", n)
	}
	// Whether the length counts a terminating NUL is not something to
	// depend on.
	seat = strings.TrimRight(string(body[2:2+n]), "\x00")

	path := append([]byte(devPath), 0)
	req := binary.NativeEndian.AppendUint16(nil, uint16(len(path)))
	if err := seatdSend(uc, seatdOpOpenDevice, append(req, path...)); err != nil {
		return seat, "", err
	}
	op, _, fd, err := seatdRecv(uc, seatdOpDeviceOpened)
	if err != nil {
		return seat, "", err
	}
	if op != seatdOpDeviceOpened || fd < 0 {
		return seat, "", fmt.Errorf("seatd: open %s answered opcode %#x without a file", devPath, op)
	}
	f := os.NewFile(uintptr(fd), devPath)
	defer f.Close()
	driver, err = DRMDriverOf(f)
	return seat, driver, err
}

func seatdSend(c *net.UnixConn, op uint16, body []byte) error {
	msg := binary.NativeEndian.AppendUint16(nil, op)
	msg = binary.NativeEndian.AppendUint16(msg, uint16(len(body)))
	if _, err := c.Write(append(msg, body...)); err != nil {
		return fmt.Errorf("seatd: send opcode %d: %w", op, err)
	}
	return nil
}

// seatdRecv reads messages until one with opcode want or an error, and
// returns it with any passed file descriptor (-1 if none). Enable-seat
// notifications that arrive in between are skipped.
func seatdRecv(c *net.UnixConn, want uint16) (uint16, []byte, int, error) {
	for {
		hdr := make([]byte, 4)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := c.ReadMsgUnix(hdr, oob)
		if err != nil {
			return 0, nil, -1, fmt.Errorf("seatd: read: %w", err)
		}
		if n != 4 {
			return 0, nil, -1, fmt.Errorf("seatd: short header (%d bytes)", n)
		}
		fd := -1
		if oobn > 0 {
			msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err == nil && len(msgs) > 0 {
				if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) > 0 {
					fd = fds[0]
				}
			}
		}
		op := binary.NativeEndian.Uint16(hdr)
		size := int(binary.NativeEndian.Uint16(hdr[2:]))
		body := make([]byte, size)
		for got := 0; got < size; {
			m, oobn2, _, _, err := c.ReadMsgUnix(body[got:], oob)
			if err != nil {
				return 0, nil, -1, fmt.Errorf("seatd: read body: %w", err)
			}
			if oobn2 > 0 && fd < 0 {
				if msgs, err := unix.ParseSocketControlMessage(oob[:oobn2]); err == nil && len(msgs) > 0 {
					if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) > 0 {
						fd = fds[0]
					}
				}
			}
			got += m
		}
		switch op {
		case want:
			return op, body, fd, nil
		case seatdOpEnableSeat:
			continue
		case seatdOpError:
			errno := 0
			if len(body) >= 4 {
				errno = int(int32(binary.NativeEndian.Uint32(body)))
			}
			return op, nil, -1, fmt.Errorf("seatd error: %w", unix.Errno(errno))
		}
		if fd >= 0 {
			unix.Close(fd)
		}
		return op, body, -1, fmt.Errorf("seatd: unexpected opcode %#x", op)
	}
}
