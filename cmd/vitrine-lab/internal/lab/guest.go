package lab

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// GuestRequest sends one request to the host over the lab.ctl virtio port
// and waits for the answer. It runs inside the guest (lab-screendump,
// lab-input).
func GuestRequest(req controlRequest) (string, error) {
	dev, err := findPort("/sys/class/virtio-ports", "lab.ctl")
	if err != nil {
		return "", err
	}
	// A virtio port has one opener at a time: another lab-screendump may
	// hold it, so retry while it is busy.
	var f *os.File
	for deadline := time.Now().Add(60 * time.Second); ; {
		f, err = os.OpenFile(dev, os.O_RDWR, 0)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return "", fmt.Errorf("open the lab control port %s: %w", dev, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer f.Close()
	b, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return "", fmt.Errorf("write to the lab control port: %w", err)
	}
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil {
		return "", fmt.Errorf("read the host's answer: %w", err)
	}
	var reply controlReply
	if err := json.Unmarshal(line, &reply); err != nil {
		return "", fmt.Errorf("host's answer %q: %w", line, err)
	}
	if !reply.OK {
		return "", fmt.Errorf("host: %s", reply.Error)
	}
	return reply.Path, nil
}

// findPort returns the /dev node of the virtio port called name.
func findPort(sysDir, name string) (string, error) {
	dirs, _ := filepath.Glob(filepath.Join(sysDir, "*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "name"))
		if err == nil && strings.TrimSpace(string(b)) == name {
			return "/dev/" + filepath.Base(d), nil
		}
	}
	return "", fmt.Errorf("no virtio port named %s under %s: not running inside vitrine-lab?", name, sysDir)
}

// GuestScreendump asks the host to save what display device shows (""
// for the first display) as NAME.png in the run's output directory, and
// returns the host path once it is written.
func GuestScreendump(name, device string) (string, error) {
	return GuestRequest(controlRequest{Op: "screendump", Name: name, Device: device})
}

// GuestHead asks the host to plug a monitor of size ("WxH") into
// display target ("DEVICE:HEAD", see parseHeadTarget), or to unplug it
// (size "off"). It returns once QEMU has passed the request to the
// display device; the guest's driver reports the change a moment later.
func GuestHead(target, size string) error {
	if _, _, err := parseHeadSize(size); err != nil {
		return err
	}
	_, err := GuestRequest(controlRequest{Op: "head", Device: target, Size: size})
	return err
}

// GuestInput asks the host to play an input script; it is checked here
// first so mistakes are reported in the guest with a line number.
func GuestInput(script string) error {
	if _, err := parseInputScript(script); err != nil {
		return err
	}
	_, err := GuestRequest(controlRequest{Op: "input", Script: script})
	return err
}
