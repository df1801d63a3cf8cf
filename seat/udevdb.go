package seat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// udevDataDir is where udevd keeps its database: one file per device,
// named by type and number (c13:65 for /dev/input/event1), whose
// "E:KEY=VALUE" lines are the properties its rules set. libudev reads
// the same files; reading them here needs no cgo.
const udevDataDir = "/run/udev/data"

// readUdevProperties returns the properties udev recorded for the
// character device number ("MAJOR:MINOR") in dataDir. A device udev
// never processed (no udevd, as in a container or a bare initramfs)
// has no file: that is no error, just no properties.
func readUdevProperties(dataDir, number string) (map[string]string, error) {
	if number == "" {
		return nil, nil
	}
	if strings.ContainsAny(number, "/") {
		return nil, fmt.Errorf("udev database: bad device number %q", number)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "c"+number))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("udev database: %w", err)
	}
	return parseUdevData(b), nil
}

// parseUdevData picks the properties out of one database file. Other
// record types (S: symlinks, L: link priority, I: init time, G:/Q: tags,
// V: version) are not needed.
func parseUdevData(b []byte) map[string]string {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		kv, ok := strings.CutPrefix(sc.Text(), "E:")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			props[k] = v
		}
	}
	return props
}
