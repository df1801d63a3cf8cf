package lab

import (
	"strings"
	"testing"
)

const perOutputGood = `vitrine| {"time":"T","level":"INFO","msg":"output added","name":"Virtual-1","description":"virtio_gpu Virtual-1 (RHT QEMU Monitor)","size":{"X":1024,"Y":768},"refresh_mhz":60000,"transform":"normal","event":"output.added"}
vitrine| {"time":"T","level":"INFO","msg":"output added","name":"Virtual-2","description":"virtio_gpu Virtual-2 (RHT QEMU Monitor)","size":{"X":1024,"Y":768},"refresh_mhz":74994,"transform":"90","event":"output.added"}
vitrine| first-frame 1024x768
second| first-frame 768x1024
vitrine-exit=0
`

func TestJudgePerOutput(t *testing.T) {
	if p := judgePerOutput(perOutputGood); len(p) != 0 {
		t.Fatalf("good run judged bad: %v", p)
	}
	for _, m := range []struct{ from, to string }{
		{`"size":{"X":1024,"Y":768},"refresh_mhz":60000`, `"size":{"X":1280,"Y":800},"refresh_mhz":60000`}, // --mode ignored
		{`"transform":"normal"`, `"transform":"90"`},                                                       // Virtual-1 turned too
		{`"refresh_mhz":74994,"transform":"90"`, `"refresh_mhz":74994,"transform":"normal"`},               // --rotate NAME= ignored
		{"second| first-frame 768x1024", "second| first-frame 1024x768"},                                   // client not told portrait
		{"vitrine| first-frame 1024x768", "vitrine| first-frame 1280x800"},
		{"vitrine-exit=0", "vitrine-exit=1"},
		{"vitrine-exit=0\n", "vitrine-exit=0\nFAIL: no head\n"},
	} {
		bad := strings.Replace(perOutputGood, m.from, m.to, 1)
		if bad == perOutputGood {
			t.Fatalf("mutation %q not applied", m.from)
		}
		if p := judgePerOutput(bad); len(p) == 0 {
			t.Errorf("mutation %q -> %q judged good", m.from, m.to)
		}
	}
}
