package lab

import (
	"slices"
	"strings"
	"testing"
)

// retakeLines is an unbind run's vitrine log under logind (trimmed).
var retakeLines = []string{
	`{"level":"INFO","msg":"session: using logind","session":"1","seat":"seat0","event":"session.logind"}`,
	`{"level":"DEBUG","msg":"logind: took device","path":"/dev/dri/card0","major":226,"minor":0,"inactive":false,"event":"logind.took_device"}`,
	`{"level":"DEBUG","msg":"logind: took device","path":"/dev/input/event0","major":13,"minor":64,"inactive":false,"event":"logind.took_device"}`,
	`first-frame 1280x800`,
	`{"level":"WARN","msg":"display device gone","device":"/dev/dri/card0","driver":"virtio_gpu","cause":"uevent","clients":1,"event":"display.gone"}`,
	`{"level":"DEBUG","msg":"logind: took device","path":"/dev/dri/card0","major":226,"minor":0,"inactive":false,"event":"logind.took_device"}`,
	`{"level":"INFO","msg":"display device back","device":"/dev/dri/card0","driver":"virtio_gpu","outputs":1,"event":"display.back"}`,
}

func TestJudgeLogindRetake(t *testing.T) {
	if p := judgeLogindRetake(vitrineEvents(retakeLines)); len(p) > 0 {
		t.Fatalf("a good run judged bad: %v", p)
	}
	for _, c := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"not logind", slices.Delete(slices.Clone(retakeLines), 0, 1), "no session.logind"},
		// The rebound card opened some other way than logind's
		// TakeDevice (or not at all).
		{"the new card not taken", slices.Delete(slices.Clone(retakeLines), 5, 6), `want ["took" "display.gone" "took" "display.back"]`},
		// Taken, given up (display.waiting) and taken again.
		{"the new card taken twice", slices.Insert(slices.Clone(retakeLines), 5, retakeLines[5]), `["took" "display.gone" "took" "took" "display.back"]`},
		{"taken before the old one went", slices.Insert(slices.Delete(slices.Clone(retakeLines), 5, 6), 4, retakeLines[5]), `["took" "took" "display.gone" "display.back"]`},
	} {
		p := judgeLogindRetake(vitrineEvents(c.lines))
		if !strings.Contains(strings.Join(p, "\n"), c.want) {
			t.Errorf("%s: problems %q, want one containing %q", c.name, p, c.want)
		}
	}
}
