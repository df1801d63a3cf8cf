package main

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Bytes and file descriptors cross the proxy both ways unchanged, and
// what crosses is counted.
func TestProxyForwardsBytesAndFDs(t *testing.T) {
	dir := t.TempDir()
	upstream := filepath.Join(dir, "compositor")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: upstream, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	px, err := listenProxy(filepath.Join(dir, "proxy"), upstream, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer px.close()

	client, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: filepath.Join(dir, "proxy"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.SetDeadline(time.Now().Add(5 * time.Second))
	server, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	server.SetDeadline(time.Now().Add(5 * time.Second))

	// A memfd sent with a request, as wl_shm.create_pool does.
	fd, err := unix.MemfdCreate("proxy-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skipf("memfd_create: %v", err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	defer f.Close()
	if _, err := f.WriteString("pixels"); err != nil {
		t.Fatal(err)
	}
	var req []byte
	req = appendMessage(req, displayID, displayGetRegistry, u32(2))
	req = appendMessage(req, 2, registryBind, append(append(appendString(u32(1), "wl_compositor"), u32(4)...), u32(3)...))
	req = appendMessage(req, 3, compositorCreateSurface, u32(4))
	req = appendMessage(req, 4, surfaceFrame, u32(5))
	req = appendMessage(req, 4, surfaceCommit, nil)
	if _, _, err := client.WriteMsgUnix(req, unix.UnixRights(fd), nil); err != nil {
		t.Fatal(err)
	}

	got := make([]byte, len(req))
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := server.ReadMsgUnix(got, oob)
	if err != nil {
		t.Fatal(err)
	}
	for n < len(req) { // a stream may deliver the bytes in pieces
		m, err := server.Read(got[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	if string(got) != string(req) {
		t.Fatal("request bytes changed on the way")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v; want one with the memfd", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("fds %v, %v", fds, err)
	}
	passed := os.NewFile(uintptr(fds[0]), "passed")
	defer passed.Close()
	content := make([]byte, 6)
	if _, err := passed.ReadAt(content, 0); err != nil || string(content) != "pixels" {
		t.Fatalf("the passed fd reads %q, %v; want the memfd's content", content, err)
	}

	ev := appendMessage(nil, 5, callbackDone, u32(1))
	if _, err := server.Write(ev); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(ev))
	if _, err := io.ReadFull(client, back); err != nil || string(back) != string(ev) {
		t.Fatalf("event came back as %x, %v", back, err)
	}
	cs := px.counters()
	if len(cs) != 1 {
		t.Fatalf("%d connections counted, want 1", len(cs))
	}
	if c := cs[0].snapshot(); c != (counts{Commits: 1, Frames: 1, Surfaces: 1}) {
		t.Errorf("counted %+v, want one commit, frame and surface", c)
	}
}
