package lab

import (
	"strings"
	"testing"
)

// unbindLog is an unbind run's vitrine log as the lab saw it (trimmed),
// with edit applied to each line.
func unbindLog(edit func(string) string) []logEvent {
	lines := []string{
		`{"time":"t","level":"INFO","msg":"session: using logind","session":"1","seat":"seat0","event":"session.logind"}`,
		`{"time":"t","level":"INFO","msg":"output on","output":"Virtual-1","event":"output.on"}`,
		`{"time":"t","level":"INFO","msg":"output added","name":"Virtual-1","event":"output.added"}`,
		`first-frame 1280x800`,
		`{"time":"t","level":"WARN","msg":"display device gone; clients keep running, and the next display device that appears is used","device":"/dev/dri/card0","driver":"virtio_gpu","cause":"uevent","why":"the kernel removed dri/card0 (driver unbound or device unplugged)","clients":1,"event":"display.gone"}`,
		`{"time":"t","level":"INFO","msg":"no display device yet","err":"no DRM display device in /dev/dri","event":"display.waiting"}`,
		`{"time":"t","level":"INFO","msg":"display device back","device":"/dev/dri/card0","driver":"virtio_gpu","outputs":1,"event":"display.back"}`,
		`{"time":"t","level":"INFO","msg":"output added","name":"Virtual-1","replaces_placeholder":"Virtual-1","event":"output.added"}`,
		`{"time":"t","level":"INFO","msg":"stats","output":"Virtual-1","frames":3,"scanout":0,"composited":3,"copied_bytes":4096000,"event":"stats"}`,
	}
	for i := range lines {
		if edit != nil {
			lines[i] = edit(lines[i])
		}
	}
	return vitrineEvents(lines)
}

func TestJudgeUnbindEvents(t *testing.T) {
	if p := judgeUnbindEvents(unbindLog(nil), "unbind", "uevent"); len(p) > 0 {
		t.Fatalf("a good run judged bad: %v", p)
	}
	if p := judgeUnbindEvents(unbindLog(nil), "unbind", ""); len(p) > 0 {
		t.Fatalf("a good run judged bad with any cause: %v", p)
	}
	for _, c := range []struct {
		name, from, to, cause, want string
	}{
		{"no gone event", `"event":"display.gone"`, `"event":"x"`, "", "0 display.gone events"},
		{"gone for another card", `"device":"/dev/dri/card0","driver":"virtio_gpu","cause"`, `"device":"/dev/dri/card1","driver":"virtio_gpu","cause"`, "", "0 display.gone events"},
		{"the client gone too", `"clients":1`, `"clients":0`, "", "0 display.gone events"},
		{"another cause", `"cause":"uevent"`, `"cause":"enodev"`, "uevent", `cause="enodev", want "uevent"`},
		{"never back", `"event":"display.back"`, `"event":"x"`, "", "0 display.back events"},
		{"back without outputs", `"outputs":1`, `"outputs":0`, "", "0 display.back events"},
		{"a clean-up warning", `"level":"INFO","msg":"no display device yet"`, `"level":"WARN","msg":"no display device yet"`, "", "a warning beside display.gone"},
		{"an error", `"level":"INFO","msg":"display device back"`, `"level":"ERROR","msg":"display device back"`, "", `vitrine logged: {"device"`},
		{"no frame after the rebind", `"composited":3`, `"composited":0`, "", "composited=0"},
		{"no clean exit", `"event":"stats"`, `"event":"x"`, "", "0 stats events"},
	} {
		evs := unbindLog(func(l string) string { return strings.Replace(l, c.from, c.to, 1) })
		p := judgeUnbindEvents(evs, "unbind", c.cause)
		if !strings.Contains(strings.Join(p, "\n"), c.want) {
			t.Errorf("%s: problems %q, want one containing %q", c.name, p, c.want)
		}
	}
}
