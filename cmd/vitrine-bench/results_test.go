package main

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func ran(comp, wl string, usPerCommit float64) result {
	return result{Compositor: comp, Workload: wl, CPUUSPerCommit: metric(usPerCommit)}
}

func TestRatioVsBestPeer(t *testing.T) {
	results := []result{
		ran("vitrine", "simple-shm", 300),
		ran("weston", "simple-shm", 200),
		ran("cage", "simple-shm", 150), // best peer: 300/150 = 2
		ran("vitrine", "fullscreen", 100),
		ran("weston", "fullscreen", 400), // 0.25
		ran("vitrine", "clients-10", 900),
		{Compositor: "weston", Workload: "clients-10", Error: "crashed"}, // no peer ran: ignored
		{Compositor: "vitrine", Workload: "foot-idle", CPUUSPerCommit: 1e6, idle: true},
		{Compositor: "weston", Workload: "foot-idle", CPUUSPerCommit: 1, idle: true}, // idle: ignored
		ran("vitrine", "rotate90", math.NaN()),
		ran("cage", "rotate90", 1),
	}
	r, w, ok := ratioVsBestPeer(results)
	if !ok || r != 2 || w != "simple-shm" {
		t.Errorf("ratio %v on %q ok=%v, want 2 on simple-shm", r, w, ok)
	}
	if got := ratioLine(results); got != "cpu_per_commit_ratio_vs_best_peer=2.00" {
		t.Errorf("ratio line %q", got)
	}
}

func TestRatioWithoutPeers(t *testing.T) {
	results := []result{ran("vitrine", "simple-shm", 300), {Compositor: "weston", Workload: "simple-shm", Skipped: "not installed"}}
	if got := ratioLine(results); got != "cpu_per_commit_ratio_vs_best_peer=n/a" {
		t.Errorf("ratio line %q", got)
	}
}

func TestSetFramesAndDerive(t *testing.T) {
	r := result{CPUNS: 6_000_000, CtxSw: 120, VolCtxSw: 60, Commits: 300, WindowSeconds: 2}
	r.setFrames([]uint64{120, 10, 118, 119})
	r.derive()
	if r.Frames != 367 || r.FramesMin != 10 || r.FramesMedian != 118 || r.FramesMax != 120 || r.Clients != 4 {
		t.Errorf("frames %+v", r)
	}
	if r.CPUUSPerCommit != 20 || r.CPUMSPerSecond != 3 || r.CtxSwPerFrame != 1 || r.VolCtxSwPerFrame != 0.5 {
		t.Errorf("derived %v µs/commit %v ms/s %v ctxsw/frame", r.CPUUSPerCommit, r.CPUMSPerSecond, r.CtxSwPerFrame)
	}
	idle := result{CPUNS: 1000, WindowSeconds: 1}
	idle.derive()
	if idle.CPUUSPerCommit.valid() || idle.CtxSwPerFrame.valid() {
		t.Error("per-commit figures without commits")
	}
	b, err := json.Marshal(idle)
	if err != nil {
		t.Fatalf("marshal a result without commits: %v", err)
	}
	if !bytes.Contains(b, []byte(`"cpu_us_per_commit":null`)) {
		t.Errorf("no-commit figure not null in %s", b)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := percentile(v, 50); p != 5 {
		t.Errorf("p50 %v", p)
	}
	if p := percentile(v, 99); p != 10 {
		t.Errorf("p99 %v", p)
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing")
	}
}

func TestParseLatencies(t *testing.T) {
	out := `clock id=1
presented commit_ns=100 latency_ns=16000000
presented commit_ns=200 latency_ns=17000000
discarded commit_ns=250
presented commit_ns=300 latency_ns=18000000
presented commit_ns=900 latency_ns=99000000
`
	start := map[int32]int64{1: 150, 4: 0}
	end := map[int32]int64{1: 800, 4: 0}
	lat, discarded, err := parseLatencies(strings.NewReader(out), start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != 2 || lat[0] != 17 || lat[1] != 18 || discarded != 1 {
		t.Errorf("latencies %v discarded %d; want [17 18] in the window and 1 discarded", lat, discarded)
	}
	if _, _, err := parseLatencies(strings.NewReader("presented commit_ns=1 latency_ns=1\n"), start, end); err == nil {
		t.Error("no clock line accepted")
	}
	if _, _, err := parseLatencies(strings.NewReader("clock id=11\n"), start, end); err == nil {
		t.Error("unknown clock accepted")
	}
}

func TestMedianRunKeepsOneRunsColumns(t *testing.T) {
	a, b, c := ran("cage", "simple-shm", 90), ran("cage", "simple-shm", 60), ran("cage", "simple-shm", 200)
	a.Commits, b.Commits, c.Commits = 1, 2, 3
	a.Round, b.Round, c.Round = 1, 2, 3
	m := medianRun([]result{a, b, c})
	if m.CPUUSPerCommit != 90 || m.Commits != 1 || m.Round != 1 || m.Rounds != 3 {
		t.Errorf("median %+v, want round 1's run (90 us, 1 commit) of 3", m)
	}
	if want := []metric{90, 60, 200}; !slices.Equal(m.CPURounds, want) {
		t.Errorf("rounds %v, want %v in the order run", m.CPURounds, want)
	}
	// Even count: the lower middle one.
	if m := medianRun([]result{c, a, b, ran("cage", "simple-shm", math.NaN())}); m.CPUUSPerCommit != 90 {
		t.Errorf("median of 60, 90, 200, NaN is %v, want 90", m.CPUUSPerCommit)
	}
	failed := ran("cage", "simple-shm", 0)
	failed.Error = "crashed"
	if m := medianRun([]result{a, failed, b}); m.Error != "crashed" {
		t.Errorf("a failed round was hidden: %+v", m)
	}
}

func TestFloorIsNoPeer(t *testing.T) {
	results := []result{
		ran("vitrine", "chromium", 80),
		ran("cage", "chromium", 100),
		ran("floor", "chromium", 10), // cheaper than cage, but no peer
		ran("vitrine", "fullscreen", 40),
		ran("cage", "fullscreen", 50),
		ran("floor", "fullscreen", 30),
		ran("vitrine", "clients-10", 10),
		ran("cage", "clients-10", 20),
		ran("floor", "clients-10", 30),
	}
	results[len(results)-2].Clients = 10 // wake-ups shared by 10 commits: no floor
	results[1].Clients, results[4].Clients = 1, 1
	if r, w, ok := ratioVsBestPeer(results); !ok || r != 0.8 || w != "chromium" { // clients-10: 0.5
		t.Errorf("ratio %v on %q, want 0.8 on chromium (vitrine over cage)", r, w)
	}
	below := belowFloor(results)
	if len(below) != 1 || !strings.HasPrefix(below[0], "fullscreen (half of 50.0 is 25.0, the floor 30.0)") {
		t.Errorf("below the floor: %q, want fullscreen only", below)
	}
}
