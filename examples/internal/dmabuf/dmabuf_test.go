package dmabuf

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/neurlang/wayland/wl"
	"golang.org/x/sys/unix"
)

// TestIoctlNumbers compares the computed request numbers with the values
// the kernel headers give on 64-bit Linux (linux/dma-buf.h,
// linux/dma-heap.h, linux/udmabuf.h, drm/drm.h).
func TestIoctlNumbers(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("header values below are for 64-bit targets")
	}
	cases := []struct {
		name      string
		got, want uintptr
	}{
		{"DRM_IOCTL_MODE_CREATE_DUMB", ioctlModeCreateDumb, 0xc02064b2},
		{"DRM_IOCTL_MODE_MAP_DUMB", ioctlModeMapDumb, 0xc01064b3},
		{"DRM_IOCTL_MODE_DESTROY_DUMB", ioctlModeDestroyDumb, 0xc00464b4},
		{"DRM_IOCTL_PRIME_HANDLE_TO_FD", ioctlPrimeHandleToFD, 0xc00c642d},
		{"DRM_IOCTL_VERSION", ioctlDRMVersion, 0xc0406400},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

func TestStructSizes(t *testing.T) {
	// 3 ints, then 6 size_t/pointers: padded after the ints on 64-bit.
	drmVersionSize := uintptr(64)
	if unsafe.Sizeof(uintptr(0)) == 4 {
		drmVersionSize = 36
	}
	cases := []struct {
		name      string
		got, want uintptr
	}{
		{"drm_mode_create_dumb", unsafe.Sizeof(drmModeCreateDumb{}), 32},
		{"drm_mode_map_dumb", unsafe.Sizeof(drmModeMapDumb{}), 16},
		{"drm_prime_handle", unsafe.Sizeof(drmPrimeHandle{}), 12},
		{"drm_version", unsafe.Sizeof(drmVersion{}), drmVersionSize},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("sizeof(%s) = %d, want %d", c.name, c.got, c.want)
		}
	}
	if off := unsafe.Offsetof(drmModeCreateDumb{}.Size); off != 24 {
		t.Errorf("drm_mode_create_dumb.size at %d, want 24", off)
	}
}

func TestSyncFlags(t *testing.T) {
	if drmCloexec != 0x80000 || drmRDWR != 2 {
		t.Errorf("DRM_CLOEXEC=%#x DRM_RDWR=%#x", drmCloexec, drmRDWR)
	}
}

func TestSyncOnNonDMABufFails(t *testing.T) {
	fd, err := unix.MemfdCreate("not-a-dmabuf", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skipf("memfd_create: %v", err)
	}
	defer unix.Close(fd)
	b := &Buf{FD: fd}
	err = b.BeginWrite()
	if err == nil || !strings.Contains(err.Error(), "DMA_BUF_IOCTL_SYNC") {
		t.Fatalf("BeginWrite on a memfd: %v, want a DMA_BUF_IOCTL_SYNC error", err)
	}
}

func TestStrideAndPages(t *testing.T) {
	if got := alignStride(640); got != 2560 {
		t.Errorf("alignStride(640) = %d", got)
	}
	if got := alignStride(641); got != 2816 {
		t.Errorf("alignStride(641) = %d, want 2816", got)
	}
	p := os.Getpagesize()
	if got := pageAlign(1); got != p {
		t.Errorf("pageAlign(1) = %d, want %d", got, p)
	}
	if got := pageAlign(2 * p); got != 2*p {
		t.Errorf("pageAlign(2p) = %d", got)
	}
}

func TestOpenErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"bogus":                  "unknown allocator",
		"dumb":                   "needs a card node",
		"dumb:/nonexistent/card": "open /nonexistent/card",
		"dma-heap:nope":          "/dev/dma_heap/nope",
	} {
		if _, err := Open(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", spec, err, want)
		}
	}
	if _, err := findDriverCard(t.TempDir(), "vgem"); err == nil || !strings.Contains(err.Error(), "modprobe vgem") {
		t.Errorf("findDriverCard in an empty dir: %v", err)
	}
}

func array(b []byte) []byte {
	out := binary.NativeEndian.AppendUint32(nil, uint32(len(b)))
	out = append(out, b...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

func devBytes(major, minor uint32) []byte {
	return binary.NativeEndian.AppendUint64(nil, unix.Mkdev(major, minor))
}

func TestFeedbackDecoding(t *testing.T) {
	var got []FeedbackState
	f := &Feedback{OnDone: func(s FeedbackState) { got = append(got, s) }}
	idx := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.NativeEndian.AppendUint16(b, x)
		}
		return b
	}
	events := []wl.Event{
		{Opcode: 2, Data: array(devBytes(226, 0))},
		{Opcode: 4, Data: array(devBytes(226, 1))},
		{Opcode: 6, Data: binary.NativeEndian.AppendUint32(nil, 1)},
		{Opcode: 5, Data: array(idx(0, 1, 2))}, // odd count: 6 bytes + padding
		{Opcode: 3},
		{Opcode: 4, Data: array(devBytes(226, 0))},
		{Opcode: 6, Data: binary.NativeEndian.AppendUint32(nil, 0)},
		{Opcode: 5, Data: array(idx(3))},
		{Opcode: 3},
		{Opcode: 0},
	}
	for i := range events {
		f.Dispatch(&events[i])
	}
	if f.Err != nil {
		t.Fatalf("decode error: %v", f.Err)
	}
	if len(got) != 1 {
		t.Fatalf("%d done callbacks, want 1", len(got))
	}
	s := got[0]
	if s.MainDevice != unix.Mkdev(226, 0) {
		t.Errorf("main device %s", Dev(s.MainDevice))
	}
	if len(s.Tranches) != 2 {
		t.Fatalf("%d tranches, want 2", len(s.Tranches))
	}
	t0, t1 := s.Tranches[0], s.Tranches[1]
	if Dev(t0.TargetDevice) != "226:1" || t0.Flags != 1 || len(t0.Indices) != 3 || t0.Indices[2] != 2 {
		t.Errorf("tranche 0 = %+v", t0)
	}
	if Dev(t1.TargetDevice) != "226:0" || t1.Flags != 0 || len(t1.Indices) != 1 || t1.Indices[0] != 3 {
		t.Errorf("tranche 1 = %+v", t1)
	}
	// A later update resends tranches only; they must not pile up.
	for _, ev := range []wl.Event{{Opcode: 4, Data: array(devBytes(226, 0))}, {Opcode: 5, Data: array(idx(1))}, {Opcode: 3}, {Opcode: 0}} {
		f.Dispatch(&ev)
	}
	if len(got) != 2 || len(got[1].Tranches) != 1 || got[1].MainDevice != unix.Mkdev(226, 0) {
		t.Fatalf("update: %+v", got[len(got)-1])
	}
}

func TestFeedbackTruncated(t *testing.T) {
	f := &Feedback{}
	f.Dispatch(&wl.Event{Opcode: 2, Data: binary.NativeEndian.AppendUint32(nil, 64)})
	if f.Err == nil {
		t.Fatalf("array longer than the message accepted")
	}
}

func table(entries ...FormatModifier) []FormatModifier {
	var b []byte
	for _, e := range entries {
		b = binary.NativeEndian.AppendUint32(b, e.Format)
		b = binary.NativeEndian.AppendUint32(b, 0)
		b = binary.NativeEndian.AppendUint64(b, e.Modifier)
	}
	t, err := ParseFormatTable(b)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseFormatTable(t *testing.T) {
	want := []FormatModifier{{FormatXRGB8888, ModLinear}, {0x34325241, 0x0100000000000001}}
	got := table(want...)
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := ParseFormatTable(make([]byte, 15)); err == nil {
		t.Fatalf("15-byte table accepted")
	}
}

func TestChoose(t *testing.T) {
	const argb = 0x34325241
	tiled := uint64(0x0100000000000001)
	tab := table(
		FormatModifier{FormatXRGB8888, tiled},      // 0
		FormatModifier{FormatXRGB8888, ModInvalid}, // 1
		FormatModifier{FormatXRGB8888, ModLinear},  // 2
		FormatModifier{argb, ModLinear},            // 3
	)
	cases := []struct {
		name     string
		tranches []Tranche
		want     Choice
		wantErr  bool
	}{
		{"linear beats implicit in a tranche", []Tranche{{Indices: []uint16{0, 1, 2}}}, Choice{0, FormatXRGB8888, ModLinear}, false},
		{"first tranche wins", []Tranche{{Indices: []uint16{1}}, {Indices: []uint16{2}}}, Choice{0, FormatXRGB8888, ModInvalid}, false},
		{"skip tranche without linear", []Tranche{{Indices: []uint16{0, 3}}, {Indices: []uint16{2}}}, Choice{1, FormatXRGB8888, ModLinear}, false},
		{"out of range index ignored", []Tranche{{Indices: []uint16{99, 2}}}, Choice{0, FormatXRGB8888, ModLinear}, false},
		{"nothing usable", []Tranche{{Indices: []uint16{0, 3}}}, Choice{}, true},
	}
	for _, c := range cases {
		got, err := Choose(FeedbackState{Table: tab, Tranches: c.tranches})
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v (error %v)", c.name, got, err, c.want, c.wantErr)
		}
	}
	if ch, err := ChooseFromModifiers([]FormatModifier{{FormatXRGB8888, tiled}, {FormatXRGB8888, ModInvalid}}); err != nil || ch.Modifier != ModInvalid || ch.Tranche != -1 {
		t.Errorf("ChooseFromModifiers implicit: %+v %v", ch, err)
	}
	if _, err := ChooseFromModifiers([]FormatModifier{{argb, ModLinear}}); err == nil {
		t.Errorf("ChooseFromModifiers without XR24: no error")
	}
}

func TestNamesAndLines(t *testing.T) {
	if got := FourCC(FormatXRGB8888); got != "XR24" {
		t.Errorf("FourCC = %q", got)
	}
	if got := FourCC(1); got != "0x00000001" {
		t.Errorf("FourCC(1) = %q", got)
	}
	if ModifierName(ModLinear) != "linear" || ModifierName(ModInvalid) != "invalid" || ModifierName(5) != "vendor" {
		t.Errorf("modifier names wrong")
	}
	fb := FeedbackState{
		MainDevice: unix.Mkdev(226, 0),
		Table:      table(FormatModifier{FormatXRGB8888, ModLinear}, FormatModifier{0x34325241, ModLinear}),
		Tranches:   []Tranche{{TargetDevice: unix.Mkdev(226, 1), Flags: 1, Indices: []uint16{0, 1}}},
	}
	want := []string{
		"feedback main_device=226:0 format_table_entries=2 tranches=1",
		"feedback-tranche index=0 target_device=226:1 flags=0x1 scanout=true formats=2 xr24_modifiers=1",
	}
	got := FeedbackLines("feedback", fb)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
