package lab

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestPrivateApt exercises the fallback for hosts whose apt sources lack
// bookworm-security: a private apt state under the cache must find the
// kernel package. It needs the network, so it is gated like the lab.
func TestPrivateApt(t *testing.T) {
	if os.Getenv("VITRINE_LAB") != "1" && os.Getenv("CI") != "true" {
		t.Skip("needs the network; set VITRINE_LAB=1 (or CI=true)")
	}
	c := &Cache{Dir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	opts, err := c.privateApt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	name, version, err := newestKernel(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !kernelPackage.MatchString(name) || !strings.Contains(version, "deb12") {
		t.Errorf("private apt found %s %s", name, version)
	}
	t.Logf("private apt: %s %s", name, version)
}
