package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const sampleLog = `{"time":"t","level":"INFO","msg":"output added","name":"VGA-1","size":{"X":1024,"Y":768},"event":"output.added"}
output-added VGA-1 1024x768
{"time":"t","level":"DEBUG","msg":"frame","output":"VGA-1","event":"frame"}
{"time":"t","level":"DEBUG","msg":"frame","output":"VGA-1","event":"frame"}
{"time":"t","level":"INFO","msg":"output power","output":"VGA-1","on":false,"event":"output.power"}
{"time":"t","level":"ERROR","msg":"present failed","output":"VGA-1"}
`

func TestVitrineEvents(t *testing.T) {
	evs := vitrineEvents(strings.Split(sampleLog, "\n"))
	if len(evs) != 5 {
		t.Fatalf("%d records, want 5 (the client's line skipped)", len(evs))
	}
	if n := countEvents(evs, "frame", "output", "VGA-1"); n != 2 {
		t.Errorf("%d frame events, want 2", n)
	}
	if n := countEvents(evs, "output.power", "output", "VGA-1", "on", "false"); n != 1 {
		t.Errorf("%d power-off events, want 1", n)
	}
	if n := countEvents(evs, "output.power", "on", "true"); n != 0 {
		t.Errorf("%d power-on events, want 0", n)
	}
	if p := errorEvents(evs); len(p) != 1 || !strings.Contains(p[0], "present failed") {
		t.Errorf("errors %q", p)
	}
	if w, h, ok := eventSize(findEvents(evs, "output.added")[0]); !ok || w != 1024 || h != 768 {
		t.Errorf("size %dx%d %v", w, h, ok)
	}
}

// statsLines is what vitrine --log-format json prints at exit for the
// text line stats (tagged TAG| as a guest script does): the stats: line,
// which both formats keep, and the stats event with its numbers. Any
// other line is printed alone.
func statsLines(tag, stats string) string {
	text := tag + "| " + stats + "\n"
	rest, ok := strings.CutPrefix(stats, "stats: ")
	if !ok {
		return text
	}
	var js strings.Builder
	js.WriteString(`{"time":"x","level":"INFO","msg":"stats"`)
	for _, kv := range strings.Fields(rest) {
		k, v, _ := strings.Cut(kv, "=")
		if k == "output" {
			v = `"` + v + `"`
		}
		fmt.Fprintf(&js, `,"%s":%s`, k, v)
	}
	js.WriteString(`,"event":"stats"}`)
	return text + tag + "| " + js.String() + "\n"
}

func TestStatsLines(t *testing.T) {
	got := statsLines("q", "stats: output=VGA-1 frames=2 scanout=1 composited=1 copied_bytes=9 overlay0=1")
	want := "q| stats: output=VGA-1 frames=2 scanout=1 composited=1 copied_bytes=9 overlay0=1\n" +
		`q| {"time":"x","level":"INFO","msg":"stats","output":"VGA-1","frames":2,"scanout":1,"composited":1,"copied_bytes":9,"overlay0":1,"event":"stats"}` + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseStats(t *testing.T) {
	const good = `{"level":"INFO","msg":"stats","output":"VKMS-1","frames":120,"scanout":0,"composited":120,"copied_bytes":4096000000,"overlay0":101,"overlay1":3,"event":"stats"}`
	parse := func(lines ...string) (vitrineStats, error) { return parseStats(vitrineEvents(lines)) }
	st, err := parse("stats: output=VKMS-1 frames=1 scanout=1 composited=0 copied_bytes=1", good,
		strings.Replace(good, `"output":"VKMS-1"`, `"output":"VKMS-2"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	// The event's numbers, not the text line's; the first event.
	if st.Output != "VKMS-1" || st.Frames != 120 || st.Scanout != 0 || st.Composited != 120 || st.CopiedBytes != 4096000000 ||
		len(st.Overlays) != 2 || st.Overlay(0) != 101 || st.Overlay(1) != 3 || st.Overlay(2) != 0 {
		t.Errorf("parsed %+v", st)
	}
	// A reworded message does not matter; the event name does.
	if st, err := parse(strings.Replace(good, `"msg":"stats"`, `"msg":"totals at exit"`, 1)); err != nil || st.Frames != 120 {
		t.Errorf("reworded message: %+v, %v", st, err)
	}
	if st, err := parse(strings.Replace(good, `,"overlay0":101,"overlay1":3`, "", 1)); err != nil || st.Overlays != nil || st.Overlay(0) != 0 {
		t.Errorf("no overlays: %+v, %v", st, err)
	}
	for _, b := range []struct{ name, line, want string }{
		{"only the text line", "stats: output=VKMS-1 frames=120 scanout=0 composited=120 copied_bytes=4096000000", "no stats event"},
		{"another event", strings.Replace(good, `"event":"stats"`, `"event":"statz"`, 1), "no stats event"},
		{"no output", strings.Replace(good, `"output":"VKMS-1",`, "", 1), "names no output"},
		{"no copied_bytes", strings.Replace(good, `"copied_bytes":4096000000,`, "", 1), "no whole-number copied_bytes"},
		{"scanout as text", strings.Replace(good, `"scanout":0`, `"scanout":"0"`, 1), "no whole-number scanout"},
		{"fractional frames", strings.Replace(good, `"frames":120`, `"frames":1.5`, 1), "no whole-number frames"},
	} {
		if _, err := parse(b.line); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}

func TestEventOf(t *testing.T) {
	for _, tc := range []struct {
		line, event string
		ok          bool
	}{
		{`box| {"level":"DEBUG","msg":"frame","event":"frame"}`, "frame", true},
		{`{"level":"INFO","msg":"input: device added","event":"input.added"}`, "input.added", true},
		{`{"level":"INFO","msg":"a| b","event":"x"}`, "x", true},
		{"box| first-frame 1280x800", "", false},
		{"box| {not json", "", false},
		{"stats: output=VGA-1 frames=1", "", false},
	} {
		e, ok := eventOf(tc.line)
		if ok != tc.ok || e.Event() != tc.event {
			t.Errorf("%q: event %q %v, want %q %v", tc.line, e.Event(), ok, tc.event, tc.ok)
		}
	}
	out := "box| {\"msg\":\"frame\",\"event\":\"frame\"}\nbox| {\"msg\":\"input: device added\",\"event\":\"input.added\"}\n" +
		"box| {\"msg\":\"frame painted\",\"event\":\"output.on\"}\nbox| first-frame 8x8"
	if got, want := nonFrameLines(out), "box| {\"msg\":\"frame painted\",\"event\":\"output.on\"}\nbox| first-frame 8x8"; got != want {
		t.Errorf("nonFrameLines kept %q, want %q", got, want)
	}
}

// TestEventShell runs the guest's helpers in busybox sh, as the guest
// does.
func TestEventShell(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox is not installed (Debian: busybox-static; the lab needs it)")
	}
	log := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(log, []byte(sampleLog), 0o644); err != nil {
		t.Fatal(err)
	}
	script := eventShell + `fail() { echo "FAIL: $*"; exit 1; }
pid=$$
echo frames=$(matchev ` + log + ` frame)
echo off=$(matchev ` + log + ` output.power '"output":"VGA-1"' '"on":false')
echo on=$(matchev ` + log + ` output.power '"on":true')
awaitev ` + log + ` output.added 1 'VGA-1 added' '"name":"VGA-1"'
echo awaited
`
	out, err := exec.Command(bb, "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, want := string(out), "frames=2\noff=1\non=0\nawaited\n"; got != want {
		t.Fatalf("printed %q, want %q", got, want)
	}
}
