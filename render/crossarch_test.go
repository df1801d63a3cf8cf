package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The NEON kernels run on the Raspberry Pi, not on the amd64 machines that
// run CI: build this package's tests for arm64 and run the copy tests
// under qemu-user, so a wrong lane or register there fails here.
func TestCopyOutOnArm64(t *testing.T) {
	if runtime.GOARCH == "arm64" {
		t.Skip("native arm64: the kernels are tested directly")
	}
	if testing.Short() {
		t.Skip("builds the package for arm64")
	}
	const emu = "qemu-aarch64-static"
	if _, err := exec.LookPath(emu); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (CI must install it: see .ci/install)", emu)
		}
		t.Skipf("%s is not installed (apt-get install qemu-user-static)", emu)
	}
	bin := filepath.Join(t.TempDir(), "render.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c for arm64: %v\n%s", err, out)
	}
	run := exec.Command(emu, bin, "-test.run", "Transpose|CopyOut|PlatformKernels|YUV", "-test.v")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("arm64 tests under %s: %v\n%s", emu, err, out)
	}
	// The kernel tests must have run, not been filtered away.
	for _, name := range []string{"TestTransposeKernels", "TestPlatformKernels", "TestYUVKernelsAgree", "TestYUVDrawMatchesReference"} {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("arm64 run did not pass %s:\n%s", name, out)
		}
	}
}
