package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// result is one compositor×workload run. Raw counts are kept next to the
// derived figures so the JSON can be re-analysed.
type result struct {
	Compositor string `json:"compositor"`
	Workload   string `json:"workload"`
	// Skipped says why the run did not happen (not installed, n/a).
	Skipped string `json:"skipped,omitempty"`
	// Error says why the run failed.
	Error string `json:"error,omitempty"`
	// Round is which round this run was (1-based); Rounds, on a median
	// row, how many ran, and CPURounds every round's cpu_us_per_commit
	// in the order they ran.
	Round     int      `json:"round,omitempty"`
	Rounds    int      `json:"rounds,omitempty"`
	CPURounds []metric `json:"cpu_us_per_commit_rounds,omitempty"`

	WindowSeconds float64  `json:"window_seconds"`
	Clients       int      `json:"clients"` // connections that committed or got frames in the window
	Commits       uint64   `json:"commits"`
	Frames        uint64   `json:"frames"` // frame callbacks done, all clients
	FramesMin     uint64   `json:"frames_per_client_min"`
	FramesMedian  uint64   `json:"frames_per_client_median"`
	FramesMax     uint64   `json:"frames_per_client_max"`
	CPUNS         uint64   `json:"cpu_ns"`
	CtxSw         uint64   `json:"context_switches"`
	VolCtxSw      uint64   `json:"voluntary_context_switches"`
	RSSKB         uint64   `json:"rss_kb"`
	HWMKB         uint64   `json:"hwm_kb"`
	Processes     []string `json:"processes"` // the compositor's process tree, counted
	OutputWidth   int32    `json:"output_width"`
	OutputHeight  int32    `json:"output_height"`
	// OutputTransform is wl_output.transform: 1 is 90°.
	OutputTransform int32 `json:"output_transform"`
	// MachineBusyCores is how many CPUs were busy on average in the
	// window, everything included; OthersBusyCores leaves out the
	// compositor (so: clients, the bench, and whatever else runs).
	MachineBusyCores float64 `json:"machine_busy_cores"`
	OthersBusyCores  float64 `json:"others_busy_cores"`

	LatencySamples int    `json:"latency_samples,omitempty"`
	LatencyP50MS   metric `json:"latency_p50_ms"`
	LatencyP99MS   metric `json:"latency_p99_ms"`
	Discarded      int    `json:"discarded,omitempty"`

	Notes []string `json:"notes,omitempty"`

	// Derived; NaN (JSON null) when the denominator is zero.
	CPUUSPerCommit   metric `json:"cpu_us_per_commit"`
	CPUMSPerSecond   metric `json:"cpu_ms_per_s"`
	CtxSwPerFrame    metric `json:"ctxsw_per_frame"`
	VolCtxSwPerFrame metric `json:"voluntary_ctxsw_per_frame"`

	idle bool // the workload has nothing to draw (no ratio)
}

// newResult is a result whose figures are all "not measured" (JSON null)
// until a run fills them in.
func newResult(compositor, workload string, idle bool) result {
	nan := metric(math.NaN())
	return result{
		Compositor: compositor, Workload: workload, idle: idle,
		CPUUSPerCommit: nan, CPUMSPerSecond: nan, CtxSwPerFrame: nan, VolCtxSwPerFrame: nan,
		LatencyP50MS: nan, LatencyP99MS: nan,
	}
}

func skippedResult(compositor, workload, reason string, idle bool) result {
	r := newResult(compositor, workload, idle)
	r.Skipped = reason
	return r
}

func (r *result) ran() bool { return r.Skipped == "" && r.Error == "" }

// setFrames fills the frame columns from each client's presented frames.
func (r *result) setFrames(perClient []uint64) {
	r.Clients = len(perClient)
	r.Frames = 0
	for _, f := range perClient {
		r.Frames += f
	}
	if len(perClient) == 0 {
		return
	}
	s := slices.Clone(perClient)
	slices.Sort(s)
	r.FramesMin = s[0]
	r.FramesMax = s[len(s)-1]
	r.FramesMedian = s[len(s)/2]
	if len(s)%2 == 0 {
		r.FramesMedian = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
}

// derive computes the per-commit, per-second and per-frame figures.
// Context switches are per output frame: the most frames any one client
// got, which is the number of refreshes that presented something whether
// one client or a hundred were drawing.
func (r *result) derive() {
	r.CPUUSPerCommit = ratio(float64(r.CPUNS)/1e3, float64(r.Commits))
	r.CPUMSPerSecond = ratio(float64(r.CPUNS)/1e6, r.WindowSeconds)
	r.CtxSwPerFrame = ratio(float64(r.CtxSw), float64(r.FramesMax))
	r.VolCtxSwPerFrame = ratio(float64(r.VolCtxSw), float64(r.FramesMax))
}

func ratio(a, b float64) metric {
	if b == 0 {
		return metric(math.NaN())
	}
	return metric(a / b)
}

// metric is a derived figure; NaN means "no denominator" and is written
// as JSON null, which encoding/json cannot do for a float64.
type metric float64

func (m metric) valid() bool { return !math.IsNaN(float64(m)) }

func (m metric) MarshalJSON() ([]byte, error) {
	if !m.valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(m), 'g', 6, 64), nil
}

// percentile returns the p-th percentile (0..100) of sorted values by the
// nearest-rank method.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// figures are one drawing workload's CPU per commit: vitrine's, the
// cheaper peer's (with how many clients drew in its run) and the floor's.
type figures struct {
	vitrine, peer, floor    float64
	hasV, hasPeer, hasFloor bool
	peerClients             int
}

// byWorkload gathers the figures of the drawing workloads that ran, in
// the order they first appear.
func byWorkload(results []result) ([]string, map[string]*figures) {
	all := map[string]*figures{}
	var order []string
	for _, r := range results {
		if !r.ran() || r.idle || !r.CPUUSPerCommit.valid() {
			continue
		}
		f := all[r.Workload]
		if f == nil {
			f = &figures{}
			all[r.Workload] = f
			order = append(order, r.Workload)
		}
		v := float64(r.CPUUSPerCommit)
		switch r.Compositor {
		case "vitrine":
			f.vitrine, f.hasV = v, true
		case floorName:
			f.floor, f.hasFloor = v, true
		default:
			if !f.hasPeer || v < f.peer {
				f.peer, f.hasPeer, f.peerClients = v, true, r.Clients
			}
		}
	}
	return order, all
}

// ratioVsBestPeer is, over the drawing workloads, the worst of vitrine's
// CPU per commit divided by the cheapest peer's on the same workload. ok is
// false when no workload had both vitrine and a peer.
func ratioVsBestPeer(results []result) (worst float64, workload string, ok bool) {
	order, all := byWorkload(results)
	for _, w := range order {
		f := all[w]
		if !f.hasV || !f.hasPeer || f.peer == 0 {
			continue
		}
		if q := f.vitrine / f.peer; !ok || q > worst {
			worst, workload, ok = q, w, true
		}
	}
	return worst, workload, ok
}

// medianRun is the row the table shows for one compositor's rounds on one
// workload: the run with the median CPU per commit (the lower of the two
// middle ones for an even count), so all its columns come from one run.
// A failed or skipped round stands for the whole: a compositor that
// crashed once is not hidden by the rounds that went well.
func medianRun(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	for _, r := range rs {
		if !r.ran() {
			return r
		}
	}
	byCPU := slices.Clone(rs)
	slices.SortStableFunc(byCPU, func(a, b result) int {
		x, y := float64(a.CPUUSPerCommit), float64(b.CPUUSPerCommit)
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		}
		return cmp.Compare(x, y)
	})
	m := byCPU[(len(byCPU)-1)/2]
	m.Rounds = len(rs)
	m.CPURounds = nil
	for _, r := range rs {
		m.CPURounds = append(m.CPURounds, r.CPUUSPerCommit)
	}
	return m
}

// belowFloor lists the one-client drawing workloads where half the
// cheaper peer's CPU per commit is less than the floor's on the same
// workload: there, a ratio of 0.5 would need vitrine to cost less than
// two wake-ups a frame with nothing done in them. Workloads of many
// clients share each wake-up among their commits, so the one-client
// floor says nothing about them.
func belowFloor(results []result) []string {
	order, all := byWorkload(results)
	var out []string
	for _, w := range order {
		f := all[w]
		if f.hasFloor && f.hasPeer && f.peerClients <= 1 && f.peer/2 < f.floor {
			out = append(out, fmt.Sprintf("%s (half of %.1f is %.1f, the floor %.1f)", w, f.peer, f.peer/2, f.floor))
		}
	}
	return out
}
