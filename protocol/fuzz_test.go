package protocol

import (
	"encoding/binary"
	"io"
	"log/slog"
	"testing"

	"golang.org/x/sys/unix"
)

// fuzzInterface has a request for every argument type, so the decoder
// sees each of them at every offset the fuzzer finds.
var fuzzInterface = &Interface{
	Name:    "vitrine_fuzz",
	Version: 1,
	Requests: []Message{
		{Name: "ints", Since: 1, Signature: "iuf"},
		{Name: "strings", Since: 1, Signature: "s?sa"},
		{Name: "objects", Since: 1, Signature: "o?on"},
		{Name: "fds", Since: 1, Signature: "hih"},
		{Name: "destroy", Since: 1, Signature: "", Destructor: true},
	},
}

// fuzzObject decodes its requests by their signature, as generated code
// does, and closes every fd it takes.
type fuzzObject struct{ Resource }

func (o *fuzzObject) Dispatch(op uint16, r *Reader) error {
	sig := o.iface.Requests[op].Signature
	var newID uint32
	for i := 0; i < len(sig); i++ {
		nullable := sig[i] == '?'
		if nullable {
			i++
		}
		switch sig[i] {
		case 'i', 'u', 'f':
			r.Uint()
		case 's':
			r.String()
		case 'a':
			r.Array()
		case 'o':
			id := r.Uint()
			if r.Err() == nil {
				if _, err := Arg[*fuzzObject](o.client, id, nullable, fuzzInterface.Name); err != nil {
					return err
				}
			}
		case 'n':
			newID = r.Uint()
		case 'h':
			if fd := r.FD(); fd >= 0 {
				unix.Close(fd)
			}
		}
	}
	if err := r.Finish(); err != nil {
		return err
	}
	if newID != 0 {
		return Register(o.client, &fuzzObject{}, fuzzInterface, newID, 1)
	}
	return nil
}

// FuzzDispatch feeds the wire decoder arbitrary bytes with fds queued
// beside them, and checks the fd accounting: every fd the client sent is
// either taken by a request (and closed by its handler) or closed when
// the client goes, none twice. The first byte is how many fds come with
// the data.
func FuzzDispatch(f *testing.F) {
	msg := func(id uint32, op uint16, words ...uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, id)
		b = binary.LittleEndian.AppendUint32(b, uint32(8+4*len(words))<<16|uint32(op))
		for _, w := range words {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
		return b
	}
	f.Add(append([]byte{0}, msg(2, 0, 1, 2, 3)...))
	f.Add(append([]byte{2}, msg(2, 3, 7)...))
	f.Add(append([]byte{1}, append(msg(2, 2, 2, 0, 3), msg(3, 1, 3, 'a'|'b'<<8, 0, 0)...)...))
	f.Add(append([]byte{0}, msg(2, 1, 4, 'x'|'y'<<8|'z'<<16, 0, 2, 'h'|'i'<<8)...))
	f.Add(append([]byte{3}, append(msg(1, 0, 9), msg(2, 4)...)...))

	srv, err := NewServer(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxObjects: 64, MaxFDs: 16})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		nfds := int(data[0] % 8)
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(pair[1])
		c, err := newClient(srv, pair[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := Register(c, &fuzzObject{}, fuzzInterface, 2, 1); err != nil {
			t.Fatal(err)
		}
		srv.clients = append(srv.clients, c)
		sent := make([]int, nfds)
		for i := range sent {
			fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			sent[i] = fd
		}
		c.inFDs = append(c.inFDs, sent...)
		c.in = append(c.in, data[1:]...)
		c.dispatch()
		c.eof = true
		c.dispatch()
		c.Close()
		c.closeSocket() // the loop would, once the error has left
		for _, fd := range sent {
			// Closed by a handler or by the disconnect; fds are not
			// reopened meanwhile, so EBADF means this one is gone.
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
				unix.Close(fd)
				t.Fatalf("fd %d the client sent is still open after it left", fd)
			}
		}
		if len(srv.clients) != 0 {
			t.Fatalf("%d clients left on the server", len(srv.clients))
		}
	})
}
