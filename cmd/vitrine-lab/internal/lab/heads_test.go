package lab

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
)

// fakeRFB plays QEMU's VNC server: handshake, then it reads SetEncodings
// and SetDesktopSize, reports the size asked for on got, and answers
// with its own ExtendedDesktopSize report followed by the answer to the
// request with the given status.
func fakeRFB(t *testing.T, conn net.Conn, status uint16, got chan<- [2]uint16) {
	defer conn.Close()
	w := func(b []byte) {
		if _, err := conn.Write(b); err != nil {
			t.Errorf("fake server write: %v", err)
		}
	}
	w([]byte("RFB 003.008\n"))
	var buf [64]byte
	io.ReadFull(conn, buf[:12])
	w([]byte{1, 1})
	io.ReadFull(conn, buf[:1]) // chosen security type
	w([]byte{0, 0, 0, 0})
	io.ReadFull(conn, buf[:1]) // ClientInit
	init := binary.BigEndian.AppendUint16(nil, 640)
	init = binary.BigEndian.AppendUint16(init, 480)
	init = append(init, make([]byte, 16)...)
	init = binary.BigEndian.AppendUint32(init, 4)
	w(append(init, "QEMU"...))
	// SetEncodings with one encoding: 4 + 4 bytes.
	io.ReadFull(conn, buf[:8])
	if buf[0] != rfbSetEncodings || int32(binary.BigEndian.Uint32(buf[4:8])) != rfbExtendedDesktopSize {
		t.Errorf("SetEncodings = % x", buf[:8])
	}
	// SetDesktopSize with one screen: 8 + 16 bytes.
	io.ReadFull(conn, buf[:24])
	if buf[0] != rfbSetDesktopSize || buf[6] != 1 {
		t.Errorf("SetDesktopSize = % x", buf[:24])
	}
	got <- [2]uint16{binary.BigEndian.Uint16(buf[2:4]), binary.BigEndian.Uint16(buf[4:6])}
	report := func(reason, status uint16) []byte {
		b := []byte{rfbFramebufferUpdate, 0, 0, 1}
		for _, v := range []uint16{reason, status, 640, 480} {
			b = binary.BigEndian.AppendUint16(b, v)
		}
		enc := int32(rfbExtendedDesktopSize)
		b = binary.BigEndian.AppendUint32(b, uint32(enc))
		b = append(b, 1, 0, 0, 0)
		return append(b, make([]byte, 16)...)
	}
	w([]byte{rfbBell})
	w(report(0, 0))
	w(report(1, status))
}

func TestSetHeadSize(t *testing.T) {
	for _, tc := range []struct {
		status  uint16
		w, h    int
		wantErr string
	}{
		{status: 4, w: 1024, h: 768},
		{status: 0, w: 0, h: 0},
		{status: 3, w: 800, h: 600, wantErr: "cannot change its size"},
	} {
		a, b := net.Pipe()
		got := make(chan [2]uint16, 1)
		go fakeRFB(t, b, tc.status, got)
		err := rfbSetSize(a, tc.w, tc.h)
		a.Close()
		if tc.wantErr == "" && err != nil {
			t.Errorf("status %d: %v", tc.status, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("status %d: error %v, want one containing %q", tc.status, err, tc.wantErr)
		}
		if g := <-got; g != [2]uint16{uint16(tc.w), uint16(tc.h)} {
			t.Errorf("the server was asked for %dx%d, want %dx%d", g[0], g[1], tc.w, tc.h)
		}
	}
}

func TestParseHeadTarget(t *testing.T) {
	cfg := &Config{Displays: []string{"virtio-dual", "cirrus"}}
	for _, tc := range []struct {
		in      string
		dev     string
		head    int
		wantErr bool
	}{
		{in: "", dev: "virtio-dual"},
		{in: "virtio-dual:1", dev: "virtio-dual", head: 1},
		{in: "cirrus", dev: "cirrus"},
		{in: "virtio-dual:2", wantErr: true},
		{in: "cirrus:1", wantErr: true},
		{in: "virtio-dual:x", wantErr: true},
		{in: "bochs", wantErr: true},
	} {
		dev, head, err := parseHeadTarget(cfg, tc.in)
		if (err != nil) != tc.wantErr || dev != tc.dev || head != tc.head {
			t.Errorf("parseHeadTarget(%q) = %q, %d, %v; want %q, %d, error %v", tc.in, dev, head, err, tc.dev, tc.head, tc.wantErr)
		}
	}
	for in, want := range map[string][2]int{"1024x768": {1024, 768}, "off": {0, 0}} {
		if w, h, err := parseHeadSize(in); err != nil || [2]int{w, h} != want {
			t.Errorf("parseHeadSize(%q) = %d, %d, %v", in, w, h, err)
		}
	}
	for _, bad := range []string{"0x0", "1024", "x768", "99999x10", "on"} {
		if _, _, err := parseHeadSize(bad); err == nil {
			t.Errorf("parseHeadSize(%q) succeeded", bad)
		}
	}
}
