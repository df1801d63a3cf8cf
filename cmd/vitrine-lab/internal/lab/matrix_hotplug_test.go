package lab

import (
	"fmt"
	"strings"
	"testing"
)

// hotplugOutput is the guest script's output of a good kms-hotplug run
// with the given number of cycles, trimmed to the lines the judge reads.
func hotplugOutput(cycles int) string {
	on := func(name, mode string) string {
		return fmt.Sprintf(`vitrine| {"time":"t","level":"INFO","msg":"output on","output":"%s","mode":"%s@74.994","crtc":36,"atomic":true,"event":"output.on"}
vitrine| {"time":"t","level":"INFO","msg":"output added","name":"%s","size":{"X":1,"Y":1},"refresh_mhz":74994,"transform":"normal","event":"output.added"}
`, name, mode, name)
	}
	off := func(name string) string {
		return fmt.Sprintf(`vitrine| {"time":"t","level":"INFO","msg":"output off","output":"%s","frames":2,"scanouts":0,"copied_bytes":9437184,"event":"output.off"}`+"\n", name)
	}
	var b strings.Builder
	for c := 1; c <= cycles; c++ {
		fmt.Fprintf(&b, "plug %d request-ms=140 vitrine-ms=270 client-ms=300\nunplug %d request-ms=200 vitrine-ms=260 client-ms=280\n", c, c)
	}
	b.WriteString("fds cycle1=23 cycle3=23\nvitrine-exit=0\n")
	b.WriteString(on("Virtual-1", "1280x800"))
	b.WriteString("vitrine| output-added Virtual-1 1280x800\nvitrine| first-frame 1280x800\nvitrine| surface-enter Virtual-1\n")
	for range cycles {
		b.WriteString(on("Virtual-2", "1024x768"))
		b.WriteString("vitrine| output-added Virtual-2 1024x768\n")
		b.WriteString(off("Virtual-2"))
		b.WriteString("vitrine| output-removed Virtual-2\n")
	}
	// Virtual-1 alone goes and comes back: the client sees nothing.
	b.WriteString(off("Virtual-1"))
	b.WriteString(`vitrine| {"time":"t","level":"INFO","msg":"placeholder output","output":"Virtual-1","size":{"X":1280,"Y":800},"event":"output.placeholder"}` + "\n")
	b.WriteString(`vitrine| {"time":"t","level":"INFO","msg":"output on","output":"Virtual-1","mode":"1280x800@74.994","event":"output.on"}` + "\n")
	b.WriteString(`vitrine| {"time":"t","level":"INFO","msg":"output added","name":"Virtual-1","size":{"X":1280,"Y":800},"replaces_placeholder":"Virtual-1","event":"output.added"}` + "\n")
	// Virtual-1 goes while Virtual-2 is there, comes back, Virtual-2 goes.
	b.WriteString(on("Virtual-2", "1024x768"))
	b.WriteString("vitrine| output-added Virtual-2 1024x768\n")
	b.WriteString(off("Virtual-1"))
	b.WriteString("vitrine| surface-leave Virtual-1\nvitrine| output-removed Virtual-1\nvitrine| surface-enter Virtual-2\n")
	b.WriteString(on("Virtual-1", "1280x800"))
	b.WriteString("vitrine| output-added Virtual-1 1280x800\n")
	b.WriteString(off("Virtual-2"))
	b.WriteString("vitrine| surface-leave Virtual-2\nvitrine| output-removed Virtual-2\nvitrine| surface-enter Virtual-1\n")
	b.WriteString("vitrine| resized 1024x768\nvitrine| resized 1280x800\n")
	b.WriteString("vitrine| stats: output=Virtual-1 frames=1 scanout=0 composited=1 copied_bytes=8192000\n")
	b.WriteString(`vitrine| {"time":"t","level":"INFO","msg":"stats","output":"Virtual-1","frames":1,"event":"stats"}` + "\n")
	b.WriteString(off("Virtual-1"))
	b.WriteString(`second| output-added Virtual-1 1280x800
second| output-added Virtual-2 1024x768
second| surface-enter Virtual-2
second| first-frame 1024x768
second| surface-leave Virtual-2
second| output-removed Virtual-2
second| surface-enter Virtual-1
second| resized 1280x800
second| surface-leave Virtual-1
second| output-removed Virtual-1
second| surface-enter Virtual-2
second| resized 1024x768
second| surface-leave Virtual-2
second| output-removed Virtual-2
second| surface-enter Virtual-1
second| resized 1280x800
`)
	return b.String()
}

func TestJudgeHotplugOutput(t *testing.T) {
	good := hotplugOutput(3)
	if p := judgeHotplugOutput(good, 3); len(p) != 0 {
		t.Fatalf("a good run was judged bad:\n%s", strings.Join(p, "\n"))
	}
	if _, err := hotplugTimings(good); err != nil {
		t.Errorf("hotplugTimings: %v", err)
	}
	for _, tc := range []struct {
		what, from, to, want string
	}{
		{"a missed global_remove", "vitrine| output-removed Virtual-2\n", "", "the client saw"},
		{"no leave for the unplugged output", "vitrine| surface-leave Virtual-1\n", "", "the client saw"},
		{"the client seeing the only output go", `"replaces_placeholder":"Virtual-1","event":"output.added"}` + "\n", `"replaces_placeholder":"Virtual-1","event":"output.added"}` + "\nvitrine| output-removed Virtual-1\n", "the client saw"},
		{"the window leaving the only output", `"replaces_placeholder":"Virtual-1","event":"output.added"}` + "\n", `"replaces_placeholder":"Virtual-1","event":"output.added"}` + "\nvitrine| surface-leave Virtual-1\n", "the client saw"},
		{"no placeholder", `"event":"output.placeholder"`, `"event":"x"`, "placeholder in for Virtual-1 0 times"},
		{"a new output instead of the placeholder", `"replaces_placeholder":"Virtual-1",`, "", "took the placeholder's place 0 times"},
		{"the message reworded, the event kept", `"msg":"output off"`, `"msg":"display gone"`, ""},
		{"a wrong mode", "vitrine| output-added Virtual-2 1024x768", "vitrine| output-added Virtual-2 1280x800", "the client saw"},
		{"vitrine not lighting the output", `"msg":"output on","output":"Virtual-2"`, `"msg":"output on","output":"Virtual-3"`, "lit Virtual-2 3 times"},
		{"the hidden client never redrawn", "vitrine| resized 1280x800\n", "", "the first client"},
		{"the second client not following the outputs", "second| resized 1024x768\n", "", "without \"resized 1024x768\""},
		{"Virtual-1 not back beside Virtual-2", "vitrine| output-added Virtual-1 1280x800\nvitrine| {\"time\":\"t\",\"level\":\"INFO\",\"msg\":\"output off\",\"output\":\"Virtual-2\"", "vitrine| {\"time\":\"t\",\"level\":\"INFO\",\"msg\":\"output off\",\"output\":\"Virtual-2\"", "the client saw"},
		{"vitrine not switching an output off", `"msg":"output off","output":"Virtual-2"`, `"msg":"output off","output":"Virtual-3"`, "switched Virtual-2 off"},
		{"an error logged", "vitrine-exit=0\n", "vitrine-exit=0\nvitrine| {\"level\":\"ERROR\",\"msg\":\"rescan connectors\",\"err\":\"EIO\"}\n", "vitrine logged"},
		{"a crash", "vitrine-exit=0\n", "vitrine-exit=2\n", "did not exit 0"},
		{"fd growth", "fds cycle1=23 cycle3=23", "fds cycle1=23 cycle3=26", "open fds went from 23"},
		{"no stats", `"event":"stats"`, `"event":"nostats"`, "no stats line"},
		{"a script failure", "vitrine-exit=0\n", "FAIL: no vitrine adding Virtual-2 (plug 2) within 20s\nvitrine-exit=0\n", "FAIL: no vitrine adding"},
		{"the second client not moved", "second| surface-enter Virtual-1\n", "", "the second client (shm-client --output Virtual-2)"},
		{"the second client not redrawn", "second| resized 1280x800\n", "", "the second client (shm-client --output Virtual-2)"},
		{"the second client never on Virtual-2", "second| surface-enter Virtual-2\n", "", "never entered Virtual-2"},
		{"a missing timing", "plug 2 request-ms=140 vitrine-ms=270 client-ms=300\n", "", "5 plug/unplug timing lines"},
	} {
		bad := strings.Replace(good, tc.from, tc.to, 1)
		if tc.what == "the second client never on Virtual-2" {
			bad = strings.ReplaceAll(good, tc.from, tc.to)
		}
		if bad == good {
			t.Fatalf("%s: %q is not in the good output", tc.what, tc.from)
		}
		p := judgeHotplugOutput(bad, 3)
		if tc.want == "" {
			if len(p) > 0 {
				t.Errorf("%s: judged bad: %q", tc.what, p)
			}
			continue
		}
		if !strings.Contains(strings.Join(p, "\n"), tc.want) {
			t.Errorf("%s: problems %q, want one containing %q", tc.what, p, tc.want)
		}
	}
}

// onlyOutputRun is one card's part of a good kms-hotplug-only-output
// run, trimmed to the lines the judge reads; the connector comes back
// at back.
func onlyOutputRun(tag, name, start, back string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s-connector=%s\n%s-off-ms=80\n%s-back-ms=240\n%s-exit=0\n", tag, name, tag, tag, tag)
	line := func(format string, args ...any) { fmt.Fprintf(&b, tag+"| "+format+"\n", args...) }
	size := func(mode string) string { return `{"X":` + strings.Replace(mode, "x", `,"Y":`, 1) + "}" }
	line(`{"level":"INFO","msg":"output on","output":"%s","mode":"%s@60.004","event":"output.on"}`, name, start)
	line(`{"level":"INFO","msg":"output added","name":"%s","size":%s,"event":"output.added"}`, name, size(start))
	line("output-added %s %s", name, start)
	line("surface-enter %s", name)
	line("first-frame %s", start)
	line(`{"level":"INFO","msg":"output off","output":"%s","frames":2,"event":"output.off"}`, name)
	line(`{"level":"INFO","msg":"placeholder output","output":"%s","size":%s,"event":"output.placeholder"}`, name, size(start))
	line(`{"level":"INFO","msg":"output on","output":"%s","mode":"%s@60.004","event":"output.on"}`, name, back)
	line(`{"level":"INFO","msg":"output added","name":"%s","size":%s,"replaces_placeholder":"%s","event":"output.added"}`, name, size(back), name)
	if back != start {
		line("resized %s", back)
	}
	line("stats: output=%s frames=2 scanout=0 composited=2 copied_bytes=9437184", name)
	line(`{"level":"INFO","msg":"stats","output":"%s","frames":2,"event":"stats"}`, name)
	line(`{"level":"INFO","msg":"output off","output":"%s","frames":2,"event":"output.off"}`, name)
	return b.String()
}

func TestJudgeOnlyOutput(t *testing.T) {
	good := onlyOutputRun("bochs", "Virtual-3", "1280x800", "1024x768")
	start, back, err := judgeOnlyOutput(good, "bochs")
	if err != nil {
		t.Fatalf("a good run was judged bad: %v", err)
	}
	if start.X != 1280 || start.Y != 800 || back.X != 1024 || back.Y != 768 {
		t.Errorf("sizes %v, %v; want (1280,800), (1024,768)", start, back)
	}
	if _, back, err := judgeOnlyOutput(onlyOutputRun("cirrus", "VGA-1", "1024x768", "1024x768"), "cirrus"); err != nil || back.X != 1024 {
		t.Errorf("cirrus, same mode back: %v, %v", back, err)
	}
	for _, tc := range []struct {
		what, from, to, want string
	}{
		{"a global_remove", "bochs| first-frame 1280x800\n", "bochs| first-frame 1280x800\nbochs| output-removed Virtual-3\n", "the client saw"},
		{"a leave", "bochs| first-frame 1280x800\n", "bochs| first-frame 1280x800\nbochs| surface-leave Virtual-3\n", "the client saw"},
		{"a second wl_output", "bochs| first-frame 1280x800\n", "bochs| first-frame 1280x800\nbochs| output-added Virtual-3 1024x768\n", "the client saw"},
		{"no placeholder", `"event":"output.placeholder"`, `"event":"x"`, "no placeholder"},
		{"not redrawn at the new mode", "bochs| resized 1024x768\n", "", "never redrew"},
		{"vitrine not removing it", `"msg":"output off","output":"Virtual-3","frames":2,"event":"output.off"`, `"msg":"output off"`, "switched Virtual-3 off 1 times"},
		{"vitrine not adding it back", `"name":"Virtual-3","size":{"X":1024,"Y":768},"replaces_placeholder"`, `"name":"x","size":{"X":1024,"Y":768},"replaces_placeholder"`, "added Virtual-3 1 times"},
		{"an error", "bochs-exit=0\n", "bochs-exit=0\nbochs| {\"level\":\"ERROR\",\"msg\":\"rescan connectors\"}\n", "vitrine logged"},
		{"a crash", "bochs-exit=0", "bochs-exit=2", "did not exit 0"},
		{"no stats", `"event":"stats"`, `"event":"nostats"`, "no stats line"},
	} {
		bad := strings.Replace(good, tc.from, tc.to, 1)
		if bad == good {
			t.Fatalf("%s: %q is not in the good output", tc.what, tc.from)
		}
		if _, _, err := judgeOnlyOutput(bad, "bochs"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.what, err, tc.want)
		}
	}
}
