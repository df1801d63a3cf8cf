package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// imageLayout is bumped whenever the disk image's content changes
// meaning. 2: polkitd (logind's Seat.SwitchTo for the session user) and
// /dev/uinput for the input group.
const imageLayout = "2"

// imageUser is the autologin user whose tty1 session runs the command.
const imageUser = "lab"

// DiskImage returns the cached Debian bookworm image that boots systemd
// with logind and seatd, building it the first time (debootstrap, ~1
// minute plus downloads). It carries the kernel's modules so udev can
// load drivers, and an autologin on tty1 so a real logind session exists.
// Runs boot it as a QEMU snapshot, so the cached file never changes.
func (c *Cache) DiskImage(ctx context.Context, k *Kernel) (string, error) {
	key := fmt.Sprintf("image-bookworm-%s-v%s", k.Package, imageLayout)
	dir, err := c.build(key, func(tmp string) error {
		if os.Geteuid() != 0 {
			return errors.New("building the lab's disk image needs root (debootstrap and file ownership); run once as root, later runs can use the cache")
		}
		start := time.Now()
		c.Log.Info("building the disk image for logind/seatd sessions (once, about a minute plus downloads)", "cache", filepath.Join(c.Dir, key))
		root := filepath.Join(tmp, "root")
		if err := runIn(ctx, tmp, "debootstrap", "--variant=minbase",
			"--include=systemd,systemd-sysv,dbus,udev,libpam-systemd,kmod,seatd,procps,polkitd",
			"bookworm", root, "http://deb.debian.org/debian"); err != nil {
			return err
		}
		modDir := filepath.Join(root, "lib", "modules")
		if err := os.MkdirAll(modDir, 0o755); err != nil {
			return fmt.Errorf("disk image: %w", err)
		}
		if err := runIn(ctx, tmp, "cp", "-a", k.ModulesDir(), modDir); err != nil {
			return err
		}
		if err := runIn(ctx, tmp, "depmod", "-b", root, k.Release); err != nil {
			return err
		}
		if err := runIn(ctx, tmp, "chroot", root, "useradd", "-m", "-G", "video,input,dialout", "-s", "/bin/bash", imageUser); err != nil {
			return err
		}
		files := map[string]string{
			"etc/fstab":    "/dev/vda / ext4 defaults 0 1\n",
			"etc/hostname": "vitrine-lab\n",
			"etc/systemd/system/getty@tty1.service.d/autologin.conf": "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin " + imageUser + " --noclear %I $TERM\n",
			// lab-touch makes its touchscreen through /dev/uinput as the
			// session user (group input). The initramfs already loaded
			// the module; modules-load keeps that true if it stops doing so.
			"etc/udev/rules.d/60-vitrine-lab-uinput.rules": "KERNEL==\"uinput\", GROUP=\"input\", MODE=\"0660\"\n",
			"etc/modules-load.d/vitrine-lab.conf":          "uinput\n",
		}
		for name, content := range files {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fmt.Errorf("disk image: %w", err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return fmt.Errorf("disk image: %w", err)
			}
		}
		// ttyS0 carries the kernel console; a getty there would fight
		// over it. The timers only cost boot time in a throwaway guest.
		for _, unit := range []string{"serial-getty@ttyS0.service", "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer"} {
			p := filepath.Join(root, "etc/systemd/system", unit)
			os.Remove(p)
			if err := os.Symlink("/dev/null", p); err != nil {
				return fmt.Errorf("mask %s: %w", unit, err)
			}
		}
		debs, _ := filepath.Glob(filepath.Join(root, "var/cache/apt/archives/*.deb"))
		for _, d := range debs {
			os.Remove(d)
		}
		img := filepath.Join(tmp, "root.img")
		if err := runIn(ctx, tmp, "mke2fs", "-q", "-t", "ext4", "-L", "vitrine-lab", "-d", root, img, "1G"); err != nil {
			return err
		}
		if err := os.RemoveAll(root); err != nil {
			return fmt.Errorf("disk image: remove staging tree: %w", err)
		}
		c.Log.Info("disk image ready", "took", time.Since(start).Round(time.Second))
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "root.img"), nil
}
