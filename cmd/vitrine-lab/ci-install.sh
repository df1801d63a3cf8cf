#!/bin/sh
# Installs the Debian (bookworm) packages vitrine-lab needs on a fresh
# machine; `vitrine-lab install` does the same from the tool itself.
#   qemu-system-x86  QEMU (TCG; KVM is not needed)
#   xz-utils         decompresses the kernel's .ko.xz modules
#   kmod             depmod/modprobe resolve module load order
#   busybox-static   the initramfs userland (must be the static build)
#   debootstrap      builds the disk image for logind/seatd sessions
#   e2fsprogs        mke2fs -d turns that tree into an ext4 image
#   (apt and dpkg, always present, download and unpack the kernel)
# The kernel itself comes from bookworm-security (apt-get download,
# cached); no kernel is installed on the host.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update
apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends --no-upgrade \
	qemu-system-x86 xz-utils kmod busybox-static debootstrap e2fsprogs
