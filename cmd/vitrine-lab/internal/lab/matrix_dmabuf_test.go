package lab

import (
	"strings"
	"testing"
)

func TestJudgeMainDevice(t *testing.T) {
	const good = `drm-node card0 226:0 0000:00:02.0
drm-node card1 226:1 vgem
drm-node renderD128 226:128 vgem
quadrants| {"level":"INFO","msg":"main device for clients","path":"/dev/dri/renderD128","why":"exports buffers the display imports","event":"dmabuf.main_device"}
quadrants| surface-feedback main_device=226:128 tranches=2
quadrants| surface-feedback-tranche index=0 target_device=226:0 flags=scanout scanout=true formats=4
quadrants| surface-feedback-tranche index=1 target_device=226:128 flags=0 scanout=false formats=9
`
	if err := judgeMainDevice(good); err != nil {
		t.Fatalf("a good run failed: %v", err)
	}
	for _, tc := range []struct{ what, from, to, want string }{
		{"no main device event", `"event":"dmabuf.main_device"`, `"event":"x"`, "main device choice"},
		{"the display as main device", "main_device=226:128", "main_device=226:0", "want vgem's render node"},
		{"scanout tranche on vgem", "index=0 target_device=226:0", "index=0 target_device=226:128", "want the cirrus card"},
		{"copy tranche on the display", "index=1 target_device=226:128", "index=1 target_device=226:0", "want the main device"},
	} {
		err := judgeMainDevice(strings.Replace(good, tc.from, tc.to, 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", tc.what, err, tc.want)
		}
	}
}
