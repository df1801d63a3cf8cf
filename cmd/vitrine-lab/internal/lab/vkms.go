package lab

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/cpio"
)

// RenderVKMS is the Config.Render value that gives the guest the kernel's
// virtual KMS driver: a display-only card (after the QEMU displays) whose
// primary plane has a "rotation" property and whose composed output has
// CRCs in debugfs. Debian does not build vkms, so the lab builds it once
// per kernel package from the matching linux-source and headers.
const RenderVKMS = "vkms"

// RenderVKMSOverlay is vkms loaded with enable_overlay=1: its CRTC then
// has overlay planes besides the primary and cursor ones.
const RenderVKMSOverlay = "vkms-overlay"

// renderModule is the kernel module a Config.Render value loads, with
// its module parameters.
func renderModule(render string) (module string, params []string) {
	if render == RenderVKMSOverlay {
		return RenderVKMS, []string{"enable_overlay=1"}
	}
	return render, nil
}

// vkmsLayout is bumped whenever the vkms cache entry changes meaning.
// 2: vkms.ko without debug info.
const vkmsLayout = "2"

// vkmsTools are the host programs the out-of-tree build needs besides the
// base tools. objtool, run on every object, also needs libelf1.
var vkmsTools = []hostTool{
	{name: "make", pkg: "make"},
	{name: "gcc-12", pkg: "gcc-12"},
	{name: "strip", pkg: "binutils"}, // a dependency of gcc-12
}

// VKMSPackages lists the Debian packages that building vkms needs on the
// host, for .ci/install and error messages.
func VKMSPackages() []string { return []string{"make", "gcc-12", "libelf1"} }

// VKMSModule is a vkms.ko built for one kernel package.
type VKMSModule struct {
	Path string `json:"-"` // vkms.ko, uncompressed
	// Deps are the kernel's module files vkms needs loaded first, in
	// order, relative to the kernel's Root.
	Deps     []string
	Vermagic string
	Source   string // the linux-source package_version it was built from
	// Timings of the first build, in seconds (download, extract, build).
	Timings map[string]float64
}

// vkmsPackages names the Debian packages the build needs for kernel k:
// its headers (arch and common), its kbuild tools and the source of its
// series, all at the kernel package's version so the module's vermagic
// and symbol versions match.
func vkmsPackages(k *Kernel) (pkgs []string, series string, err error) {
	_, version, ok := strings.Cut(k.Package, "_")
	if !ok || version == "" {
		return nil, "", fmt.Errorf("kernel package %q has no version", k.Package)
	}
	abi, ok := strings.CutSuffix(k.Release, "-amd64")
	if !ok {
		return nil, "", fmt.Errorf("kernel release %q is not an amd64 flavour", k.Release)
	}
	f := strings.SplitN(k.Release, ".", 3)
	if len(f) < 3 {
		return nil, "", fmt.Errorf("kernel release %q: want MAJOR.MINOR.PATCH", k.Release)
	}
	series = f[0] + "." + f[1]
	for _, p := range []string{
		"linux-headers-" + k.Release,
		"linux-headers-" + abi + "-common",
		"linux-kbuild-" + abi,
		"linux-source-" + series,
	} {
		pkgs = append(pkgs, p+"="+version)
	}
	return pkgs, series, nil
}

// VKMS returns vkms.ko for kernel k, building it the first time: it
// downloads the kernel's headers, kbuild and linux-source packages (about
// 170 MB, of which only drivers/gpu/drm/vkms is extracted), builds the
// module out of tree and keeps only the module.
func (c *Cache) VKMS(ctx context.Context, k *Kernel) (*VKMSModule, error) {
	key := "vkms-" + k.Package + "-v" + vkmsLayout
	dir, err := c.build(key, func(tmp string) error {
		return c.buildVKMS(ctx, k, tmp, filepath.Join(c.Dir, key))
	})
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "vkms.json"))
	if err != nil {
		return nil, fmt.Errorf("cached vkms: %w", err)
	}
	var m VKMSModule
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cached vkms %s: %w", dir, err)
	}
	m.Path = filepath.Join(dir, "vkms.ko")
	return &m, nil
}

func (c *Cache) buildVKMS(ctx context.Context, k *Kernel, tmp, final string) error {
	var missing []string
	for _, t := range vkmsTools {
		if _, err := exec.LookPath(t.name); err != nil {
			missing = append(missing, t.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("building vkms needs %s: run `apt-get install %s`", strings.Join(missing, ", "), strings.Join(VKMSPackages(), " "))
	}
	pkgs, series, err := vkmsPackages(k)
	if err != nil {
		return err
	}
	timings := map[string]float64{}
	start := time.Now()
	c.Log.Info("building vkms for the lab's kernel (once): downloading headers, kbuild and linux-source (about 170 MB)",
		"packages", strings.Join(pkgs, " "), "cache", final)
	debDir := filepath.Join(tmp, "debs")
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		return fmt.Errorf("vkms: %w", err)
	}
	download := append([]string{"-o", "APT::Sandbox::User=root", "download"}, pkgs...)
	if err := runIn(ctx, debDir, "apt-get", download...); err != nil {
		// The kernel may have come from the private bookworm-security
		// source (see resolveKernel); its headers are there too.
		c.Log.Info("system apt sources lack the kernel's headers; using the private apt source", "err", firstLine(err.Error()))
		opts, perr := c.privateApt(ctx)
		if perr != nil {
			return fmt.Errorf("download vkms build packages: %w; private apt source: %w", err, perr)
		}
		if err := runIn(ctx, debDir, "apt-get", append(opts, download[2:]...)...); err != nil {
			return err
		}
	}
	timings["download"] = time.Since(start).Seconds()

	t := time.Now()
	root := filepath.Join(tmp, "root")
	var sourceDeb string
	for _, p := range pkgs {
		name, _, _ := strings.Cut(p, "=")
		debs, _ := filepath.Glob(filepath.Join(debDir, name+"_*.deb"))
		if len(debs) != 1 {
			return fmt.Errorf("apt-get download %s: expected one .deb, found %d", name, len(debs))
		}
		if strings.HasPrefix(name, "linux-source-") {
			sourceDeb = debs[0]
			continue
		}
		if err := runIn(ctx, tmp, "dpkg-deb", "-x", debs[0], root); err != nil {
			return err
		}
	}
	src := filepath.Join(tmp, "vkms")
	member := "usr/src/linux-source-" + series + ".tar.xz"
	prefix := "linux-source-" + series + "/drivers/gpu/drm/vkms/"
	n, err := extractFromSourceDeb(ctx, sourceDeb, member, prefix, src)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s has no %s", filepath.Base(sourceDeb), prefix)
	}
	timings["extract"] = time.Since(t).Seconds()

	t = time.Now()
	headers := filepath.Join(root, "usr", "src", "linux-headers-"+k.Release)
	if err := relocateHeaders(headers, filepath.Join(root, "usr", "src")); err != nil {
		return err
	}
	// Kbuild would generate the module's BTF with pahole; the loader
	// does not need it, so the lab does not need pahole either.
	if err := runIn(ctx, tmp, "make", "-C", headers, "M="+src, "CONFIG_DRM_VKMS=m", "CONFIG_DEBUG_INFO_BTF_MODULES=", "modules"); err != nil {
		return fmt.Errorf("build vkms: %w", err)
	}
	timings["build"] = time.Since(t).Seconds()

	ko := filepath.Join(src, "vkms.ko")
	vermagic, err := output(ctx, "modinfo", "-F", "vermagic", ko)
	if err != nil {
		return err
	}
	vermagic = strings.TrimSpace(vermagic)
	if !strings.HasPrefix(vermagic, k.Release+" ") {
		return fmt.Errorf("built vkms.ko has vermagic %q, not for kernel %s", vermagic, k.Release)
	}
	depends, err := output(ctx, "modinfo", "-F", "depends", ko)
	if err != nil {
		return err
	}
	deps, err := moduleDeps(ctx, k, strings.Split(strings.TrimSpace(depends), ","))
	if err != nil {
		return err
	}
	// Its debug info is most of the file, and every vkms boot carries it.
	if err := runIn(ctx, src, "strip", "--strip-debug", ko); err != nil {
		return err
	}
	if err := os.Rename(ko, filepath.Join(tmp, "vkms.ko")); err != nil {
		return fmt.Errorf("vkms: %w", err)
	}
	for _, d := range []string{debDir, root, src} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("vkms: remove build tree: %w", err)
		}
	}
	timings["total"] = time.Since(start).Seconds()
	meta, _ := json.MarshalIndent(VKMSModule{Deps: deps, Vermagic: vermagic, Source: strings.TrimSuffix(filepath.Base(sourceDeb), ".deb"), Timings: timings}, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "vkms.json"), meta, 0o644); err != nil {
		return fmt.Errorf("write vkms.json: %w", err)
	}
	c.Log.Info("vkms ready", "vermagic", vermagic,
		"download", time.Duration(timings["download"]*float64(time.Second)).Round(100*time.Millisecond),
		"extract", time.Duration(timings["extract"]*float64(time.Second)).Round(100*time.Millisecond),
		"build", time.Duration(timings["build"]*float64(time.Second)).Round(100*time.Millisecond))
	return nil
}

// relocateHeaders points the arch headers' Makefile, which includes the
// common headers by their installed absolute path, at the unpacked copy
// under srcDir. Everything else in the packages links relatively.
func relocateHeaders(headers, srcDir string) error {
	mk := filepath.Join(headers, "Makefile")
	b, err := os.ReadFile(mk)
	if err != nil {
		return fmt.Errorf("kernel headers: %w", err)
	}
	fixed := strings.ReplaceAll(string(b), "/usr/src/", srcDir+"/")
	if fixed == string(b) {
		return fmt.Errorf("kernel headers %s: Makefile does not include /usr/src/...: %q", mk, firstLine(string(b)))
	}
	if err := os.WriteFile(mk, []byte(fixed), 0o644); err != nil {
		return fmt.Errorf("kernel headers: %w", err)
	}
	return nil
}

// extractFromSourceDeb streams the .deb's data through two tar readers
// and xz, writing only the files under prefix (inside the tarball member)
// to dst, flattened: the 1.5 GB source tree never touches the disk.
func extractFromSourceDeb(ctx context.Context, deb, member, prefix, dst string) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	data := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	var dataErr bytes.Buffer
	data.Stderr = &dataErr
	dataOut, err := data.StdoutPipe()
	if err != nil {
		return 0, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", deb, err)
	}
	if err := data.Start(); err != nil {
		return 0, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", deb, err)
	}
	defer data.Wait()
	outer := tar.NewReader(dataOut)
	for {
		h, err := outer.Next()
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%s has no %s", deb, member)
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w: %s", deb, err, dataErr.String())
		}
		if strings.TrimPrefix(h.Name, "./") == member {
			break
		}
	}
	xz := exec.CommandContext(ctx, "xz", "-dc")
	xz.Stdin = outer
	var xzErr bytes.Buffer
	xz.Stderr = &xzErr
	xzOut, err := xz.StdoutPipe()
	if err != nil {
		return 0, fmt.Errorf("xz -dc: %w", err)
	}
	if err := xz.Start(); err != nil {
		return 0, fmt.Errorf("xz -dc: %w", err)
	}
	n, werr := extractPrefix(tar.NewReader(xzOut), prefix, dst)
	// Drain so xz and dpkg-deb finish on their own.
	io.Copy(io.Discard, xzOut)
	if err := xz.Wait(); err != nil && werr == nil {
		werr = fmt.Errorf("xz -dc %s in %s: %w: %s", member, deb, err, xzErr.String())
	}
	return n, werr
}

// extractPrefix writes the regular files under prefix, by base name, to
// dst and returns how many.
func extractPrefix(r *tar.Reader, prefix, dst string) (int, error) {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return 0, fmt.Errorf("extract: %w", err)
	}
	n := 0
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read source tarball: %w", err)
		}
		rest, ok := strings.CutPrefix(strings.TrimPrefix(h.Name, "./"), prefix)
		if !ok || h.Typeflag != tar.TypeReg || rest == "" || strings.Contains(rest, "/") {
			continue
		}
		f, err := os.Create(filepath.Join(dst, rest))
		if err != nil {
			return n, fmt.Errorf("extract: %w", err)
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return n, fmt.Errorf("extract %s: %w", h.Name, err)
		}
		n++
	}
}

// moduleDeps resolves the modules named in a module's "depends" to the
// kernel's files in load order, each once.
func moduleDeps(ctx context.Context, k *Kernel, names []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, name := range names {
		if name == "" {
			continue
		}
		out, err := output(ctx, "modprobe", "-d", k.Root, "-S", k.Release, "--show-depends", name)
		if err != nil {
			return nil, fmt.Errorf("vkms dependency %s: %w", name, err)
		}
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "insmod" {
				continue
			}
			rel, err := filepath.Rel(k.Root, f[1])
			if err != nil {
				return nil, fmt.Errorf("vkms dependency %s: %w", name, err)
			}
			if !seen[rel] {
				seen[rel] = true
				files = append(files, rel)
			}
		}
	}
	return files, nil
}

// prepareRender readies what cfg.Render needs beyond the base initramfs.
// For vkms it builds the module (once per kernel, cached), adds it to the
// kernel's module set and switches the Env to a base initramfs that
// carries it. Runs are sequential, so e.mu guards only the switch.
func (e *Env) prepareRender(ctx context.Context, render string) error {
	if m, _ := renderModule(render); m != RenderVKMS {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.Kernel.Modules[RenderVKMS]; ok {
		return nil
	}
	mod, err := e.Cache.VKMS(ctx, e.Kernel)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(e.Kernel.Root, mod.Path)
	if err != nil {
		return fmt.Errorf("vkms: %w", err)
	}
	files := append(append([]string{}, mod.Deps...), rel)
	// The base initramfs already holds every file of the kernel's module
	// set; only the others go into the addition.
	inBase := map[string]bool{}
	for _, fs := range e.Kernel.Modules {
		for _, f := range fs {
			inBase[f] = true
		}
	}
	// The base entry's name already names the kernel, hence the module.
	key := "initramfs-vkms" + vkmsLayout + "-" + strings.TrimPrefix(filepath.Base(filepath.Dir(e.Initramfs)), "initramfs-")
	dir, err := e.Cache.build(key, func(tmp string) error {
		base, err := os.ReadFile(e.Initramfs)
		if err != nil {
			return fmt.Errorf("read base initramfs: %w", err)
		}
		var buf bytes.Buffer
		buf.Write(base)
		w := cpio.NewWriter(&buf)
		for _, f := range files {
			if inBase[f] {
				continue
			}
			data, err := readModule(ctx, filepath.Join(e.Kernel.Root, f))
			if err != nil {
				return err
			}
			if err := w.File("lib/lab/modules/"+moduleFileName(f), 0o644, data); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, "base.cpio"), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write vkms initramfs: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.Kernel.Modules[RenderVKMS] = files
	e.Initramfs = filepath.Join(dir, "base.cpio")
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
