package lab

import (
	"strings"
	"testing"
)

// hotplugVTGood is the output of a good vitrine-hotplug-vt-logind run,
// trimmed to the lines the judge reads (and a few it must ignore).
const hotplugVTGood = `user=lab
vitrine-user=lab
before status=disconnected
away-plug-ms=420
away-plug status=connected vitrine-lit=0 vitrine-added=0 client-added=0
return-plug vitrine-ms=610 client-ms=700
away-unplug-ms=380
away-unplug status=disconnected vitrine-off=0 client-removed=0
return-unplug vitrine-ms=590 client-ms=640
vitrine-exit=0
vitrine| {"time":"T","level":"DEBUG","msg":"logind: took control","session":1,"seat":"seat0","vt":1,"active":true}
vitrine| {"time":"T","level":"INFO","msg":"session: using logind","session":1,"seat":"seat0","event":"session.logind"}
vitrine| {"time":"T","level":"DEBUG","msg":"logind: took device","path":"/dev/dri/card0","major":226,"minor":0,"inactive":false,"event":"logind.took_device"}
vitrine| {"time":"T","level":"INFO","msg":"output on","output":"Virtual-1","description":"virtio_gpu Virtual-1 (RHT QEMU Monitor)","mode":"1280x800@74.994","crtc":36,"atomic":true,"transform":"normal","plane_rotation":false,"buffers":1,"format":"XRGB8888","event":"output.on"}
vitrine| {"time":"T","level":"INFO","msg":"output added","name":"Virtual-1","description":"virtio_gpu Virtual-1 (RHT QEMU Monitor)","size":{"X":1280,"Y":800},"refresh_mhz":74994,"transform":"normal","event":"output.added"}
vitrine| output-added Virtual-1 1280x800
vitrine| first-frame 1280x800
vitrine| surface-enter Virtual-1
vitrine| {"time":"T","level":"DEBUG","msg":"logind: pause device","path":"/dev/dri/card0","type":"force"}
vitrine| {"time":"T","level":"INFO","msg":"session","active":false,"event":"session.active"}
vitrine| {"time":"T","level":"INFO","msg":"logind: session active changed","active":false,"event":"logind.active"}
vitrine| {"time":"T","level":"INFO","msg":"connectors changed while the session is away; rescanning on return","event":"hotplug.deferred"}
vitrine| {"time":"T","level":"INFO","msg":"connectors changed while the session is away; rescanning on return","event":"hotplug.deferred"}
vitrine| {"time":"T","level":"DEBUG","msg":"logind: resume device","path":"/dev/dri/card0"}
vitrine| {"time":"T","level":"INFO","msg":"output on","output":"Virtual-2","description":"virtio_gpu Virtual-2 (RHT QEMU Monitor)","mode":"1024x768@74.994","crtc":37,"atomic":true,"transform":"normal","plane_rotation":false,"buffers":1,"format":"XRGB8888","event":"output.on"}
vitrine| {"time":"T","level":"INFO","msg":"output added","name":"Virtual-2","description":"virtio_gpu Virtual-2 (RHT QEMU Monitor)","size":{"X":1024,"Y":768},"refresh_mhz":74994,"transform":"normal","event":"output.added"}
vitrine| {"time":"T","level":"INFO","msg":"session","active":true,"event":"session.active"}
vitrine| {"time":"T","level":"INFO","msg":"logind: session active changed","active":true,"event":"logind.active"}
vitrine| output-added Virtual-2 1024x768
vitrine| {"time":"T","level":"DEBUG","msg":"logind: pause device","path":"/dev/dri/card0","type":"force"}
vitrine| {"time":"T","level":"INFO","msg":"session","active":false,"event":"session.active"}
vitrine| {"time":"T","level":"INFO","msg":"connectors changed while the session is away; rescanning on return","event":"hotplug.deferred"}
vitrine| {"time":"T","level":"DEBUG","msg":"logind: resume device","path":"/dev/dri/card0"}
vitrine| {"time":"T","level":"INFO","msg":"output off","output":"Virtual-2","frames":40,"scanouts":0,"copied_bytes":3145728,"event":"output.off"}
vitrine| {"time":"T","level":"INFO","msg":"session","active":true,"event":"session.active"}
vitrine| output-removed Virtual-2
vitrine| stats: output=Virtual-1 frames=3 scanout=0 composited=3 copied_bytes=12288000
vitrine| {"time":"T","level":"INFO","msg":"stats","output":"Virtual-1","frames":3,"scanout":0,"composited":3,"copied_bytes":12288000,"event":"stats"}
vitrine| {"time":"T","level":"INFO","msg":"output off","output":"Virtual-1","frames":60,"scanouts":0,"copied_bytes":12288000,"event":"output.off"}
second| output-added Virtual-1 1280x800
second| output-added Virtual-2 1024x768
second| surface-enter Virtual-2
second| first-frame 1024x768
second| surface-leave Virtual-2
second| output-removed Virtual-2
second| surface-enter Virtual-1
second| resized 1280x800
`

func TestJudgeHotplugVTOutput(t *testing.T) {
	if p := judgeHotplugVTOutput(hotplugVTGood); len(p) != 0 {
		t.Fatalf("a good run was judged bad:\n%s", strings.Join(p, "\n"))
	}
	d := hotplugVTDelays(hotplugVTGood)
	if d["away-plug"] != 420 || d["return-plug-client"] != 700 || d["return-unplug-vitrine"] != 590 || len(d) != 6 {
		t.Errorf("delays %v", d)
	}
	away := `vitrine| {"time":"T","level":"INFO","msg":"connectors changed while the session is away; rescanning on return","event":"hotplug.deferred"}` + "\n"
	addV2 := `vitrine| {"time":"T","level":"INFO","msg":"output added","name":"Virtual-2","description":"virtio_gpu Virtual-2 (RHT QEMU Monitor)","size":{"X":1024,"Y":768},"refresh_mhz":74994,"transform":"normal","event":"output.added"}` + "\n"
	onV2 := `vitrine| {"time":"T","level":"INFO","msg":"output on","output":"Virtual-2","description":"virtio_gpu Virtual-2 (RHT QEMU Monitor)","mode":"1024x768@74.994","crtc":37,"atomic":true,"transform":"normal","plane_rotation":false,"buffers":1,"format":"XRGB8888","event":"output.on"}` + "\n"
	offV2 := `vitrine| {"time":"T","level":"INFO","msg":"output off","output":"Virtual-2","frames":40,"scanouts":0,"copied_bytes":3145728,"event":"output.off"}` + "\n"
	resume := `vitrine| {"time":"T","level":"INFO","msg":"session","active":true,"event":"session.active"}` + "\n"
	for _, tc := range []struct {
		what, from, to, want string
		all                  bool // replace every occurrence
	}{
		// The script's own lines.
		{what: "a script failure", from: "vitrine-exit=0\n", to: "FAIL: no vitrine adding Virtual-2 on return within 20s\nvitrine-exit=0\n", want: "FAIL: no vitrine adding"},
		{what: "another user", from: "user=lab\n", to: "user=root\n", want: `^user=lab$`},
		{what: "vitrine as root", from: "vitrine-user=lab", to: "vitrine-user=root", want: `^vitrine-user=lab$`},
		{what: "a crash", from: "vitrine-exit=0", to: "vitrine-exit=2", want: "vitrine-exit=0"},
		{what: "head 1 plugged at start", from: "before status=disconnected", to: "before status=connected", want: "before status=disconnected"},
		{what: "the plug not reaching the kernel", from: "away-plug status=connected", to: "away-plug status=disconnected", want: "away-plug status=connected"},
		{what: "lit while away", from: "vitrine-lit=0", to: "vitrine-lit=1", want: "away-plug status=connected"},
		{what: "added while away", from: "vitrine-added=0", to: "vitrine-added=1", want: "away-plug status=connected"},
		{what: "the client told while away", from: "client-added=0", to: "client-added=1", want: "away-plug status=connected"},
		{what: "the unplug not reaching the kernel", from: "away-unplug status=disconnected", to: "away-unplug status=connected", want: "away-unplug status=disconnected"},
		{what: "removed while away", from: "vitrine-off=0", to: "vitrine-off=1", want: "away-unplug status=disconnected"},
		{what: "the client told of the unplug while away", from: "client-removed=0", to: "client-removed=1", want: "away-unplug status=disconnected"},
		{what: "a missing delay", from: "return-unplug vitrine-ms=590 client-ms=640\n", to: "", want: "no delay return-unplug-vitrine"},
		{what: "a missing away delay", from: "away-plug-ms=420\n", to: "", want: "no delay away-plug"},
		// The session.
		{what: "not logind", from: `"event":"session.logind"`, to: `"event":"session.direct"`, want: "did not use logind"},
		{what: "the card not from logind", from: `"event":"logind.took_device"`, to: `"event":"opened"`, want: "logind.took_device"},
		// vitrine's log.
		{what: "an error", from: "vitrine-exit=0\n", to: "vitrine-exit=0\n" + `vitrine| {"time":"T","level":"ERROR","msg":"resume outputs","err":"EINVAL"}` + "\n", want: "vitrine logged"},
		{what: "no away line for the plug", from: away + away, to: "", want: "vitrine's log went"},
		{what: "no away line at all", from: away, to: "", all: true, want: "vitrine's log went"},
		{what: "Virtual-2 added while away", from: away + away, to: away + away + onV2 + addV2 + "vitrine| output-added Virtual-2 1024x768\n", want: "vitrine's log went"},
		{what: "Virtual-2 added after the repaint", from: addV2 + resume, to: resume + addV2, want: "vitrine's log went"},
		{what: "Virtual-2 removed after the repaint", from: offV2 + resume, to: resume + offV2, want: "vitrine's log went"},
		{what: "Virtual-2 never lit", from: onV2, to: "", want: "vitrine's log went"},
		{what: "Virtual-2 never added", from: addV2, to: "", want: "vitrine's log went"},
		{what: "Virtual-2 never removed", from: offV2, to: "", want: "vitrine's log went"},
		{what: "Virtual-2 removed twice", from: offV2, to: offV2 + offV2, want: "vitrine's log went"},
		{what: "Virtual-2 at a wrong mode", from: `"mode":"1024x768@`, to: `"mode":"1280x800@`, want: "did not light Virtual-2 at 1024x768"},
		{what: "no pause", from: `vitrine| {"time":"T","level":"INFO","msg":"session","active":false,"event":"session.active"}` + "\n", to: "", want: "vitrine's log went"},
		{what: "no stats event (the text line kept)", from: `"event":"stats"`, to: `"event":"nostats"`, want: "no stats event for Virtual-1"},
		{what: "stats for another output", from: `"output":"Virtual-1","frames":3`, to: `"output":"Virtual-2","frames":3`, want: "no stats event for Virtual-1"},
		{what: "Virtual-1 not switched off at exit", from: `"copied_bytes":12288000,"event":"output.off"`, to: `"copied_bytes":12288000,"event":"output.gone"`, want: "vitrine's log went"},
		// The client on Virtual-1 (its lines are in vitrine's log).
		{what: "the client never seeing Virtual-2", from: "vitrine| output-added Virtual-2 1024x768\n", to: "", want: "the client on Virtual-1 saw"},
		{what: "the client never seeing Virtual-2 go", from: "vitrine| output-removed Virtual-2\n", to: "", want: "the client on Virtual-1 saw"},
		{what: "the client seeing a wrong mode", from: "vitrine| output-added Virtual-2 1024x768", to: "vitrine| output-added Virtual-2 1280x800", want: "the client on Virtual-1 saw"},
		{what: "the client leaving Virtual-1", from: "vitrine| output-removed Virtual-2\n", to: "vitrine| output-removed Virtual-2\nvitrine| surface-leave Virtual-1\n", want: "the client on Virtual-1 saw"},
		// The second client.
		{what: "the second client never on Virtual-2", from: "second| surface-enter Virtual-2\n", to: "", want: "the second client"},
		{what: "the second client at a wrong size", from: "second| first-frame 1024x768", to: "second| first-frame 1280x800", want: "the second client"},
		{what: "the second client not told of the unplug", from: "second| output-removed Virtual-2\n", to: "", want: "the second client"},
		{what: "the second client not moved", from: "second| surface-enter Virtual-1\n", to: "", want: "the second client"},
		{what: "the second client not redrawn", from: "second| resized 1280x800\n", to: "", want: "the second client"},
	} {
		bad := strings.Replace(hotplugVTGood, tc.from, tc.to, 1)
		if tc.all {
			bad = strings.ReplaceAll(hotplugVTGood, tc.from, tc.to)
		}
		if bad == hotplugVTGood {
			t.Fatalf("%s: %q is not in the good output", tc.what, tc.from)
		}
		p := judgeHotplugVTOutput(bad)
		if !strings.Contains(strings.Join(p, "\n"), tc.want) {
			t.Errorf("%s: problems %q, want one containing %q", tc.what, p, tc.want)
		}
	}
}

// Every line of the good output that the judge reads must matter: a
// run without it is judged bad.
func TestJudgeHotplugVTEachLine(t *testing.T) {
	ignored := func(l string) bool {
		return strings.Contains(l, `"level":"DEBUG"`) || strings.Contains(l, `"logind: session active changed"`) ||
			l == "vitrine| first-frame 1280x800" || l == "second| output-added Virtual-1 1280x800" ||
			// vitrine prints the text stats: line in both formats; the
			// judge reads the stats event only.
			strings.HasPrefix(l, "vitrine| stats: ") ||
			// The away lines come in runs, counted once.
			strings.Contains(l, "while the session is away")
	}
	lines := strings.Split(strings.TrimSuffix(hotplugVTGood, "\n"), "\n")
	for i, l := range lines {
		if ignored(l) {
			continue
		}
		bad := strings.Join(append(append([]string{}, lines[:i]...), lines[i+1:]...), "\n") + "\n"
		if p := judgeHotplugVTOutput(bad); len(p) == 0 {
			t.Errorf("a run without line %d %q was judged good", i+1, l)
		}
	}
}
