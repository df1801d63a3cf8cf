package lab

import (
	"archive/tar"
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cannedVKMS is a rotation row's output as the guest prints it, with the
// given CRC per run (one value for all lines unless vary is set) and the
// plane_rotation each run's vitrine reports.
type cannedVKMS struct {
	deg                   int
	plane, copy, upright  uint32
	planeRot, copyRot     bool
	vary                  string // tag whose last CRC line differs
	errorIn               string // tag whose vitrine logs an ERROR record
	lines                 int
	taint                 int
	uprightSize, turnSize string
}

func (c cannedVKMS) output() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vkms card1 /sys/kernel/debug/dri/vkms\ntainted=%d\n", c.taint)
	transform := fmt.Sprint(c.deg)
	for i, r := range vkmsRuns(c.deg) {
		crc, rot, tr, size := []uint32{c.plane, c.copy, c.upright}[i], []bool{c.planeRot, c.copyRot, false}[i], transform, c.turnSize
		if r.tag == "upright" {
			tr, size = "normal", c.uprightSize
		}
		for n := 0; n < c.lines; n++ {
			v := crc
			if r.tag == c.vary && n == c.lines-1 {
				v++
			}
			fmt.Fprintf(&b, "%s-crc 0x%08x 0x%08x\n", r.tag, 0x40+n, v)
		}
		fmt.Fprintf(&b, "%s-exit=0\n", r.tag)
		fmt.Fprintf(&b, "%s| {\"time\":\"x\",\"level\":\"INFO\",\"msg\":\"output on\",\"output\":\"Virtual-2\",\"description\":\"vkms Virtual-2\",\"mode\":\"1024x768@60.004\",\"crtc\":38,\"atomic\":true,\"transform\":%q,\"plane_rotation\":%v,\"buffers\":2,\"format\":\"XRGB8888\",\"event\":\"output.on\"}\n", r.tag, tr, rot)
		if c.errorIn == r.tag {
			fmt.Fprintf(&b, "%s| {\"time\":\"x\",\"level\":\"ERROR\",\"msg\":\"commit failed\",\"output\":\"Virtual-2\"}\n", r.tag)
		}
		fmt.Fprintf(&b, "%s| first-frame %s\n", r.tag, size)
	}
	return b.String()
}

// vkmsSeen are the CRCs vkms reported in the lab for the 1024x768
// quadrants (shm-client at vkms's preferred mode), by rotation.
var vkmsSeen = map[int]uint32{0: 0x90ee7f22, 90: 0x0f1b6e5d, 180: 0x735fc5df, 270: 0xecaad4a0}

func goodVKMS(deg int) cannedVKMS {
	c := cannedVKMS{deg: deg, plane: vkmsSeen[deg], copy: vkmsSeen[deg], upright: vkmsSeen[0], planeRot: true,
		lines: vkmsCRCLines, taint: 12288, uprightSize: "1024x768", turnSize: "768x1024"}
	if deg == 180 {
		c.turnSize = "1024x768"
	}
	return c
}

func TestJudgeVKMS(t *testing.T) {
	for _, deg := range []int{90, 180, 270} {
		crcs, err := judgeVKMS(goodVKMS(deg).output(), 0, deg)
		if err != nil {
			t.Errorf("rotate %d: good output judged bad: %v", deg, err)
		}
		if crcs[fmt.Sprintf("plane%d", deg)] != vkmsSeen[deg] || crcs["upright"] != vkmsSeen[0] {
			t.Errorf("rotate %d: CRCs %v", deg, crcs)
		}
	}
	bad := []struct {
		name string
		edit func(*cannedVKMS)
		exit int
		want string
	}{
		{"plane and copy differ", func(c *cannedVKMS) { c.copy = 0x12345678 }, 0, "different picture"},
		// Both paths wrong the same way: only the reference catches it.
		{"both turned the wrong way", func(c *cannedVKMS) { c.plane, c.copy = vkmsSeen[270], vkmsSeen[270] }, 0, "not the (768,1024) quadrants turned 90 degrees (0x0f1b6e5d)"},
		{"upright equals rotated", func(c *cannedVKMS) { c.upright = c.plane }, 0, "prove nothing"},
		{"unstable CRC", func(c *cannedVKMS) { c.vary = "copy90" }, 0, "CRCs vary"},
		{"too few CRCs", func(c *cannedVKMS) { c.lines = 3 }, 0, "3 CRC lines"},
		{"plane did not rotate", func(c *cannedVKMS) { c.planeRot = false }, 0, "plane_rotation=false, want true"},
		{"copy run used the plane", func(c *cannedVKMS) { c.copyRot = true }, 0, "plane_rotation=true, want false"},
		{"size not turned", func(c *cannedVKMS) { c.turnSize = "1024x768" }, 0, "want (768,1024)"},
		{"module not out of tree", func(c *cannedVKMS) { c.taint = 0 }, 0, "out-of-tree"},
		{"script failed", func(c *cannedVKMS) {}, 1, "exited 1"},
		{"vitrine logged an error", func(c *cannedVKMS) { c.errorIn = "upright" }, 0, `upright: vitrine logged: {"level":"ERROR"`},
	}
	for _, b := range bad {
		c := goodVKMS(90)
		b.edit(&c)
		_, err := judgeVKMS(c.output(), b.exit, 90)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error containing %q", b.name, err, b.want)
		}
	}
}

func TestVKMSPackages(t *testing.T) {
	k := &Kernel{Release: "6.12.117+deb12-amd64", Package: "linux-image-6.12.117+deb12-amd64-unsigned_6.12.117-1~deb12u1"}
	pkgs, series, err := vkmsPackages(k)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"linux-headers-6.12.117+deb12-amd64=6.12.117-1~deb12u1",
		"linux-headers-6.12.117+deb12-common=6.12.117-1~deb12u1",
		"linux-kbuild-6.12.117+deb12=6.12.117-1~deb12u1",
		"linux-source-6.12=6.12.117-1~deb12u1",
	}
	if series != "6.12" || strings.Join(pkgs, " ") != strings.Join(want, " ") {
		t.Errorf("vkmsPackages = %q, %q; want %q, 6.12", pkgs, series, want)
	}
	if _, _, err := vkmsPackages(&Kernel{Release: "6.12.117+deb12-arm64", Package: k.Package}); err == nil {
		t.Error("an arm64 release was accepted")
	}
}

func TestExtractPrefix(t *testing.T) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{"linux-source-6.12/Makefile", "top"},
		{"linux-source-6.12/drivers/gpu/drm/vkms/vkms_drv.c", "drv"},
		{"linux-source-6.12/drivers/gpu/drm/vkms/Makefile", "obj"},
		{"linux-source-6.12/drivers/gpu/drm/vkms/tests/x.c", "nested"},
		{"linux-source-6.12/drivers/gpu/drm/vkms2/y.c", "other"},
	} {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.body))
	}
	w.Close()
	dst := t.TempDir()
	n, err := extractPrefix(tar.NewReader(&buf), "linux-source-6.12/drivers/gpu/drm/vkms/", dst)
	if err != nil || n != 2 {
		t.Fatalf("extractPrefix = %d, %v; want 2 files", n, err)
	}
	entries, _ := os.ReadDir(dst)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "Makefile vkms_drv.c" {
		t.Errorf("extracted %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "Makefile")); string(b) != "obj" {
		t.Errorf("Makefile = %q, want the vkms one", b)
	}
}

func TestRelocateHeaders(t *testing.T) {
	dir := t.TempDir()
	mk := filepath.Join(dir, "Makefile")
	os.WriteFile(mk, []byte("include /usr/src/linux-headers-6.12.117+deb12-common/Makefile\n"), 0o644)
	if err := relocateHeaders(dir, "/cache/root/usr/src"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mk); string(b) != "include /cache/root/usr/src/linux-headers-6.12.117+deb12-common/Makefile\n" {
		t.Errorf("Makefile now %q", b)
	}
	os.WriteFile(mk, []byte("include ../common/Makefile\n"), 0o644)
	if err := relocateHeaders(dir, "/x"); err == nil {
		t.Error("a Makefile without /usr/src/ was accepted; the headers layout changed unnoticed")
	}
}

// The host's reference must reproduce what vkms reported in the lab, or
// the pixel-exact check would fail on a correct screen.
func TestVKMSReferenceCRC(t *testing.T) {
	for deg, want := range vkmsSeen {
		size := image.Pt(1024, 768)
		if deg == 90 || deg == 270 {
			size = image.Pt(768, 1024)
		}
		if got := vkmsReferenceCRC(size, deg); got != want {
			t.Errorf("rotate %d: reference CRC %#08x, vkms reported %#08x", deg, got, want)
		}
	}
}
