package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// compareOptions are the compare command's flags.
type compareOptions struct {
	seconds     float64
	rounds      int
	warmup      time.Duration
	workloads   []workload
	compositors []compositor
	vitrine     string
	jsonPath    string
	logLevel    slog.Level
}

func parseCompareFlags(args []string, stderr io.Writer) (compareOptions, error) {
	fs := flag.NewFlagSet("vitrine-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o compareOptions
	fs.Float64Var(&o.seconds, "seconds", 10, "length of the measured window of each run, in seconds")
	fs.IntVar(&o.rounds, "rounds", 3, "run each compositor this many times per workload, in turn (A B C A B C ...); the table shows each one's median run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "wait this long after the clients' first commits before the window starts")
	workloads := fs.String("workloads", workloadNames(), "comma-separated workloads to run")
	compositors := fs.String("compositors", compositorNames(), "comma-separated compositors to compare (vitrine alone is the quick check)")
	fs.StringVar(&o.vitrine, "vitrine", "", "vitrine binary to measure (default: build ./cmd/vitrine of the repository in the current directory)")
	fs.StringVar(&o.jsonPath, "json", "", "also write the raw results as JSON to this file")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.seconds <= 0 {
		return o, fmt.Errorf("--seconds %v: must be positive", o.seconds)
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("--rounds %d: must be at least 1", o.rounds)
	}
	if o.warmup < 0 {
		return o, fmt.Errorf("--warmup %v: must not be negative", o.warmup)
	}
	if err := o.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return o, fmt.Errorf("--log-level: %w", err)
	}
	var err error
	if o.workloads, err = pick(*workloads, allWorkloads(), func(w workload) string { return w.Name }); err != nil {
		return o, fmt.Errorf("--workloads: %w", err)
	}
	if o.compositors, err = pick(*compositors, allCompositors(), func(c compositor) string { return c.Name }); err != nil {
		return o, fmt.Errorf("--compositors: %w", err)
	}
	return o, nil
}

// pick returns the named items, in the order given, from all.
func pick[T any](list string, all []T, name func(T) string) ([]T, error) {
	var out []T
	seen := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		found := false
		for _, item := range all {
			if name(item) == n {
				out = append(out, item)
				found = true
				break
			}
		}
		if !found {
			var names []string
			for _, item := range all {
				names = append(names, name(item))
			}
			return nil, fmt.Errorf("unknown name %q (known: %s)", n, strings.Join(names, ", "))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseCompareFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "vitrine-bench compare: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	results, rounds, err := compare(ctx, o, stderr, log)
	if err != nil {
		fmt.Fprintf(stderr, "vitrine-bench compare: %v\n", err)
		return 1
	}
	if err := writeTable(stdout, results); err != nil {
		fmt.Fprintf(stderr, "vitrine-bench compare: write table: %v\n", err)
		return 1
	}
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, o, results, rounds); err != nil {
			fmt.Fprintf(stderr, "vitrine-bench compare: %v\n", err)
			return 1
		}
	}
	for _, r := range results {
		if r.Error != "" {
			return 1
		}
	}
	return 0
}

// compare runs every selected workload under every selected compositor,
// workload by workload so that the runs being compared are close in time,
// o.rounds times in turn. It returns each compositor's median run per
// workload, and every run.
func compare(ctx context.Context, o compareOptions, progress io.Writer, log *slog.Logger) ([]result, []result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find this program (it is the fullscreen workload's client): %w", err)
	}
	binaries := map[string]string{}
	var skipped []result
	available := o.compositors[:0:0]
	for _, c := range o.compositors {
		if c.Name == "vitrine" || c.Floor {
			continue // vitrine is built below, only if needed
		}
		path, reason := lookPrograms(c.Binary, c.Package, c.Also)
		if reason != "" {
			fmt.Fprintf(progress, "skip %s: %s\n", c.Name, reason)
			skipped = append(skipped, skippedResult(c.Name, "*", reason, false))
			continue
		}
		binaries[c.Name] = path
	}
	for _, c := range o.compositors {
		if c.Name == "vitrine" || c.Floor || binaries[c.Name] != "" {
			available = append(available, c)
		}
	}
	if slices.ContainsFunc(available, func(c compositor) bool { return c.Name == "vitrine" }) {
		path, cleanup, err := vitrineBinary(ctx, o.vitrine, progress)
		if err != nil {
			return nil, nil, err
		}
		defer cleanup()
		binaries["vitrine"] = path
	}

	rn := &runner{
		seconds:      time.Duration(o.seconds * float64(time.Second)),
		warmup:       o.warmup,
		startTimeout: 90 * time.Second,
		self:         self,
		proc:         procFS{root: "/proc"},
		log:          log,
		unprivileged: sync.OnceValues(func() (identity, error) { return unprivilegedIdentity(log) }),
	}
	var results, all []result
	for _, w := range o.workloads {
		if w.Binary != "" {
			if _, reason := lookPrograms(w.Binary, w.Package, nil); reason != "" {
				fmt.Fprintf(progress, "skip workload %s: %s\n", w.Name, reason)
				for _, c := range available {
					results = append(results, skippedResult(c.Name, w.Name, reason, w.Idle))
				}
				continue
			}
		}
		runs := make([][]result, len(available))
		for round := 1; round <= o.rounds; round++ {
			for i, c := range available {
				if err := ctx.Err(); err != nil {
					return nil, nil, err
				}
				fmt.Fprintf(progress, "run %s / %s (round %d of %d) ...\n", c.Name, w.Name, round, o.rounds)
				var r result
				if c.Floor {
					r = rn.runFloor(ctx, w)
				} else {
					r = rn.runOne(ctx, c, binaries[c.Name], w)
				}
				r.Round = round
				if r.Error != "" {
					fmt.Fprintf(progress, "  failed: %s\n", r.Error)
				}
				runs[i] = append(runs[i], r)
				all = append(all, r)
			}
		}
		for _, rs := range runs {
			results = append(results, medianRun(rs))
		}
	}
	return append(results, skipped...), all, nil
}

// lookPrograms finds binary and the other programs also needs; reason says
// what to install when one is missing.
func lookPrograms(binary, pkg string, also map[string]string) (string, string) {
	path, err := exec.LookPath(binary)
	if err != nil {
		return "", fmt.Sprintf("%s is not installed (apt-get install %s)", binary, pkg)
	}
	for prog, p := range also {
		if _, err := exec.LookPath(prog); err != nil {
			return "", fmt.Sprintf("%s needs %s, which is not installed (apt-get install %s)", binary, prog, p)
		}
	}
	return path, ""
}

// vitrineBinary returns the binary to measure: the given one, or a fresh
// CGO_ENABLED=0 build of the repository the bench runs in.
func vitrineBinary(ctx context.Context, given string, progress io.Writer) (string, func(), error) {
	if given != "" {
		abs, err := filepath.Abs(given)
		if err != nil {
			return "", nil, fmt.Errorf("--vitrine %s: %w", given, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", nil, fmt.Errorf("--vitrine: %w", err)
		}
		return abs, func() {}, nil
	}
	root, err := vitrineRepo(ctx)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "vitrine-bench-build-")
	if err != nil {
		return "", nil, fmt.Errorf("create build directory: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	// The run directories are world-readable for the unprivileged peer;
	// the binary needs no such access, but keep it runnable by anyone.
	if err := os.Chmod(dir, 0o755); err != nil {
		cleanup()
		return "", nil, err
	}
	out := filepath.Join(dir, "vitrine")
	fmt.Fprintf(progress, "build vitrine from %s ...\n", root)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/vitrine")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build vitrine in %s: %w\n%s", root, err, b)
	}
	return out, cleanup, nil
}

// vitrineRepo is the root of the vitrine module containing the current
// directory.
func vitrineRepo(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the vitrine repository (go env GOMOD): %w; pass --vitrine PATH", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run from the vitrine repository or pass --vitrine PATH")
	}
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", gomod, err)
	}
	if !strings.Contains(string(b), "module github.com/vitrine-wm/vitrine\n") {
		return "", fmt.Errorf("%s is not the vitrine module: run from the vitrine repository or pass --vitrine PATH", gomod)
	}
	return filepath.Dir(gomod), nil
}

func writeJSON(path string, o compareOptions, results, rounds []result) error {
	doc := struct {
		Seconds float64 `json:"seconds"`
		Warmup  string  `json:"warmup"`
		Rounds  int     `json:"rounds"`
		Ratio   string  `json:"ratio_line"`
		// Results are the median runs the table shows; Runs is every
		// round of every compositor and workload.
		Results []result `json:"results"`
		Runs    []result `json:"runs"`
	}{o.seconds, o.warmup.String(), o.rounds, ratioLine(results), results, rounds}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write --json %s: %w", path, err)
	}
	return nil
}
