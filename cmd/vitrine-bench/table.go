package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
)

// writeTable prints one row per run, then notes, then the ratio line.
func writeTable(w io.Writer, results []result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "compositor\tworkload\tcommits\tframes\tframes/client min/median\tcpu_us/commit\tcpu_ms/s\tctxsw/frame (voluntary)\trss/hwm_MB\tp50/p99 latency_ms\t")
	var notes noteList
	for _, r := range results {
		if !r.ran() {
			why := r.Skipped
			if why == "" {
				// The full error, log tail included, went to stderr.
				first, _, _ := strings.Cut(r.Error, "\n")
				why = "error: " + first
			}
			if r.Workload != "*" {
				fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t\n", r.Compositor, r.Workload)
			}
			notes.add(r.Compositor, r.Workload, why)
			continue
		}
		lat := "-"
		if r.Compositor == "vitrine" && r.LatencySamples > 0 {
			lat = fmt.Sprintf("%.2f/%.2f", r.LatencyP50MS, r.LatencyP99MS)
		}
		cpu := format(r.CPUUSPerCommit, 1)
		if len(r.CPURounds) > 1 {
			lo, hi := slices.Min(r.CPURounds), slices.Max(r.CPURounds)
			cpu = fmt.Sprintf("%s (%s-%s)", cpu, format(lo, 1), format(hi, 1))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d/%d\t%s\t%s\t%s (%s)\t%.1f/%.1f\t%s\t\n",
			r.Compositor, r.Workload, r.Commits, r.Frames, r.FramesMin, r.FramesMedian,
			cpu, format(r.CPUMSPerSecond, 2), format(r.CtxSwPerFrame, 2), format(r.VolCtxSwPerFrame, 2),
			float64(r.RSSKB)/1024, float64(r.HWMKB)/1024, lat)
		for _, n := range r.Notes {
			notes.add(r.Compositor, r.Workload, n)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s (%s): %s\n", n.compositor, strings.Join(n.workloads, ","), n.text)
	}
	if lo, hi, ok := busyRange(results); ok {
		fmt.Fprintf(w, "note: machine busy during the windows: %.2f to %.2f cores in use (of %d), compositor included\n", lo, hi, runtime.NumCPU())
	}
	if slices.ContainsFunc(results, func(r result) bool { return r.Compositor == floorName && r.ran() }) {
		fmt.Fprintln(w, "note: floor: vitrine's event loop woken twice a frame (a 60 Hz timer, and one socket answered each frame) with no Wayland work; a compositor's figure minus the floor is its own work")
	}
	if below := belowFloor(results); len(below) > 0 {
		fmt.Fprintf(w, "note: a ratio of 0.5 is below the floor on %s\n", strings.Join(below, ", "))
	}
	if rounds := maxRounds(results); rounds > 1 {
		fmt.Fprintf(w, "note: each row is the median of %d rounds run in turn; cpu_us/commit shows the rounds' range in brackets\n", rounds)
	}
	if q, wl, ok := ratioVsBestPeer(results); ok {
		fmt.Fprintf(w, "note: the ratio is vitrine's cpu_us/commit over the cheaper peer's, worst on %s (%.2f)\n", wl, q)
	}
	_, err := fmt.Fprintln(w, ratioLine(results))
	return err
}

func maxRounds(results []result) int {
	n := 0
	for _, r := range results {
		n = max(n, r.Rounds)
	}
	return n
}

func ratioLine(results []result) string {
	r, _, ok := ratioVsBestPeer(results)
	if !ok {
		return "cpu_per_commit_ratio_vs_best_peer=n/a"
	}
	return fmt.Sprintf("cpu_per_commit_ratio_vs_best_peer=%.2f", r)
}

func format(m metric, decimals int) string {
	if !m.valid() {
		return "-"
	}
	return strings.TrimSpace(fmt.Sprintf("%.*f", decimals, float64(m)))
}

// noteList gathers notes, one line for the same text on several workloads
// (cage's fixed output size would otherwise repeat on every row).
type noteList []note

type note struct {
	compositor string
	text       string
	workloads  []string
}

func (l *noteList) add(compositor, workload, text string) {
	for i := range *l {
		n := &(*l)[i]
		if n.compositor == compositor && n.text == text {
			n.workloads = append(n.workloads, workload)
			return
		}
	}
	*l = append(*l, note{compositor: compositor, text: text, workloads: []string{workload}})
}

func busyRange(results []result) (lo, hi float64, ok bool) {
	for _, r := range results {
		if !r.ran() || r.MachineBusyCores == 0 {
			continue
		}
		if !ok || r.MachineBusyCores < lo {
			lo = r.MachineBusyCores
		}
		if !ok || r.MachineBusyCores > hi {
			hi = r.MachineBusyCores
		}
		ok = true
	}
	return lo, hi, ok
}
