package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/cpio"
)

// initramfsLayout is bumped whenever the base archive's content changes
// meaning, which retires old cache entries.
const initramfsLayout = "1"

// BaseInitramfs returns the cached archive that every boot starts from:
// a static busybox and the lab's kernel modules, decompressed. Scripts
// and binaries that change per run go into a second archive appended to
// it (see overlay), so this one is built once per kernel.
func (c *Cache) BaseInitramfs(ctx context.Context, k *Kernel) (string, error) {
	busybox, err := StaticBusybox()
	if err != nil {
		return "", err
	}
	st, err := os.Stat(busybox)
	if err != nil {
		return "", fmt.Errorf("stat busybox: %w", err)
	}
	key := fmt.Sprintf("initramfs-%s-busybox%d-%d-v%s", k.Package, st.Size(), st.ModTime().Unix(), initramfsLayout)
	dir, err := c.build(key, func(tmp string) error {
		start := time.Now()
		c.Log.Info("building the base initramfs (once)", "kernel", k.Release)
		var buf bytes.Buffer
		w := cpio.NewWriter(&buf)
		for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "lib", "lib/lab", "lib/lab/modules", "proc", "sys", "dev", "tmp", "run", "root", "newroot", "etc"} {
			if err := w.Dir(d, 0o755); err != nil {
				return err
			}
		}
		bb, err := os.ReadFile(busybox)
		if err != nil {
			return fmt.Errorf("read busybox: %w", err)
		}
		if err := w.File("bin/busybox", 0o755, bb); err != nil {
			return err
		}
		if err := w.Symlink("bin/sh", "busybox"); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, files := range k.Modules {
			for _, rel := range files {
				if seen[rel] {
					continue
				}
				seen[rel] = true
				data, err := readModule(ctx, filepath.Join(k.Root, rel))
				if err != nil {
					return err
				}
				if err := w.File("lib/lab/modules/"+moduleFileName(rel), 0o644, data); err != nil {
					return err
				}
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, "base.cpio"), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write base initramfs: %w", err)
		}
		c.Log.Info("base initramfs ready", "bytes", buf.Len(), "took", time.Since(start).Round(time.Millisecond))
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "base.cpio"), nil
}

// moduleFileName is the name a module file has in the initramfs: its
// base name without compression suffix.
func moduleFileName(rel string) string {
	return strings.TrimSuffix(filepath.Base(rel), ".xz")
}

// readModule returns a module's ELF, decompressing .ko.xz with xz(1):
// busybox's insmod cannot read compressed modules.
func readModule(ctx context.Context, path string) ([]byte, error) {
	if !strings.HasSuffix(path, ".xz") {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read module: %w", err)
		}
		return b, nil
	}
	cmd := exec.CommandContext(ctx, "xz", "-dc", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("xz -dc %s: %w: %s", path, err, stderr.String())
	}
	return out, nil
}

// moduleLoadOrder lists the module files to insmod, in order, for the
// given lab modules, each dependency once. Display drivers are loaded in
// the order the user listed the displays so card0 is the first display.
func moduleLoadOrder(k *Kernel, modules []string) ([]string, error) {
	var order []string
	seen := map[string]bool{}
	for _, m := range modules {
		files, ok := k.Modules[m]
		if !ok {
			return nil, fmt.Errorf("module %s is not in the lab's kernel module set", m)
		}
		for _, rel := range files {
			name := strings.TrimSuffix(moduleFileName(rel), ".ko")
			if !seen[name] {
				seen[name] = true
				order = append(order, name)
			}
		}
	}
	return order, nil
}

// overlay writes the per-run archive: init, the runner, the command, the
// run's settings and the guest binaries.
func overlay(cfg *runFiles) ([]byte, error) {
	var buf bytes.Buffer
	w := cpio.NewWriter(&buf)
	add := func(err error) {
		if err != nil && cfg.err == nil {
			cfg.err = err
		}
	}
	add(w.File("init", 0o755, []byte(initScript)))
	add(w.Dir("lab", 0o755))
	add(w.Dir("lab/bin", 0o755))
	add(w.File("lab/runner", 0o755, []byte(runnerScript)))
	add(w.File("lab/command", 0o644, []byte(cfg.command)))
	add(w.File("lab/config", 0o644, []byte(cfg.config)))
	names := make([]string, 0, len(cfg.bins))
	for name := range cfg.bins {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := os.ReadFile(cfg.bins[name])
		if err != nil {
			add(fmt.Errorf("read guest binary: %w", err))
			continue
		}
		add(w.File("lab/bin/"+name, 0o755, data))
	}
	mods := make([]string, 0, len(cfg.modules))
	for name := range cfg.modules {
		mods = append(mods, name)
	}
	sort.Strings(mods)
	for _, name := range mods {
		add(w.File("lib/lab/modules/"+name, 0o644, cfg.modules[name]))
	}
	for _, alias := range []string{"lab-screendump", "lab-input", "lab-touch"} {
		add(w.Symlink("lab/bin/"+alias, "vitrine-lab"))
	}
	add(w.Close())
	if cfg.err != nil {
		return nil, fmt.Errorf("build run initramfs: %w", cfg.err)
	}
	return buf.Bytes(), nil
}

type runFiles struct {
	command string
	config  string
	bins    map[string]string // name in /lab/bin -> host path
	// modules are module files beyond the base archive's (by file name
	// in /lib/lab/modules), for this run only.
	modules map[string][]byte
	err     error
}

// hostRootModules9p are what --host-root needs on top of the lab's
// modules: 9p over virtio for the host's root and overlayfs for a
// writable layer on it.
var hostRootModules9p = []string{"9p", "9pnet_virtio", "overlay"}

// hostRootModules resolves the --host-root modules' load order with
// modprobe on the unpacked kernel and reads them, appending to order
// what it does not already load. They are not in the cached base
// archive, so kernels cached before --host-root existed serve as they
// are.
func hostRootModules(ctx context.Context, k *Kernel, order []string) ([]string, map[string][]byte, error) {
	have := map[string]bool{}
	for _, m := range order {
		have[m] = true
	}
	files := map[string][]byte{}
	for _, m := range hostRootModules9p {
		out, err := output(ctx, "modprobe", "-d", k.Root, "-S", k.Release, "--show-depends", m)
		if err != nil {
			return nil, nil, fmt.Errorf("--host-root: module %s: %w", m, err)
		}
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "insmod" {
				continue
			}
			file := moduleFileName(f[1])
			name := strings.TrimSuffix(file, ".ko")
			if have[name] {
				continue
			}
			data, err := readModule(ctx, f[1])
			if err != nil {
				return nil, nil, fmt.Errorf("--host-root: %w", err)
			}
			have[name] = true
			files[file] = data
			order = append(order, name)
		}
	}
	return order, files, nil
}

// initScript is PID 1 in the initramfs. It loads the run's modules,
// then either runs the command itself (session none) or prepares the
// cached disk image and hands over to systemd.
const initScript = `#!/bin/sh
export PATH=/lab/bin:/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /lab/config
say() { echo "vitrine-lab init: $*" >/dev/ttyS0; }
for m in $LAB_MODULES; do
	# LAB_PARAMS holds MODULE:NAME=VALUE words.
	args=
	for p in $LAB_PARAMS; do
		case $p in "$m":*) args="$args ${p#*:}";; esac
	done
	insmod /lib/lab/modules/$m.ko $args || say "insmod $m$args failed"
done
# The session user must reach the lab's virtio ports.
for p in /sys/class/virtio-ports/vport*; do
	[ -e "$p" ] && chmod 0666 "/dev/${p##*/}"
done
if [ "$LAB_SESSION" = none ]; then
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /run
	export HOME=/root
	cd /root
	if [ "$LAB_HOSTROOT" = 1 ]; then
		# The host's root, read-only over 9p, under a tmpfs overlay.
		mkdir -p /host /ovl
		if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host; then
			say "cannot mount the host's root over 9p"
			poweroff -f
		fi
		mount -t tmpfs tmpfs /ovl
		mkdir -p /ovl/upper /ovl/work
		if ! mount -t overlay overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work /newroot; then
			say "cannot overlay the host's root"
			poweroff -f
		fi
		for d in proc sys dev tmp run root lab; do mkdir -p /newroot/$d; done
		mount -t proc proc /newroot/proc
		mount -t sysfs sysfs /newroot/sys
		mount --bind /dev /newroot/dev
		mount --bind /dev/pts /newroot/dev/pts
		mount --bind /dev/shm /newroot/dev/shm
		mount -t tmpfs tmpfs /newroot/tmp
		mount -t tmpfs tmpfs /newroot/run
		mount --bind /lab /newroot/lab
		chroot /newroot /lab/runner </dev/null
		poweroff -f
	fi
	/lab/runner </dev/null
	poweroff -f
fi
if ! mount -t ext4 /dev/vda /newroot; then
	say "cannot mount the disk image /dev/vda"
	poweroff -f
fi
# The disk is a snapshot (QEMU discards writes), so this run's files can
# go straight into it.
rm -rf /newroot/lab
cp -a /lab /newroot/lab
if [ "$LAB_SESSION" = logind ]; then
	# seatd competes with logind for libseat clients.
	ln -sf /dev/null /newroot/etc/systemd/system/seatd.service
fi
echo 'SUBSYSTEM=="virtio-ports", MODE="0666"' >/newroot/etc/udev/rules.d/70-vitrine-lab.rules
[ -n "$LAB_UDEV_RULES" ] && printf '%s\n' "$LAB_UDEV_RULES" >>/newroot/etc/udev/rules.d/70-vitrine-lab.rules
if [ "$LAB_SESSION" = units ]; then
	# examples/systemd as README installs it; the lab's only changes
	# are the user (the image's) and the app.
	etc=/newroot/etc/systemd/system
	cp /lab/bin/vitrine /newroot/usr/local/bin/vitrine
	for u in vitrine-kiosk.service vitrine-kiosk-seatd.service; do
		cat /lab/bin/$u >$etc/$u
		mkdir -p $etc/$u.d
		printf '[Service]\nUser=lab\n' >$etc/$u.d/lab.conf
	done
	printf '%s\n' 'KIOSK_APP=/lab/bin/shm-client --pattern quadrants --fullscreen' 'VITRINE_ARGS=--log-format json --log-level debug' >/newroot/etc/default/vitrine-kiosk
	mkdir -p $etc/graphical.target.wants
	ln -s /etc/systemd/system/vitrine-kiosk.service $etc/graphical.target.wants/vitrine-kiosk.service
	printf '%s\n' '[Unit]' 'After=vitrine-kiosk.service' '[Service]' 'ExecStart=/lab/runner' >$etc/vitrine-lab-runner.service
	ln -s /etc/systemd/system/vitrine-lab-runner.service $etc/graphical.target.wants/vitrine-lab-runner.service
	umount /proc /sys
	mount --move /dev /newroot/dev
	exec switch_root /newroot /lib/systemd/systemd
fi
# The autologin shell on tty1 starts the run, once.
printf '%s\n' \
	'if [ "$(tty)" = /dev/tty1 ] && mkdir /tmp/vitrine-lab.started 2>/dev/null; then' \
	'	/lab/runner' \
	'fi' >/newroot/home/lab/.bash_profile
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
`

// runnerScript runs the command with its output on the lab.out port,
// followed by the run's end marker, and reports start and exit status on
// the lab.status port.
const runnerScript = `#!/bin/sh
. /lab/config
export LAB_SESSION LAB_DISPLAYS LAB_RENDER
export PATH=/lab/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_PAGER=cat
port() {
	for d in /sys/class/virtio-ports/*; do
		if [ "$(cat "$d/name" 2>/dev/null)" = "$1" ]; then
			echo "/dev/${d##*/}"
			return 0
		fi
	done
	return 1
}
i=0
while :; do
	OUT=$(port lab.out) && STATUS=$(port lab.status) && [ -w "$OUT" ] && [ -w "$STATUS" ] && break
	i=$((i+1))
	if [ $i -ge 300 ]; then
		echo "vitrine-lab runner: ports lab.out/lab.status missing or not writable" >/dev/ttyS0
		exit 1
	fi
	sleep 0.1
done
if [ "$LAB_SESSION" = seatd ]; then
	i=0
	while [ ! -S /run/seatd.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
fi
exec 3>"$STATUS" 4>"$OUT"
echo start >&3
sh /lab/command >&4 2>&4 3>&- 4>&-
rc=$?
# The end marker travels on the output port itself, so the host knows it
# has all the output before it acts on the exit status.
printf '%s\n' "$LAB_EOF" >&4
echo "exit $rc" >&3
`
