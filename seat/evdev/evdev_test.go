package evdev

import (
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestDecodeBothLayouts(t *testing.T) {
	ev := Event{Time: 3*time.Second + 250*time.Microsecond, Type: EvKey, Code: KeyA, Value: 1}
	for _, ws := range []int{4, 8} {
		b := Encode(nil, ev, ws)
		if len(b) != SizeFor(ws) {
			t.Fatalf("word %d: encoded %d bytes, want %d", ws, len(b), SizeFor(ws))
		}
		if got := Decode(b, ws); got != ev {
			t.Fatalf("word %d: decoded %v, want %v", ws, got, ev)
		}
	}
	if SizeFor(8) != 24 || SizeFor(4) != 16 {
		t.Fatal("input_event must be 24 bytes on 64-bit and 16 on 32-bit")
	}
	if Size != SizeFor(int(unsafe.Sizeof(uintptr(0)))) {
		t.Fatalf("Size %d does not match this architecture", Size)
	}
}

// A kernel-layout event built by hand: the decoder must not depend on its
// own encoder being right.
func TestDecodeKernelBytes64(t *testing.T) {
	b := []byte{
		5, 0, 0, 0, 0, 0, 0, 0, // tv_sec 5
		0x10, 0x27, 0, 0, 0, 0, 0, 0, // tv_usec 10000
		3, 0, // EV_ABS
		0x35, 0, // ABS_MT_POSITION_X
		0xff, 0xff, 0xff, 0xff, // -1
	}
	got := Decode(b, 8)
	want := Event{Time: 5*time.Second + 10*time.Millisecond, Type: EvAbs, Code: AbsMTPositionX, Value: -1}
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDecodeAllKeepsPartial(t *testing.T) {
	var b []byte
	for i := range 3 {
		b = Encode(b, Event{Type: EvRel, Code: RelX, Value: int32(i)}, 8)
	}
	b = b[:len(b)-5]
	evs, rest := DecodeAll(nil, b, 8)
	if len(evs) != 2 || evs[1].Value != 1 || len(rest) != 24-5 {
		t.Fatalf("got %d events, %d rest bytes", len(evs), len(rest))
	}
}

func TestDecodeFromPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := []Event{
		{Type: EvKey, Code: KeyA, Value: 1},
		{Type: EvSyn, Code: SynReport},
		{Type: EvKey, Code: KeyA, Value: 0},
		{Type: EvSyn, Code: SynReport},
	}
	var b []byte
	for _, e := range in {
		b = Encode(b, e, WordSize)
	}
	// Split writes mid-event to exercise reassembly.
	go func() { w.Write(b[:10]); w.Write(b[10:]); w.Close() }()
	var got []Event
	var pending []byte
	buf := make([]byte, 7)
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		got, pending = DecodeAll(got, pending, WordSize)
		if err != nil {
			break
		}
	}
	if len(got) != len(in) {
		t.Fatalf("decoded %d events, want %d", len(got), len(in))
	}
	for i := range in {
		if got[i] != in[i] {
			t.Fatalf("event %d: %v, want %v", i, got[i], in[i])
		}
	}
}

func TestParseBitmap(t *testing.T) {
	// virtio-tablet style "abs" and a keyboard "key" line as sysfs prints
	// them on 64-bit: most significant long first.
	abs, err := ParseBitmap("3", 8)
	if err != nil || !abs.Has(AbsX) || !abs.Has(AbsY) || abs.Has(2) {
		t.Fatalf("abs 3: %v", err)
	}
	key, err := ParseBitmap("10000 0 0 0 0 0", 8)
	if err != nil {
		t.Fatal(err)
	}
	// 0x10000 in the top of 6 longs: bit 5*64+16 = 336.
	if !key.Has(336) || key.Has(16) {
		t.Fatal("word order wrong")
	}
	key32, _ := ParseBitmap("1 0", 4)
	if !key32.Has(32) {
		t.Fatal("32-bit word size ignored")
	}
	if _, err := ParseBitmap("zz", 8); err == nil {
		t.Fatal("accepted garbage")
	}
}

func writeCaps(t *testing.T, dir, name string, files map[string]string) {
	d := filepath.Join(dir, name, "device", "capabilities")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range files {
		p := filepath.Join(d, k)
		if k == "name" {
			p = filepath.Join(dir, name, "device", "name")
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	// Values as QEMU's virtio devices and a typical touchscreen show them.
	writeCaps(t, dir, "event0", map[string]string{"name": "QEMU Virtio Keyboard", "ev": "120013",
		"key": "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe"})
	writeCaps(t, dir, "event1", map[string]string{"name": "QEMU Virtio Tablet", "ev": "1f", "key": "1f0000 0 0 0 0",
		"abs": "3", "rel": "1c0"})
	writeCaps(t, dir, "event2", map[string]string{"name": "Mouse", "ev": "17", "key": "70000 0 0 0 0", "rel": "903"})
	writeCaps(t, dir, "event3", map[string]string{"name": "Touch", "ev": "b", "key": "400 0 0 0 0 0",
		"abs": "261800000000003"})
	writeCaps(t, dir, "event4", map[string]string{"name": "Power Button", "ev": "3", "key": "10000000000000 0"})
	want := map[string]string{"event0": "keyboard", "event1": "tablet", "event2": "pointer", "event3": "touch", "event4": "none"}
	for name, w := range want {
		info, err := ReadSysfs(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Caps.String(); got != w {
			t.Errorf("%s (%s): %s, want %s", name, info.Dev, got, w)
		}
	}
}

func TestParseUevent(t *testing.T) {
	msg := []byte("add@/devices/virtual/input/input7/event5\x00ACTION=add\x00DEVPATH=/devices/virtual/input/input7/event5\x00SUBSYSTEM=input\x00MAJOR=13\x00MINOR=69\x00DEVNAME=input/event5\x00SEQNUM=1234\x00")
	u, err := ParseUevent(msg)
	if err != nil {
		t.Fatal(err)
	}
	if u.Action != "add" || u.EventNode() != "event5" {
		t.Fatalf("got %+v node %q", u, u.EventNode())
	}
	u2, _ := ParseUevent([]byte("add@/devices/virtual/input/input7\x00ACTION=add\x00SUBSYSTEM=input\x00"))
	if u2.EventNode() != "" {
		t.Fatal("input parent device taken for an event node")
	}
	if _, err := ParseUevent([]byte("libudev\x00\xfe\xed")); err == nil {
		t.Fatal("udev broadcast accepted")
	}
}

// The monitor is read from an event loop: Dispatch must return at once
// when nothing is queued, drop what userspace forges, and deliver what
// the kernel sends (a "change" written to a device's uevent file makes
// the kernel announce it).
func TestUeventMonitorDispatch(t *testing.T) {
	m, err := ListenUevents()
	if err != nil {
		t.Skipf("no uevent netlink here: %v", err)
	}
	defer m.Close()
	var got []Uevent
	var nullChanged bool
	collect := func(msg []byte) {
		if u, err := ParseUevent(msg); err == nil {
			got = append(got, u)
			nullChanged = nullChanged || u.Action == "change" && u.DevPath == "/devices/virtual/mem/null"
		}
	}
	if err := m.Dispatch(collect); err != nil || len(got) != 0 {
		t.Fatalf("empty socket: %v, %d uevents", err, len(got))
	}

	// A forged uevent from userspace, to the kernel's group (needs
	// CAP_NET_ADMIN; without it there is nothing to forge).
	if s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT); err == nil {
		forged := []byte("add@/devices/virtual/input/input9/event9\x00ACTION=add\x00SUBSYSTEM=input\x00DEVNAME=input/event9\x00")
		if unix.Sendto(s, forged, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}) == nil {
			time.Sleep(20 * time.Millisecond)
		}
		unix.Close(s)
	}

	const trigger = "/sys/devices/virtual/mem/null/uevent"
	kernelSends := os.WriteFile(trigger, []byte("change"), 0) == nil
	deadline := time.Now().Add(2 * time.Second)
	for kernelSends && !nullChanged && time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(m.FD()), Events: unix.POLLIN}}
		unix.Poll(fds, 100)
		if err := m.Dispatch(collect); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Dispatch(collect); err != nil {
		t.Fatal(err)
	}
	for _, u := range got {
		if u.EventNode() == "event9" {
			t.Fatalf("a uevent forged by userspace was delivered: %+v", u)
		}
	}
	if !kernelSends {
		t.Skipf("cannot make the kernel send a uevent (%s not writable)", trigger)
	}
	if !nullChanged {
		t.Fatalf("got %+v, want the kernel's change of /devices/virtual/mem/null", got)
	}
}
