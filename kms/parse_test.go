package kms

import (
	"encoding/binary"
	"image"
	"reflect"
	"strings"
	"testing"
)

func vblankRecord(typ uint32, user uint64, sec, usec, seq, crtc uint32) []byte {
	b := make([]byte, 32)
	le := binary.NativeEndian
	le.PutUint32(b[0:], typ)
	le.PutUint32(b[4:], 32)
	le.PutUint64(b[8:], user)
	le.PutUint32(b[16:], sec)
	le.PutUint32(b[20:], usec)
	le.PutUint32(b[24:], seq)
	le.PutUint32(b[28:], crtc)
	return b
}

func TestParseEvents(t *testing.T) {
	buf := vblankRecord(EventFlipComplete, 36, 12, 345678, 99, 36)
	// An event type this code does not know is skipped by its length.
	unknown := make([]byte, 16)
	binary.NativeEndian.PutUint32(unknown[0:], 0x80000000)
	binary.NativeEndian.PutUint32(unknown[4:], 16)
	buf = append(buf, unknown...)
	buf = append(buf, vblankRecord(EventVblank, 7, 13, 1, 100, 0)...)
	evs, err := ParseEvents(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []FlipEvent{
		{Type: EventFlipComplete, UserData: 36, Sec: 12, Usec: 345678, Sequence: 99, CrtcID: 36},
		{Type: EventVblank, UserData: 7, Sec: 13, Usec: 1, Sequence: 100},
	}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("got %+v\nwant %+v", evs, want)
	}
	if got := evs[0].Monotonic(); got != 12_345_678_000 {
		t.Errorf("Monotonic = %d ns, want 12345678000", got)
	}
	if _, err := ParseEvents(buf[:40]); err == nil {
		t.Error("truncated record parsed without error")
	}
	bad := vblankRecord(EventFlipComplete, 0, 0, 0, 0, 0)
	binary.NativeEndian.PutUint32(bad[4:], 4)
	if _, err := ParseEvents(bad); err == nil {
		t.Error("record with length 4 parsed without error")
	}
}

// buildInFormats assembles an IN_FORMATS blob the way the kernel lays it
// out: header, formats, then modifiers (each with a format bitmask).
func buildInFormats(formats []uint32, mods []struct {
	mask   uint64
	offset uint32
	mod    uint64
}) []byte {
	le := binary.NativeEndian
	fo := 24
	mo := fo + 4*len(formats)
	mo = (mo + 7) &^ 7
	b := make([]byte, mo+24*len(mods))
	le.PutUint32(b[0:], 1)
	le.PutUint32(b[8:], uint32(len(formats)))
	le.PutUint32(b[12:], uint32(fo))
	le.PutUint32(b[16:], uint32(len(mods)))
	le.PutUint32(b[20:], uint32(mo))
	for i, f := range formats {
		le.PutUint32(b[fo+4*i:], f)
	}
	for i, m := range mods {
		o := mo + 24*i
		le.PutUint64(b[o:], m.mask)
		le.PutUint32(b[o+8:], m.offset)
		le.PutUint64(b[o+16:], m.mod)
	}
	return b
}

func TestParseInFormats(t *testing.T) {
	const tiled = 0x0100000000000001 // I915_FORMAT_MOD_X_TILED
	blob := buildInFormats(
		[]uint32{FormatXRGB8888, FormatARGB8888, FormatRGB565},
		[]struct {
			mask   uint64
			offset uint32
			mod    uint64
		}{
			{0b111, 0, ModifierLinear},
			{0b011, 0, tiled},
		})
	got, err := ParseInFormats(blob)
	if err != nil {
		t.Fatal(err)
	}
	want := []FormatModifiers{
		{FormatXRGB8888, []uint64{ModifierLinear, tiled}},
		{FormatARGB8888, []uint64{ModifierLinear, tiled}},
		{FormatRGB565, []uint64{ModifierLinear}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	// The offset shifts the mask: bit 0 with offset 2 is the third format.
	blob = buildInFormats([]uint32{FormatXRGB8888, FormatARGB8888, FormatRGB565},
		[]struct {
			mask   uint64
			offset uint32
			mod    uint64
		}{{0b1, 2, tiled}})
	got, err = ParseInFormats(blob)
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0].Modifiers) != 0 || !reflect.DeepEqual(got[2].Modifiers, []uint64{tiled}) {
		t.Fatalf("offset not applied: %v", got)
	}
	if _, err := ParseInFormats(blob[:len(blob)-1]); err == nil {
		t.Error("truncated blob parsed without error")
	}
	if _, err := ParseInFormats(blob[:10]); err == nil {
		t.Error("blob shorter than header parsed without error")
	}
	if ModifierName(tiled) != "INTEL(0x1)" || ModifierName(ModifierLinear) != "LINEAR" {
		t.Errorf("ModifierName: %s, %s", ModifierName(tiled), ModifierName(ModifierLinear))
	}
}

func TestDamageRingBufferAge(t *testing.T) {
	bounds := image.Rect(0, 0, 200, 100)
	r := NewDamageRing(3)
	box := func(x int) image.Rectangle { return image.Rect(x, 10, x+20, 30) }

	if rects, full := r.Since(0, bounds); !full || len(rects) != 1 || rects[0] != bounds {
		t.Fatalf("never-drawn buffer: %v full=%v", rects, full)
	}
	r.Add([]image.Rectangle{bounds}) // frame 1: everything
	bufA := r.Seq()                  // buffer A shows frame 1
	r.Add([]image.Rectangle{box(0), box(8)})
	bufB := r.Seq() // buffer B shows frame 2 (it got a full copy)
	r.Add([]image.Rectangle{box(8), box(16)})
	// A (age 2) needs frames 2 and 3: boxes at 0, 8, 16, one rectangle
	// (render.Damage's merge rule; its tests cover the general case).
	rects, full := r.Since(bufA, bounds)
	if full || len(rects) != 1 || rects[0] != image.Rect(0, 10, 36, 30) {
		t.Errorf("age 2: %v full=%v, want (0,10)-(36,30)", rects, full)
	}
	// B (age 1) needs frame 3 only.
	rects, _ = r.Since(bufB, bounds)
	if len(rects) != 1 || rects[0] != image.Rect(8, 10, 36, 30) {
		t.Errorf("age 1: %v, want (8,10)-(36,30)", rects)
	}
	// An up-to-date buffer needs nothing.
	if rects, full := r.Since(r.Seq(), bounds); full || len(rects) != 0 {
		t.Errorf("current buffer: %v full=%v", rects, full)
	}
	// Older than the ring remembers: full.
	r.Add([]image.Rectangle{box(100)})
	r.Add([]image.Rectangle{box(120)})
	if _, full := r.Since(bufA, bounds); !full {
		t.Error("buffer older than the ring not reported full")
	}
	// Damage outside the bounds is clipped away.
	r.Add([]image.Rectangle{image.Rect(190, 90, 300, 300)})
	rects, _ = r.Since(r.Seq()-1, bounds)
	if len(rects) != 1 || rects[0] != image.Rect(190, 90, 200, 100) {
		t.Errorf("clipping: %v", rects)
	}
}

func TestParseModeSpec(t *testing.T) {
	for _, c := range []struct {
		in   string
		want ModeSpec
		ok   bool
	}{
		{"1920x1080", ModeSpec{1920, 1080, 0}, true},
		{"1280x800@60", ModeSpec{1280, 800, 60000}, true},
		{"1920x1080@59.94", ModeSpec{1920, 1080, 59940}, true},
		{" 640x480 ", ModeSpec{640, 480, 0}, true},
		{"1920", ModeSpec{}, false},
		{"x1080", ModeSpec{}, false},
		{"1920x1080@", ModeSpec{}, false},
		{"1920x1080@abc", ModeSpec{}, false},
		{"0x0", ModeSpec{}, false},
		{"-5x10", ModeSpec{}, false},
	} {
		got, err := ParseModeSpec(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseModeSpec(%q) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestPickMode(t *testing.T) {
	modes := []Mode{
		{Width: 3840, Height: 2160, RefreshMilliHz: 30000},
		{Width: 1920, Height: 1080, RefreshMilliHz: 60000, Preferred: true},
		{Width: 1920, Height: 1080, RefreshMilliHz: 50000},
		{Width: 1920, Height: 1080, RefreshMilliHz: 59940},
		{Width: 1280, Height: 720, RefreshMilliHz: 60000},
	}
	check := func(spec *ModeSpec, want Mode) {
		t.Helper()
		got, err := PickMode(modes, spec)
		if err != nil || got != want {
			t.Errorf("PickMode(%v) = %v, %v; want %v", spec, got, err, want)
		}
	}
	check(nil, modes[1])
	check(&ModeSpec{Width: 1920, Height: 1080}, modes[1])
	check(&ModeSpec{Width: 1920, Height: 1080, RefreshMilliHz: 59940}, modes[3])
	check(&ModeSpec{Width: 1920, Height: 1080, RefreshMilliHz: 51000}, modes[2])
	check(&ModeSpec{Width: 3840, Height: 2160, RefreshMilliHz: 60000}, modes[0])
	if _, err := PickMode(modes, &ModeSpec{Width: 800, Height: 600}); err == nil || !strings.Contains(err.Error(), "1280x720") {
		t.Errorf("missing mode: err %v should list the available modes", err)
	}
	if _, err := PickMode(nil, nil); err == nil {
		t.Error("no modes: no error")
	}
	noPref := []Mode{{Width: 1024, Height: 768}, {Width: 800, Height: 600}}
	if m, _ := PickMode(noPref, nil); m != noPref[0] {
		t.Errorf("no preferred mode: got %v, want the first", m)
	}
}

func TestRefreshMilliHz(t *testing.T) {
	// CEA 1920x1080@60: 148.5 MHz, htotal 2200, vtotal 1125 → exactly 60 Hz.
	m := modeInfo{Clock: 148500, Hdisplay: 1920, Htotal: 2200, Vdisplay: 1080, Vtotal: 1125, Vrefresh: 60}
	if got := refreshMilliHz(m); got != 60000 {
		t.Errorf("1080p60: %d mHz", got)
	}
	// 148.35 MHz: the 59.94 Hz variant.
	m.Clock = 148352
	if got := refreshMilliHz(m); got != 59940 {
		t.Errorf("1080p59.94: %d mHz", got)
	}
	if got := refreshMilliHz(modeInfo{Vrefresh: 75}); got != 75000 {
		t.Errorf("no timings: %d mHz, want the vrefresh field", got)
	}
}

func TestParseUevent(t *testing.T) {
	msg := []byte("change@/devices/pci0000:00/0000:00:02.0/drm/card0\x00ACTION=change\x00DEVPATH=/devices/pci0000:00/0000:00:02.0/drm/card0\x00SUBSYSTEM=drm\x00HOTPLUG=1\x00CONNECTOR=37\x00PROPERTY=5\x00DEVNAME=dri/card0\x00DEVTYPE=drm_minor\x00SEQNUM=2201\x00MAJOR=226\x00MINOR=0\x00")
	ev, err := ParseUevent(msg)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Action != "change" || ev.Subsystem != "drm" || ev.Env["SEQNUM"] != "2201" || ev.DevPath != "/devices/pci0000:00/0000:00:02.0/drm/card0" {
		t.Fatalf("parsed %+v", ev)
	}
	h, ok := HotplugFromUevent(ev)
	if !ok || h != (Hotplug{Action: "change", DevName: "dri/card0", Minor: 0, Connector: 37}) {
		t.Fatalf("hotplug %+v ok=%v", h, ok)
	}
	// A card appearing (module loaded) is a hotplug too.
	add, _ := ParseUevent([]byte("add@/devices/virtual/vgem/vgem/drm/card1\x00ACTION=add\x00SUBSYSTEM=drm\x00DEVNAME=dri/card1\x00MINOR=1\x00"))
	if h, ok := HotplugFromUevent(add); !ok || h.Action != "add" || h.Minor != 1 {
		t.Errorf("card add: %+v ok=%v", h, ok)
	}
	for _, m := range []string{
		"change@/devices/x/drm/card0\x00ACTION=change\x00SUBSYSTEM=drm\x00DEVNAME=dri/card0\x00",     // no HOTPLUG=1
		"add@/devices/x/drm/renderD128\x00ACTION=add\x00SUBSYSTEM=drm\x00DEVNAME=dri/renderD128\x00", // render node
		"change@/devices/x/input/input3\x00ACTION=change\x00SUBSYSTEM=input\x00HOTPLUG=1\x00",        // other subsystem
		"add@/devices/x/drm/card0/card0-HDMI-A-1\x00ACTION=add\x00SUBSYSTEM=drm\x00",                 // connector kobject
	} {
		ev, err := ParseUevent([]byte(m))
		if err != nil {
			t.Fatalf("%q: %v", m, err)
		}
		if h, ok := HotplugFromUevent(ev); ok {
			t.Errorf("%q taken as hotplug %+v", m, h)
		}
	}
	if _, err := ParseUevent([]byte("libudev\x00\xfe\xed\xca\xfe")); err == nil {
		t.Error("udev message accepted")
	}
	if _, err := ParseUevent(nil); err == nil {
		t.Error("empty message accepted")
	}
}

func TestParseEDID(t *testing.T) {
	e := make([]byte, 128)
	copy(e, []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00})
	// "RHT": R=18, H=8, T=20 → 0 10010 01000 10100
	m := uint16(18)<<10 | uint16(8)<<5 | 20
	e[8], e[9] = byte(m>>8), byte(m)
	e[10], e[11] = 0x34, 0x12
	name := func(off int, tag byte, s string) {
		e[off+3] = tag
		copy(e[off+5:off+18], []byte(s+"\n            "))
	}
	e[54] = 1 // a detailed timing descriptor, not a display descriptor
	name(72, 0xfc, "QEMU Monitor")
	name(90, 0xff, "SN123")
	info, err := ParseEDID(e)
	if err != nil {
		t.Fatal(err)
	}
	if info != (EDIDInfo{Make: "RHT", Model: "QEMU Monitor", Serial: "SN123"}) {
		t.Errorf("got %+v", info)
	}
	e[72+3] = 0x10 // drop the name: the product code stands in
	if info, _ := ParseEDID(e); info.Model != "0x1234" {
		t.Errorf("no name descriptor: model %q", info.Model)
	}
	e[0] = 1
	if _, err := ParseEDID(e); err == nil {
		t.Error("bad header accepted")
	}
	if _, err := ParseEDID(e[:100]); err == nil {
		t.Error("short EDID accepted")
	}
}

func TestAtomicRequestGroupsByObject(t *testing.T) {
	var r AtomicRequest
	r.Add(10, 1, 100)
	r.Add(20, 5, 500)
	r.Add(10, 2, 200)
	r.Add(10, 1, 101) // replaces
	if r.Len() != 3 {
		t.Fatalf("Len = %d, want 3", r.Len())
	}
	if !reflect.DeepEqual(r.objs, []uint32{10, 20}) ||
		!reflect.DeepEqual(r.props, [][]uint32{{1, 2}, {5}}) ||
		!reflect.DeepEqual(r.values, [][]uint64{{101, 200}, {500}}) {
		t.Errorf("request %+v", r)
	}
}

func TestDamageClipsBlob(t *testing.T) {
	b := damageClipsBlob(new([]modeRect), []Rect{{1, 2, 3, 4}, {10, 20, 30, 40}})
	if len(b) != 32 {
		t.Fatalf("blob %d bytes, want 2×16", len(b))
	}
	var got []int32
	for i := 0; i < 32; i += 4 {
		got = append(got, int32(binary.NativeEndian.Uint32(b[i:])))
	}
	if !reflect.DeepEqual(got, []int32{1, 2, 3, 4, 10, 20, 30, 40}) {
		t.Errorf("blob %v", got)
	}
	if damageClipsBlob(new([]modeRect), nil) != nil {
		t.Error("empty clip list gave a blob")
	}
}

func TestConnectorName(t *testing.T) {
	for _, c := range []struct {
		typ, id uint32
		want    string
	}{{11, 1, "HDMI-A-1"}, {15, 2, "Virtual-2"}, {1, 1, "VGA-1"}, {10, 3, "DP-3"}, {14, 1, "eDP-1"}, {99, 1, "Unknown99-1"}} {
		if got := ConnectorName(c.typ, c.id); got != c.want {
			t.Errorf("ConnectorName(%d, %d) = %q, want %q", c.typ, c.id, got, c.want)
		}
	}
}
