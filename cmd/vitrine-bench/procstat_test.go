package main

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func status(name, rss, hwm string, vol, nonvol int) string {
	s := "Name:\t" + name + "\nState:\tS (sleeping)\n"
	if rss != "" {
		s += "VmHWM:\t  " + hwm + " kB\nVmRSS:\t  " + rss + " kB\n"
	}
	return s + "voluntary_ctxt_switches:\t" + itoa(uint32(vol)) + "\nnonvoluntary_ctxt_switches:\t" + itoa(uint32(nonvol)) + "\n"
}

// fakeProc builds a /proc with a compositor (100, two threads), its
// helper (101, whose command name has a space and a parenthesis), and an
// unrelated process (200) that must not be counted.
func fakeProc(t *testing.T) procFS {
	root := t.TempDir()
	writeFile(t, root+"/100/stat", "100 (weston) S 1 100 100 0 -1")
	writeFile(t, root+"/100/status", status("weston", "2048", "4096", 1, 1))
	writeFile(t, root+"/100/task/100/schedstat", "1000000 5 10\n")
	writeFile(t, root+"/100/task/100/status", status("weston", "2048", "4096", 10, 2))
	writeFile(t, root+"/100/task/102/schedstat", "500 0 1\n")
	writeFile(t, root+"/100/task/102/status", status("weston:gdrv0", "2048", "4096", 3, 0))
	writeFile(t, root+"/101/stat", "101 (desktop (shell)) S 100 100 100 0 -1")
	writeFile(t, root+"/101/status", status("desktop (shell)", "1024", "1024", 0, 0))
	writeFile(t, root+"/101/task/101/schedstat", "20 0 1\n")
	writeFile(t, root+"/101/task/101/status", status("desktop (shell)", "1024", "1024", 4, 1))
	writeFile(t, root+"/200/stat", "200 (client) S 1 200 200 0 -1")
	writeFile(t, root+"/200/status", status("client", "9999", "9999", 100, 100))
	writeFile(t, root+"/200/task/200/schedstat", "999999999 0 1\n")
	writeFile(t, root+"/200/task/200/status", status("client", "9999", "9999", 100, 100))
	writeFile(t, root+"/self/stat", "garbage") // non-numeric entries are skipped
	return procFS{root: root}
}

func TestSampleTreeSumsThreadsAndDescendants(t *testing.T) {
	p := fakeProc(t)
	s, err := p.sampleTree(100)
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUNS != 1000000+500+20 {
		t.Errorf("CPU %d ns, want %d (both threads of 100 and its child 101, not 200)", s.CPUNS, 1000000+500+20)
	}
	if s.CtxSw != 12+3+5 {
		t.Errorf("context switches %d, want 20 (per-thread status lines)", s.CtxSw)
	}
	if s.VolCtxSw != 10+3+4 {
		t.Errorf("voluntary context switches %d, want 17", s.VolCtxSw)
	}
	if s.RSSKB != 3072 || s.HWMKB != 5120 {
		t.Errorf("RSS %d kB HWM %d kB, want 3072 and 5120", s.RSSKB, s.HWMKB)
	}
	if s.Procs != 2 || s.Threads != 3 {
		t.Errorf("%d processes %d threads, want 2 and 3", s.Procs, s.Threads)
	}
}

func TestSampleTreeMissingProcess(t *testing.T) {
	if _, err := fakeProc(t).sampleTree(300); err == nil {
		t.Error("sampling a process that does not exist succeeded")
	}
}

func TestParseStatPPID(t *testing.T) {
	for s, want := range map[string]int{
		"1 (systemd) S 0 1 1 0":         0,
		"42 (a) b) (c) R 7 42 42 0 -1":  7,
		"9 (x y z) S 123 9 9 0 -1 4194": 123,
	} {
		got, err := parseStatPPID(s)
		if err != nil || got != want {
			t.Errorf("parseStatPPID(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	if _, err := parseStatPPID("1 systemd S 0"); err == nil {
		t.Error("stat without parentheses accepted")
	}
}

func TestParseSchedstat(t *testing.T) {
	if v, err := parseSchedstat("527375919 35083595 190\n"); err != nil || v != 527375919 {
		t.Errorf("got %d, %v", v, err)
	}
	for _, bad := range []string{"", "x 1 2"} {
		if _, err := parseSchedstat(bad); err == nil {
			t.Errorf("parseSchedstat(%q) succeeded", bad)
		}
	}
}

func TestParseStatusNeedsContextSwitches(t *testing.T) {
	if _, err := parseStatus("Name:\tx\nVmRSS:\t 1 kB\n"); err == nil {
		t.Error("status without context switch lines accepted")
	}
	if _, err := parseStatus(status("x", "12x", "1", 0, 0)); err == nil {
		t.Error("bad VmRSS accepted")
	}
}

// The real /proc of this test process parses, and it has used some CPU.
func TestSampleSelf(t *testing.T) {
	s, err := procFS{root: "/proc"}.sampleProcess(os.Getpid())
	if err != nil {
		t.Skipf("no usable /proc: %v", err)
	}
	if s.CPUNS == 0 || s.Threads == 0 || s.RSSKB == 0 {
		t.Errorf("implausible sample of self: %+v", s)
	}
}

func TestParseCPUTimes(t *testing.T) {
	a, err := parseCPUTimes("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n")
	if err != nil {
		t.Fatal(err)
	}
	if a.total != 1000 || a.idle != 850 {
		t.Errorf("got %+v, want total 1000 idle 850", a)
	}
	b := cpuTimes{total: 1200, idle: 900}
	if got := busyCores(a, b, 1, 100); got != 1.5 {
		t.Errorf("busy %v cores, want 1.5", got)
	}
	if _, err := parseCPUTimes("intr 1 2 3"); err == nil {
		t.Error("a file without the cpu line accepted")
	}
}
