package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cache is the lab's directory under the user's cache directory. Each
// artefact lives in a subdirectory named by the versions it was made
// from, so a new kernel or a new layout simply makes a new entry.
type Cache struct {
	Dir string
	Log *slog.Logger
}

// OpenCache opens (creating it if needed) the lab's cache directory.
func OpenCache(log *slog.Logger) (*Cache, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("find cache directory: %w", err)
	}
	dir := filepath.Join(base, "vitrine-lab")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache %s: %w", dir, err)
	}
	return &Cache{Dir: dir, Log: log}, nil
}

// build makes the cache entry key by running fill on a fresh temporary
// directory and renaming it into place, so an interrupted build never
// leaves a half-made entry that a later run would trust.
func (c *Cache) build(key string, fill func(dir string) error) (string, error) {
	final := filepath.Join(c.Dir, key)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	tmp, err := os.MkdirTemp(c.Dir, ".tmp-"+key+"-")
	if err != nil {
		return "", fmt.Errorf("cache %s: %w", key, err)
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		// Another vitrine-lab built the same entry meanwhile.
		if _, serr := os.Stat(final); serr == nil {
			return final, nil
		}
		return "", fmt.Errorf("cache %s: %w", key, err)
	}
	return final, nil
}

// Kernel is an unpacked Debian kernel package.
type Kernel struct {
	Release string // uname -r, e.g. 6.12.115+deb12-amd64
	Package string // package_version, the cache key
	Root    string // where the package is unpacked
	// Modules maps a module name to the files to insmod for it, in
	// order, relative to Root.
	Modules map[string][]string
}

// Vmlinuz is the kernel image to boot.
func (k *Kernel) Vmlinuz() string {
	return filepath.Join(k.Root, "boot", "vmlinuz-"+k.Release)
}

// ModulesDir is /lib/modules/RELEASE inside the unpacked package.
func (k *Kernel) ModulesDir() string {
	return filepath.Join(k.Root, "lib", "modules", k.Release)
}

// labModules are the modules the guest may need. Built-in ones (virtio
// console, udmabuf, dma-heaps) are absent on purpose.
var labModules = []string{
	"virtio-gpu", "bochs", "cirrus", "vgem",
	"virtio_input", "evdev", "uinput",
	"virtio_blk", "ext4",
}

// kernelPackage matches the Debian 6.12 kernel that carries udmabuf and
// the system dma-heap built in (6.1 has neither).
var kernelPackage = regexp.MustCompile(`^linux-image-6\.12\.(\d+)\+deb12-amd64-unsigned$`)

// Kernel returns the newest 6.12 kernel package, downloading and
// unpacking it the first time.
func (c *Cache) Kernel(ctx context.Context) (*Kernel, error) {
	name, version, aptOpts, err := c.resolveKernel(ctx)
	if err != nil {
		// Offline or apt broken: a kernel fetched earlier still works.
		if k, cerr := c.newestCachedKernel(); cerr == nil {
			c.Log.Warn("cannot ask apt for the newest kernel; using the cached one", "err", err, "kernel", k.Package)
			return k, nil
		}
		return nil, err
	}
	key := "kernel-" + name + "_" + version
	release := strings.TrimSuffix(strings.TrimPrefix(name, "linux-image-"), "-unsigned")
	dir, err := c.build(key, func(tmp string) error {
		start := time.Now()
		c.Log.Info("downloading kernel (once)", "package", name, "version", version, "cache", filepath.Join(c.Dir, key))
		args := append(aptOpts, "-o", "APT::Sandbox::User=root", "download", name+"="+version)
		if err := runIn(ctx, tmp, "apt-get", args...); err != nil {
			return err
		}
		debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
		if len(debs) != 1 {
			return fmt.Errorf("apt-get download %s: expected one .deb in %s, found %d", name, tmp, len(debs))
		}
		root := filepath.Join(tmp, "root")
		if err := runIn(ctx, tmp, "dpkg-deb", "-x", debs[0], root); err != nil {
			return err
		}
		os.Remove(debs[0])
		if err := runIn(ctx, tmp, "depmod", "-b", root, release); err != nil {
			return err
		}
		mods, err := resolveModules(ctx, root, release)
		if err != nil {
			return err
		}
		meta, _ := json.MarshalIndent(kernelMeta{Release: release, Package: name + "_" + version, Modules: mods}, "", "  ")
		if err := os.WriteFile(filepath.Join(tmp, "kernel.json"), meta, 0o644); err != nil {
			return fmt.Errorf("write kernel.json: %w", err)
		}
		c.Log.Info("kernel ready", "release", release, "took", time.Since(start).Round(time.Second))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loadKernel(dir)
}

type kernelMeta struct {
	Release string
	Package string
	Modules map[string][]string
}

func loadKernel(dir string) (*Kernel, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return nil, fmt.Errorf("cached kernel: %w", err)
	}
	var m kernelMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cached kernel %s: %w", dir, err)
	}
	return &Kernel{Release: m.Release, Package: m.Package, Root: filepath.Join(dir, "root"), Modules: m.Modules}, nil
}

func (c *Cache) newestCachedKernel() (*Kernel, error) {
	dirs, _ := filepath.Glob(filepath.Join(c.Dir, "kernel-*"))
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if k, err := loadKernel(dirs[i]); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no kernel in %s", c.Dir)
}

// resolveKernel finds the newest matching kernel package and its
// version. When the system's apt sources lack bookworm-security it uses a
// private apt configuration under the cache rather than touching the
// system's sources; aptOpts then carries the options that select it.
func (c *Cache) resolveKernel(ctx context.Context) (name, version string, aptOpts []string, err error) {
	name, version, err = newestKernel(ctx, nil)
	if err == nil {
		return name, version, nil, nil
	}
	c.Log.Info("system apt sources have no 6.12 kernel; using a private apt source for bookworm-security", "err", err)
	aptOpts, perr := c.privateApt(ctx)
	if perr != nil {
		return "", "", nil, fmt.Errorf("find kernel package: %w; private apt source: %w", err, perr)
	}
	name, version, err = newestKernel(ctx, aptOpts)
	return name, version, aptOpts, err
}

func newestKernel(ctx context.Context, aptOpts []string) (string, string, error) {
	out, err := output(ctx, "apt-cache", append(aptOpts, "--names-only", "search", `^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$`)...)
	if err != nil {
		return "", "", err
	}
	best, bestPatch := "", -1
	for _, line := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(line, " ")
		m := kernelPackage.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if p, _ := strconv.Atoi(m[1]); p > bestPatch {
			best, bestPatch = name, p
		}
	}
	if best == "" {
		return "", "", fmt.Errorf("apt-cache knows no linux-image-6.12.*+deb12-amd64-unsigned package")
	}
	out, err = output(ctx, "apt-cache", append(aptOpts, "policy", best)...)
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate:"); ok {
			v = strings.TrimSpace(v)
			if v == "" || v == "(none)" {
				break
			}
			return best, v, nil
		}
	}
	return "", "", fmt.Errorf("apt-cache policy %s: no candidate version", best)
}

// privateApt sets up apt state under the cache that only knows
// bookworm-security, and updates it.
func (c *Cache) privateApt(ctx context.Context) ([]string, error) {
	dir := filepath.Join(c.Dir, "apt")
	for _, d := range []string{"lists/partial", "cache/archives/partial", "parts"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("private apt: %w", err)
		}
	}
	src := filepath.Join(dir, "sources.list")
	line := "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main\n"
	if err := os.WriteFile(src, []byte(line), 0o644); err != nil {
		return nil, fmt.Errorf("private apt: %w", err)
	}
	opts := []string{
		"-o", "Dir::Etc::SourceList=" + src,
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(dir, "parts"),
		"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "APT::Sandbox::User=root",
	}
	if err := runIn(ctx, dir, "apt-get", append(opts, "update")...); err != nil {
		return nil, err
	}
	return opts, nil
}

// resolveModules asks modprobe for each lab module's load order,
// relative to root.
func resolveModules(ctx context.Context, root, release string) (map[string][]string, error) {
	mods := map[string][]string{}
	for _, m := range labModules {
		out, err := output(ctx, "modprobe", "-d", root, "-S", release, "--show-depends", m)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", m, err)
		}
		var files []string
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "insmod" {
				rel, err := filepath.Rel(root, f[1])
				if err != nil {
					return nil, fmt.Errorf("module %s: %w", m, err)
				}
				files = append(files, rel)
			}
		}
		mods[m] = files
	}
	return mods, nil
}

func runIn(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(buf.String(), 20))
	}
	return nil
}

func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
