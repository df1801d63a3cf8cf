package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/lab"
)

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pattern := fs.String("run", "", "run only scenarios whose name matches this regular expression")
	out := fs.String("out", "", "directory for each scenario's output, console log and screendumps (default out/lab-check in the checkout)")
	list := fs.Bool("list", false, "list the scenarios and exit")
	src := fs.String("src", "", "vitrine checkout to build (default: the one containing the working directory)")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	scenarios, err := lab.Select(lab.Scenarios(), *pattern)
	if err != nil {
		fmt.Fprintln(stderr, "vitrine-lab check:", err)
		return 2
	}
	if *list {
		for _, s := range scenarios {
			fmt.Fprintf(stdout, "%s\t%s\n", s.Name, s.Devices())
		}
		return 0
	}
	root, err := moduleRoot(*src)
	if err != nil {
		fmt.Fprintln(stderr, "vitrine-lab:", err)
		return exitLabError
	}
	if *out == "" {
		*out = filepath.Join(root, "out", "lab-check")
	}
	return runCheck(ctx, stdout, stderr, newLogger(stderr, *verbose), root, *out, scenarios)
}

// runCheck prepares once, runs the scenarios in order and prints the
// table. It returns the process exit status: 1 if anything failed.
func runCheck(ctx context.Context, stdout, stderr io.Writer, log *slog.Logger, root, out string, scenarios []lab.Scenario) int {
	disk := false
	for _, s := range scenarios {
		disk = disk || s.NeedsDisk()
	}
	start := time.Now()
	env, code := prepare(ctx, log, stderr, root, disk, false)
	if env == nil {
		return code
	}
	defer env.Close()
	_, vitrineBuilt := env.Bins["vitrine"]
	log.Info("lab ready", "took", time.Since(start).Round(100*time.Millisecond), "scenarios", len(scenarios))
	var outcomes []lab.Outcome
	for i := range scenarios {
		if ctx.Err() != nil {
			break
		}
		s := &scenarios[i]
		o := env.RunScenario(ctx, s, filepath.Join(out, s.Name), vitrineBuilt)
		result := "pass"
		if o.Err != nil {
			result = "FAIL"
		}
		fmt.Fprintf(stderr, "vitrine-lab: %-16s %s %.1fs\n", s.Name, result, o.Elapsed.Seconds())
		outcomes = append(outcomes, o)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "vitrine-lab check: interrupted")
	}
	failed := lab.PrintTable(stdout, outcomes)
	log.Info("check finished", "took", time.Since(start).Round(100*time.Millisecond))
	if failed > 0 || len(outcomes) < len(scenarios) {
		return 1
	}
	return 0
}
