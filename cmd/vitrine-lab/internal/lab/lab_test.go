package lab

import (
	"bytes"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/qmp"
	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// quadrantsPNG writes what the console scenario's guest draws: red,
// blue / green, grey quadrants.
func quadrantsPNG(t *testing.T, dir string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 100))
	fill := func(r image.Rectangle, c image.Image) { draw.Draw(img, r, c, image.Point{}, draw.Src) }
	fill(image.Rect(0, 0, 80, 50), image.NewUniform(ConsoleRed))
	fill(image.Rect(80, 0, 160, 50), image.NewUniform(ConsoleBlue))
	fill(image.Rect(0, 50, 80, 100), image.NewUniform(ConsoleGreen))
	fill(image.Rect(80, 50, 160, 100), image.NewUniform(ConsoleGrey))
	if err := screencheck.WritePNG(filepath.Join(dir, "console.png"), img); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleScenarioJudge runs the console scenario's judgement on a
// made-up screendump without booting: the right expectation passes, a
// wrong one (swapped colours) must fail and say where.
func TestConsoleScenarioJudge(t *testing.T) {
	dir := t.TempDir()
	quadrantsPNG(t, dir)
	res := &Result{Output: []byte("console 160x50\n/some/console.png\n")}

	s := ConsoleScenario("console-test", "virtio")
	if err := s.judge(res, dir); err != nil {
		t.Fatalf("right expectation failed: %v", err)
	}

	wrong := ConsoleScenario("console-wrong", "virtio")
	wrong.Screendumps["console"] = ConsoleQuadrantRegions(ConsoleBlue, ConsoleRed, ConsoleGreen, ConsoleGrey)
	err := wrong.judge(res, dir)
	if err == nil {
		t.Fatal("swapped colours passed")
	}
	for _, want := range []string{"top-left", "top-right", "differ from #0000aa"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "bottom-left") {
		t.Errorf("report blames a region that matched:\n%v", err)
	}
}

func TestJudgeExitAndOutput(t *testing.T) {
	s := Scenario{Name: "x", WantExit: 7, WantOutput: []string{`(?m)^about to fail$`}}
	if err := s.judge(&Result{ExitCode: 7, Output: []byte("about to fail\n")}, t.TempDir()); err != nil {
		t.Fatalf("matching run failed: %v", err)
	}
	if err := s.judge(&Result{ExitCode: 0, Output: []byte("about to fail\n")}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "exited 0, want 7") {
		t.Errorf("wrong exit status: %v", err)
	}
	if err := s.judge(&Result{ExitCode: 7, Output: []byte("something else\n")}, t.TempDir()); err == nil {
		t.Error("missing output passed")
	}
	missing := Scenario{Name: "shot", Screendumps: map[string][]screencheck.Region{"nothere": nil}}
	if err := missing.judge(&Result{}, t.TempDir()); err == nil {
		t.Error("a missing screendump passed")
	}
}

func TestPrintTable(t *testing.T) {
	scen := Scenarios()
	outcomes := []Outcome{
		{Scenario: &scen[0], Elapsed: 5 * time.Second},
		{Scenario: &scen[1], Err: errTest("boom"), Elapsed: 1500 * time.Millisecond},
	}
	var buf bytes.Buffer
	if failed := PrintTable(&buf, outcomes); failed != 1 {
		t.Errorf("failed = %d, want 1", failed)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if last := lines[len(lines)-1]; last != "1 passed, 1 failed" {
		t.Errorf("last line %q", last)
	}
	if !strings.HasPrefix(lines[0], "scenario") || !strings.Contains(lines[2], "FAIL") || !strings.Contains(buf.String(), "boom") {
		t.Errorf("table:\n%s", buf.String())
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestScenarioNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Scenarios() {
		if seen[s.Name] {
			t.Errorf("duplicate scenario %s", s.Name)
		}
		seen[s.Name] = true
		if s.Command == "" {
			t.Errorf("%s has no command", s.Name)
		}
		if s.Input != "" {
			if _, err := parseInputScript(s.Input); err != nil {
				t.Errorf("%s: %v", s.Name, err)
			}
		}
	}
	got, err := Select(Scenarios(), "^console-")
	if err != nil || len(got) != 3 {
		t.Errorf("Select(^console-) = %d scenarios, %v", len(got), err)
	}
	if _, err := Select(Scenarios(), "nothing-like-this"); err == nil {
		t.Error("a pattern matching nothing was accepted")
	}
}

func TestParseInputScript(t *testing.T) {
	steps, err := parseInputScript("# comment\nkey a\nkey shift down\nsleep 20\ntouch down 100 200\ntouch up\ntype ab c\nbutton right up\nmove 0 32767\nrel -5 5\n")
	if err != nil {
		t.Fatal(err)
	}
	// key a: 2 steps; shift: 1; sleep: 1; touch down: 1; up: 1;
	// "ab c": 8; button: 1; move: 1; rel: 1.
	if len(steps) != 17 {
		t.Fatalf("%d steps, want 17", len(steps))
	}
	if steps[3].pause != 20*time.Millisecond {
		t.Errorf("sleep step = %+v", steps[3])
	}
	down := steps[4].events
	if len(down) != 3 || down[2].Type != "btn" || down[0].Type != "abs" {
		t.Errorf("touch down = %+v", down)
	}
	if ev := steps[0].events[0]; ev.Type != "key" {
		t.Errorf("key a = %+v", ev)
	}
	for _, bad := range []string{"key", "key a sideways", "move 1", "move 0 40000", "touch left 1 2", "sleep x", "type A", "jump"} {
		if _, err := parseInputScript(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: error lacks the line: %v", bad, err)
		}
	}
}

func TestCommandScript(t *testing.T) {
	if got := commandScript([]string{"echo a && echo b"}); got != "echo a && echo b\n" {
		t.Errorf("one argument = %q", got)
	}
	if got := commandScript([]string{"printf", "%s\n", "it's"}); got != `'printf' '%s`+"\n"+`' 'it'\''s'`+"\n" {
		t.Errorf("argv = %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Command: []string{"true"}, OutDir: "x", Displays: []string{"virtio", "bochs", "virtio"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if ids := strings.Join(c.DisplayIDs(), ","); ids != "virtio,bochs,virtio2" {
		t.Errorf("ids = %s", ids)
	}
	for _, bad := range []Config{
		{Command: []string{"true"}, OutDir: "x", Displays: []string{"vga"}},
		{Command: []string{"true"}, OutDir: "x", Render: "v3d"},
		{Command: []string{"true"}, OutDir: "x", Session: "gdm"},
		{OutDir: "x"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestModuleLoadOrder(t *testing.T) {
	k := &Kernel{Modules: map[string][]string{
		"bochs": {"a/drm.ko.xz", "a/drm_kms_helper.ko.xz", "b/bochs.ko.xz"},
		"vgem":  {"a/drm.ko.xz", "c/drm_shmem_helper.ko.xz", "d/vgem.ko.xz"},
	}}
	got, err := moduleLoadOrder(k, []string{"bochs", "vgem"})
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != "drm drm_kms_helper bochs drm_shmem_helper vgem" {
		t.Errorf("order = %s", s)
	}
	if _, err := moduleLoadOrder(k, []string{"nouveau"}); err == nil {
		t.Error("unknown module accepted")
	}
}

func TestMissingToolsMessage(t *testing.T) {
	err := &MissingToolsError{Tools: []string{"qemu-system-x86_64", "xz"}, Packages: []string{"qemu-system-x86", "xz-utils"}}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "apt-get install qemu-system-x86 xz-utils") {
		t.Errorf("message %q", msg)
	}
	pk := strings.Join(Packages(), " ")
	for _, p := range []string{"qemu-system-x86", "busybox-static", "debootstrap", "kmod", "xz-utils"} {
		if !strings.Contains(pk, p) {
			t.Errorf("Packages() lacks %s: %s", p, pk)
		}
	}
}

func TestFindPort(t *testing.T) {
	dir := t.TempDir()
	for name, port := range map[string]string{"vport1p1": "lab.ctl", "vport1p2": "lab.out"} {
		writeFile(t, filepath.Join(dir, name, "name"), port+"\n")
	}
	if dev, err := findPort(dir, "lab.out"); err != nil || dev != "/dev/vport1p2" {
		t.Errorf("findPort = %q, %v", dev, err)
	}
	if _, err := findPort(dir, "lab.status"); err == nil {
		t.Error("missing port found")
	}
}

func TestInputEventShape(t *testing.T) {
	ev := qmp.KeyEvent("a", true)
	if ev.Type != "key" {
		t.Errorf("%+v", ev)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCacheBuild(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	calls := 0
	fill := func(dir string) error {
		calls++
		return os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	}
	p1, err := c.build("thing-v1", fill)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.build("thing-v1", fill)
	if err != nil || p1 != p2 || calls != 1 {
		t.Fatalf("second build: %q %q calls=%d err=%v", p1, p2, calls, err)
	}
	if _, err := c.build("broken", func(string) error { return errTest("no") }); err == nil {
		t.Fatal("failing fill reported success")
	}
	left, _ := filepath.Glob(filepath.Join(c.Dir, "*broken*"))
	hidden, _ := filepath.Glob(filepath.Join(c.Dir, ".tmp-*"))
	if len(left)+len(hidden) != 0 {
		t.Errorf("a failed build left %v %v", left, hidden)
	}
}

func TestReadOutput(t *testing.T) {
	const eof = "END-123"
	for _, tc := range []struct {
		in    string
		want  []string
		ended bool
	}{
		{"a\nb\nEND-123\n", []string{"a\n", "b\n"}, true},
		{"a\nno newline END-123\n", []string{"a\n", "no newline "}, true},
		{"a\nEND-123\nlater\n", []string{"a\n"}, true},
		{"a\ncut", []string{"a\n", "cut"}, false},
		{"END-12\n", []string{"END-12\n"}, false},
	} {
		var got []string
		ended := readOutput(strings.NewReader(tc.in), eof, func(b []byte) { got = append(got, string(b)) })
		if ended != tc.ended || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: got %q ended=%v, want %q ended=%v", tc.in, got, ended, tc.want, tc.ended)
		}
	}
}

func TestResultScreendump(t *testing.T) {
	dir := t.TempDir()
	quadrantsPNG(t, dir)
	res := &Result{Screendumps: []string{filepath.Join(dir, "console.png")}}
	img, err := res.Screendump("console")
	if err != nil || img.Bounds().Dx() != 160 {
		t.Fatalf("Screendump(console) = %v, %v", img, err)
	}
	if _, err := res.Screendump("other"); err == nil {
		t.Error("a screendump that was not taken was found")
	}
}
