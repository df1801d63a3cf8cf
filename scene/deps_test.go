package scene

import (
	"os/exec"
	"strings"
	"testing"
)

// The scene takes decoded input from seat/inputevent. Package seat itself
// brings the D-Bus client (and its goroutines) and the evdev reader, which
// the scene must not depend on, or every scene test and tool links them.
func TestSceneDoesNotDependOnTheSession(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(gotool, "list", "-deps", "github.com/vitrine-wm/vitrine/scene").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps printed nothing")
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "github.com/godbus/") || dep == "github.com/vitrine-wm/vitrine/seat" ||
			strings.HasPrefix(dep, "github.com/vitrine-wm/vitrine/seat/evdev") {
			t.Errorf("scene depends on %s", dep)
		}
	}
}
