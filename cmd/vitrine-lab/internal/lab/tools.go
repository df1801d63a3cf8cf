package lab

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// hostTool is a program the lab runs on the host and the Debian package
// that provides it.
type hostTool struct {
	name string
	pkg  string
	// check, when set, replaces the PATH lookup (busybox must be the
	// static build: it runs inside the guest).
	check func() error
}

var baseTools = []hostTool{
	{name: "qemu-system-x86_64", pkg: "qemu-system-x86"},
	{name: "xz", pkg: "xz-utils"},
	{name: "depmod", pkg: "kmod"},
	{name: "modprobe", pkg: "kmod"},
	{name: "apt-get", pkg: "apt"},
	{name: "apt-cache", pkg: "apt"},
	{name: "dpkg-deb", pkg: "dpkg"},
	{name: "busybox", pkg: "busybox-static", check: func() error { _, err := StaticBusybox(); return err }},
}

var diskTools = []hostTool{
	{name: "debootstrap", pkg: "debootstrap"},
	{name: "mke2fs", pkg: "e2fsprogs"},
}

// Packages lists the Debian packages the lab needs on the host; the
// --install flag and .ci/install install these. apt and dpkg are left
// out: Debian always has them, and naming them would upgrade them.
func Packages() []string {
	seen := map[string]bool{"apt": true, "dpkg": true}
	var pkgs []string
	for _, t := range append(append([]hostTool{}, baseTools...), diskTools...) {
		if !seen[t.pkg] {
			seen[t.pkg] = true
			pkgs = append(pkgs, t.pkg)
		}
	}
	for _, p := range VKMSPackages() {
		if !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	sort.Strings(pkgs)
	return pkgs
}

// MissingToolsError names the missing programs and the packages that
// provide them, in one line.
type MissingToolsError struct {
	Tools    []string
	Packages []string
}

func (e *MissingToolsError) Error() string {
	return fmt.Sprintf("missing host tools (%s): run `apt-get install %s` or `vitrine-lab --install`",
		strings.Join(e.Tools, ", "), strings.Join(e.Packages, " "))
}

// CheckTools reports the host tools that are missing, including the disk
// image tools when disk is set. The Go toolchain is checked too: it
// builds the guest's binaries.
func CheckTools(disk bool) error {
	tools := baseTools
	if disk {
		tools = append(append([]hostTool{}, baseTools...), diskTools...)
	}
	var missing, pkgs []string
	seen := map[string]bool{}
	for _, t := range tools {
		var err error
		if t.check != nil {
			err = t.check()
		} else {
			_, err = exec.LookPath(t.name)
		}
		if err == nil {
			continue
		}
		missing = append(missing, t.name)
		if !seen[t.pkg] {
			seen[t.pkg] = true
			pkgs = append(pkgs, t.pkg)
		}
	}
	if _, err := exec.LookPath("go"); err != nil {
		// Debian bookworm's golang-go is too old for this module.
		return errors.New("missing host tool: go (a Go toolchain at least as new as go.mod asks for, from https://go.dev/dl) must be in PATH")
	}
	if len(missing) > 0 {
		return &MissingToolsError{Tools: missing, Packages: pkgs}
	}
	return nil
}

// Install installs the lab's Debian packages with apt-get. It waits for
// a running apt (another install) rather than failing on its lock, and
// leaves packages that are already installed alone (no upgrades).
func Install(ctx context.Context) error {
	args := append([]string{"-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", "--no-upgrade"}, Packages()...)
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("apt-get install %s: %w", strings.Join(Packages(), " "), err)
	}
	return nil
}

// StaticBusybox returns the path of a statically linked busybox: a
// dynamically linked one would not run in the initramfs, which carries no
// C library.
func StaticBusybox() (string, error) {
	candidates := []string{"/bin/busybox", "/usr/bin/busybox"}
	if p, err := exec.LookPath("busybox"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", errors.New("no statically linked busybox found (package busybox-static)")
}
