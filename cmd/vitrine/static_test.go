package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCrossBuildsAreStatic builds vitrine for the Raspberry Pi's two
// userlands (arm64, and armv7 for 32-bit Raspberry Pi OS) with
// CGO_ENABLED=0 and checks each is one static ELF for that machine: no
// program interpreter (PT_INTERP) and no shared libraries (DT_NEEDED),
// so copying the one file is the whole installation.
func TestCrossBuildsAreStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds take a while; run without -short")
	}
	dir := t.TempDir()
	for _, target := range []struct {
		goarch, goarm string
		machine       elf.Machine
		class         elf.Class
	}{
		{"arm64", "", elf.EM_AARCH64, elf.ELFCLASS64},
		{"arm", "7", elf.EM_ARM, elf.ELFCLASS32},
	} {
		t.Run(target.goarch+target.goarm, func(t *testing.T) {
			out := filepath.Join(dir, "vitrine-"+target.goarch+target.goarm)
			cmd := exec.Command("go", "build", "-o", out, ".")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+target.goarch, "GOARM="+target.goarm)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOARCH=%s GOARM=%s go build: %v\n%s", target.goarch, target.goarm, err, b)
			}
			f, err := elf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != target.machine || f.Class != target.class {
				t.Errorf("%s: machine %v class %v, want %v %v", out, f.Machine, f.Class, target.machine, target.class)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s has a program interpreter (PT_INTERP): it is dynamically linked", out)
				}
			}
			libs, err := f.ImportedLibraries()
			if err != nil {
				t.Fatal(err)
			}
			if len(libs) > 0 {
				t.Errorf("%s needs shared libraries (DT_NEEDED): %v", out, libs)
			}
			if st, err := os.Stat(out); err == nil {
				t.Logf("%s: %d bytes", filepath.Base(out), st.Size())
			}
		})
	}
}
