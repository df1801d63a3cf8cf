package cpio

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestArchiveUnpacks checks the archive against the system cpio, which
// reads newc exactly as the kernel does.
func TestArchiveUnpacks(t *testing.T) {
	cpioPath, err := exec.LookPath("cpio")
	if err != nil {
		t.Skip("cpio not installed: cannot cross-check the archive")
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must(t, w.Dir("bin", 0o755))
	must(t, w.File("bin/hello", 0o755, []byte("#!/bin/sh\necho hi\n")))
	must(t, w.File("odd", 0o644, []byte("abcde")))
	must(t, w.Symlink("bin/sh", "busybox"))
	must(t, w.Close())
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not 4-aligned", buf.Len())
	}

	dir := t.TempDir()
	cmd := exec.Command(cpioPath, "-id", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v: %s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "bin/hello"))
	if err != nil || string(got) != "#!/bin/sh\necho hi\n" {
		t.Errorf("bin/hello = %q, %v", got, err)
	}
	got, err = os.ReadFile(filepath.Join(dir, "odd"))
	if err != nil || string(got) != "abcde" {
		t.Errorf("odd = %q, %v", got, err)
	}
	st, err := os.Stat(filepath.Join(dir, "bin/hello"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("bin/hello mode = %v, %v", st.Mode(), err)
	}
	target, err := os.Readlink(filepath.Join(dir, "bin/sh"))
	if err != nil || target != "busybox" {
		t.Errorf("bin/sh -> %q, %v", target, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
