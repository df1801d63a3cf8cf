package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procSample is what the bench reads about a process tree at one instant.
type procSample struct {
	CPUNS uint64 // time on CPU, summed over every thread (schedstat)
	CtxSw uint64 // voluntary + nonvoluntary context switches, all threads
	// VolCtxSw are the voluntary ones: the compositor waiting for work.
	// The rest are other programs preempting it, which a loaded
	// machine adds whatever the compositor's design.
	VolCtxSw uint64
	RSSKB    uint64 // VmRSS summed over the processes
	HWMKB    uint64 // VmHWM summed over the processes
	Procs    int    // processes sampled
	Threads  int    // threads sampled
	Commands []string
}

// procFS reads /proc; root is a parameter so tests can use a fake tree.
type procFS struct {
	root string
}

// sampleTree samples pid and every process descended from it. Threads or
// processes that exit between listing and reading are skipped: their time
// is lost, which the window start and end samples mostly share.
func (p procFS) sampleTree(pid int) (procSample, error) {
	pids, err := p.tree(pid)
	if err != nil {
		return procSample{}, err
	}
	var s procSample
	for i, id := range pids {
		one, err := p.sampleProcess(id)
		if err != nil {
			if i == 0 {
				return procSample{}, err
			}
			continue
		}
		s.CPUNS += one.CPUNS
		s.CtxSw += one.CtxSw
		s.VolCtxSw += one.VolCtxSw
		s.RSSKB += one.RSSKB
		s.HWMKB += one.HWMKB
		s.Procs++
		s.Threads += one.Threads
		s.Commands = append(s.Commands, one.Commands...)
	}
	return s, nil
}

// sampleProcess reads one process: CPU and context switches per thread,
// because /proc/PID/schedstat and /proc/PID/status give the main thread's
// figures only; memory from the process's status.
func (p procFS) sampleProcess(pid int) (procSample, error) {
	dir := filepath.Join(p.root, strconv.Itoa(pid))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return procSample{}, fmt.Errorf("read status of process %d: %w", pid, err)
	}
	st, err := parseStatus(string(status))
	if err != nil {
		return procSample{}, fmt.Errorf("parse %s/status: %w", dir, err)
	}
	s := procSample{RSSKB: st.RSSKB, HWMKB: st.HWMKB, Procs: 1, Commands: []string{st.Name}}
	tasks, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		return procSample{}, fmt.Errorf("list threads of process %d: %w", pid, err)
	}
	for _, t := range tasks {
		tdir := filepath.Join(dir, "task", t.Name())
		sched, err := os.ReadFile(filepath.Join(tdir, "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		ns, err := parseSchedstat(string(sched))
		if err != nil {
			return procSample{}, fmt.Errorf("parse %s/schedstat: %w", tdir, err)
		}
		tstatus, err := os.ReadFile(filepath.Join(tdir, "status"))
		if err != nil {
			continue
		}
		tst, err := parseStatus(string(tstatus))
		if err != nil {
			return procSample{}, fmt.Errorf("parse %s/status: %w", tdir, err)
		}
		s.CPUNS += ns
		s.CtxSw += tst.Voluntary + tst.Nonvoluntary
		s.VolCtxSw += tst.Voluntary
		s.Threads++
	}
	return s, nil
}

// parseSchedstat returns the first field of /proc/…/schedstat: nanoseconds
// spent on a CPU. It is exact, where /proc/PID/stat counts 10 ms ticks.
func parseSchedstat(s string) (uint64, error) {
	fields := strings.Fields(s)
	if len(fields) < 1 {
		return 0, errors.New("empty schedstat")
	}
	v, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat field 1 %q: %w", fields[0], err)
	}
	return v, nil
}

// statusFields are the /proc/…/status lines the bench uses.
type statusFields struct {
	Name         string
	RSSKB        uint64
	HWMKB        uint64
	Voluntary    uint64
	Nonvoluntary uint64
}

func parseStatus(s string) (statusFields, error) {
	var st statusFields
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		var dst *uint64
		switch key {
		case "Name":
			st.Name = value
			continue
		case "VmRSS":
			dst = &st.RSSKB
		case "VmHWM":
			dst = &st.HWMKB
		case "voluntary_ctxt_switches":
			dst = &st.Voluntary
			seen++
		case "nonvoluntary_ctxt_switches":
			dst = &st.Nonvoluntary
			seen++
		default:
			continue
		}
		num, _, _ := strings.Cut(value, " ") // "1234 kB"
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return statusFields{}, fmt.Errorf("%s %q: %w", key, value, err)
		}
		*dst = v
	}
	if seen != 2 {
		return statusFields{}, errors.New("no voluntary_ctxt_switches/nonvoluntary_ctxt_switches lines")
	}
	return st, nil
}

// tree returns pid followed by all its descendants. Kernel threads and
// processes that vanish while /proc is read are ignored.
func (p procFS) tree(pid int) ([]int, error) {
	entries, err := os.ReadDir(p.root)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p.root, err)
	}
	children := make(map[int][]int)
	for _, e := range entries {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(p.root, e.Name(), "stat"))
		if err != nil {
			continue // exited since the listing
		}
		ppid, err := parseStatPPID(string(stat))
		if err != nil {
			return nil, fmt.Errorf("parse %s/%s/stat: %w", p.root, e.Name(), err)
		}
		children[ppid] = append(children[ppid], id)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out, nil
}

// parseStatPPID returns field 4 of /proc/PID/stat. The command name in
// field 2 may hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseStatPPID(s string) (int, error) {
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, errors.New("no ')' after the command name")
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return 0, errors.New("too few fields")
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return 0, fmt.Errorf("ppid %q: %w", fields[1], err)
	}
	return ppid, nil
}

// cpuTimes is the machine-wide "cpu" line of /proc/stat, in clock ticks.
type cpuTimes struct {
	total, idle uint64
}

// readCPUTimes reads the machine's CPU counters, so a run can say how busy
// the machine was besides the compositor (other people's jobs make the
// figures noisy).
func (p procFS) readCPUTimes() (cpuTimes, error) {
	b, err := os.ReadFile(filepath.Join(p.root, "stat"))
	if err != nil {
		return cpuTimes{}, fmt.Errorf("read %s/stat: %w", p.root, err)
	}
	return parseCPUTimes(string(b))
}

func parseCPUTimes(s string) (cpuTimes, error) {
	line, _, _ := strings.Cut(s, "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuTimes{}, errors.New("first line of /proc/stat is not the cpu total")
	}
	var t cpuTimes
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("/proc/stat cpu field %d %q: %w", i+1, f, err)
		}
		// guest and guest_nice are already inside user and nice.
		if i >= 8 {
			break
		}
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t, nil
}

// busyCores is how many CPUs' worth of time was not idle between a and b.
func busyCores(a, b cpuTimes, wall float64, ticksPerSecond float64) float64 {
	if b.total <= a.total || wall <= 0 {
		return 0
	}
	busy := float64((b.total - a.total) - (b.idle - a.idle))
	return busy / ticksPerSecond / wall
}
