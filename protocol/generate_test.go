package protocol_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedBindingsAreCurrent regenerates the bindings from xml/ and
// compares them with the committed files, so an edit to the generator or
// the definitions cannot land without `go generate`.
func TestGeneratedBindingsAreCurrent(t *testing.T) {
	src, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "//go:generate go run ./wlgen gen -out . "); ok {
			args = strings.Fields(rest)
		}
	}
	if len(args) == 0 {
		t.Fatal("no go:generate line for wlgen in generate.go")
	}
	out := t.TempDir()
	cmd := exec.Command("go", append([]string{"run", "./wlgen", "gen", "-out", out}, args...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wlgen: %v\n%s", err, msg)
	}
	for _, spec := range args {
		_, pkg, _ := strings.Cut(spec, ":")
		want, err := os.ReadFile(filepath.Join(out, pkg, pkg+".go"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(pkg, pkg+".go"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("protocol/%s/%s.go is stale: run go generate ./protocol", pkg, pkg)
		}
	}
}
