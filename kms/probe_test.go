package kms

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// labMatrix is the import matrix of shared/LAB.md (Linux 6.12, QEMU 7.2):
// dumb buffer exported from the first driver, imported into the second.
// "ENOSYS (bochs cannot export)" shows up as ENOSYS at import into others;
// "own buffers only" (bochs into bochs) is a self-import, which works.
var labMatrix = map[[2]string]string{
	{"virtio_gpu", "virtio_gpu"}: "ok",
	{"virtio_gpu", "bochs"}:      "EINVAL",
	{"virtio_gpu", "cirrus"}:     "ok",
	{"vgem", "virtio_gpu"}:       "ENODEV",
	{"vgem", "bochs"}:            "EINVAL",
	{"vgem", "cirrus"}:           "ok",
	{"cirrus", "virtio_gpu"}:     "ENODEV",
	{"cirrus", "bochs"}:          "EINVAL",
	{"cirrus", "cirrus"}:         "ok",
	{"bochs", "virtio_gpu"}:      "ENOSYS",
	{"bochs", "bochs"}:           "ok",
	{"bochs", "cirrus"}:          "ENOSYS",
	// "vgem ... ADDFB2 on it gives EOPNOTSUPP"
	{"vgem", "vgem"}: "EOPNOTSUPP",
}

// The reports in testdata were taken in the lab (Linux 6.12, QEMU 7.2):
// probe-lab-6.12.json with `kmsdemo -probe -json` (virtio-gpu, vgem, bochs,
// cirrus), probe-lab-vitrine-6.12.json with the real binary,
// `vitrine probe --json` (`vitrine-lab run --display virtio,bochs,cirrus
// --render vgem`, so vgem is card3 there).
func TestLabProbeReproducesImportMatrix(t *testing.T) {
	rep := readLabProbe(t, "testdata/probe-lab-6.12.json")
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/dev/dri/card1 (vgem) -> /dev/dri/card3 (cirrus): import + ADDFB2 ok", "import EINVAL", "formats: XR24(LINEAR) BX24(LINEAR)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

func TestVitrineProbeReproducesImportMatrix(t *testing.T) {
	rep := readLabProbe(t, "testdata/probe-lab-vitrine-6.12.json")
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"/dev/dri/card3 (vgem) -> /dev/dri/card2 (cirrus): import + ADDFB2 ok",
		"/dev/dri/card3 (vgem) -> /dev/dri/card1 (bochs-drm): import EINVAL",
		"/dev/dri/card3 (vgem) -> /dev/dri/card0 (virtio_gpu): import ENODEV",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

// readLabProbe loads a lab probe report and checks what every lab report
// must show: LAB.md's import matrix and ADDFB2 modifier caps.
func readLabProbe(t *testing.T, path string) *ProbeReport {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep ProbeReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, d := range rep.CompareImportMatrix(labMatrix) {
		t.Errorf("%s: %s", path, d)
	}
	mods := map[string]uint64{}
	for _, d := range rep.Devices {
		if d.NodeName == "primary" {
			mods[shortDriver(d.Driver)] = d.Caps["ADDFB2_MODIFIERS"]
		}
	}
	if mods["bochs"] != 1 || mods["cirrus"] != 1 || mods["virtio_gpu"] != 0 {
		t.Errorf("%s: ADDFB2_MODIFIERS caps %v; LAB.md: bochs and cirrus 1, virtio_gpu 0", path, mods)
	}
	return &rep
}

// A wrong expectation must be reported, or the comparison proves nothing.
func TestCompareImportMatrixReportsMismatch(t *testing.T) {
	rep := &ProbeReport{Imports: []ImportResult{
		{FromDriver: "vgem", ToDriver: "bochs-drm", Export: "ok", Import: "EINVAL"},
	}}
	diffs := rep.CompareImportMatrix(map[[2]string]string{
		{"vgem", "bochs"}:  "ok",
		{"vgem", "cirrus"}: "ok",
	})
	if len(diffs) != 2 || !strings.Contains(diffs[0], "got EINVAL, want ok") || !strings.Contains(diffs[1], "not probed") {
		t.Errorf("diffs %q", diffs)
	}
}

func TestPlaneTestOutcome(t *testing.T) {
	for _, c := range []struct {
		t    PlaneTest
		want string
	}{
		{PlaneTest{Alloc: "ok", Import: "ok", AddFB2: "ok", TestOnly: "ok"}, "ok"},
		{PlaneTest{Alloc: "ok", Import: "EINVAL"}, "EINVAL"},
		{PlaneTest{Alloc: "ok", Import: "ok", AddFB2: "ok", TestOnly: "EACCES"}, "EACCES"},
		{PlaneTest{Alloc: "ENOENT"}, "ENOENT"},
		{PlaneTest{}, "skipped"},
	} {
		if got := c.t.Outcome(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.t, got, c.want)
		}
	}
}

func TestTestLayout(t *testing.T) {
	planes, size := testLayout(FormatNV12, 300, 101, 256)
	if len(planes) != 2 || planes[0].Pitch != 512 || planes[1].Offset != 512*101 || size != 512*(101+51) {
		t.Errorf("NV12 300x101: %+v %d", planes, size)
	}
	planes, size = testLayout(FormatXRGB8888, 64, 64, 256)
	if len(planes) != 1 || planes[0].Pitch != 256 || size != 256*64 {
		t.Errorf("XRGB 64x64: %+v %d", planes, size)
	}
}
