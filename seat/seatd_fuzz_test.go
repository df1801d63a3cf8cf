package seat

import (
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzSeatdMessages: a buggy or hostile seatd must not crash vitrine or
// make it leak. Arbitrary bytes (and fds, the first byte says how many)
// arrive on the session socket; Seatd decodes them as the loop would,
// acknowledges what it is told, and after shutdown every fd it was sent
// is closed exactly once.
func FuzzSeatdMessages(f *testing.F) {
	msg := func(op uint16, body ...byte) []byte {
		b := binary.NativeEndian.AppendUint16(nil, op)
		b = binary.NativeEndian.AppendUint16(b, uint16(len(body)))
		return append(b, body...)
	}
	f.Add(append([]byte{0}, msg(seatdServerEnable)...))
	f.Add(append([]byte{0}, append(msg(seatdServerDisable), msg(seatdServerEnable)...)...))
	f.Add(append([]byte{1}, msg(seatdDeviceOpened, 7, 0, 0, 0)...))
	f.Add(append([]byte{2}, msg(seatdError, 13, 0, 0, 0)...))
	f.Add(append([]byte{0}, msg(seatdSeatOpened, 6, 0, 's', 'e', 'a', 't', '0', 0)...))
	f.Add(append([]byte{3}, 0xff, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		nfds := int(data[0] % 8)
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(pair[1])
		var events []Event
		s := &Seatd{
			log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
			fd:      pair[0],
			notify:  func(e Event) { events = append(events, e) },
			chunk:   make([]byte, 4096),
			oob:     make([]byte, unix.CmsgSpace(4*16)),
			devices: make(map[*os.File]seatdDevice),
		}
		sent := make([]int, nfds)
		for i := range sent {
			fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			sent[i] = fd
		}
		var oob []byte
		if nfds > 0 {
			oob = unix.UnixRights(sent...)
		}
		body := data[1:]
		if len(body) == 0 {
			body = []byte{0}
		}
		if err := unix.Sendmsg(pair[1], body, oob, nil, 0); err != nil {
			t.Fatal(err)
		}
		// The receiving end has its own copies now.
		for _, fd := range sent {
			unix.Close(fd)
		}
		before := countFDs(t)
		s.dispatch()
		for _, e := range events {
			if e.ack != nil {
				e.ack()
			}
		}
		unix.Shutdown(pair[1], unix.SHUT_WR)
		s.dispatch()
		s.shutdown()
		// shutdown closed the socket (one fd) and every fd received.
		if after := countFDs(t); after > before-1 {
			t.Fatalf("%d fds open after shutdown, %d before reading: fds seatd sent were kept", after, before)
		}
	})
}
