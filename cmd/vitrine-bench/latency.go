package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The presentation clocks compositors announce: weston uses
// CLOCK_MONOTONIC_RAW, vitrine and wlroots CLOCK_MONOTONIC.
var presentationClocks = []int32{unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW}

func readClocks() map[int32]int64 {
	m := make(map[int32]int64, len(presentationClocks))
	for _, id := range presentationClocks {
		var ts unix.Timespec
		if unix.ClockGettime(id, &ts) == nil {
			m[id] = ts.Nano()
		}
	}
	return m
}

// latency fills the latency figures from the built-in client's output,
// keeping commits made inside the window.
func (rn *runner) latency(path string, start, end map[int32]int64, res *result) {
	f, err := os.Open(path)
	if err != nil {
		res.Notes = append(res.Notes, "latency: "+err.Error())
		return
	}
	defer f.Close()
	lat, discarded, err := parseLatencies(f, start, end)
	if err != nil {
		res.Notes = append(res.Notes, "latency: "+err.Error())
		return
	}
	res.Discarded = discarded
	res.LatencySamples = len(lat)
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	res.LatencyP50MS = metric(percentile(lat, 50))
	res.LatencyP99MS = metric(percentile(lat, 99))
}

// parseLatencies reads the fullscreen client's lines and returns the
// commit-to-present latencies in milliseconds of commits made between
// start and end, in the clock the client announced.
func parseLatencies(r io.Reader, start, end map[int32]int64) ([]float64, int, error) {
	var (
		lat       []float64
		discarded int
		clock     = int32(-1)
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		kv := map[string]int64{}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				kv[k] = n
			}
		}
		switch fields[0] {
		case "clock":
			clock = int32(kv["id"])
			if _, ok := start[clock]; !ok {
				return nil, 0, fmt.Errorf("the compositor's presentation clock %d is not one the bench reads", clock)
			}
		case "presented", "discarded":
			if clock < 0 {
				return nil, 0, errors.New("presentation lines before the clock line")
			}
			t := kv["commit_ns"]
			if t < start[clock] || t > end[clock] {
				continue
			}
			if fields[0] == "discarded" {
				discarded++
				continue
			}
			lat = append(lat, float64(kv["latency_ns"])/1e6)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	if clock < 0 {
		return nil, 0, errors.New("the compositor offers no wp_presentation")
	}
	return lat, discarded, nil
}
