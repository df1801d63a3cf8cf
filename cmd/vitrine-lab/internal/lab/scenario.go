package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/screencheck"
)

// Scenario is one row of the lab's matrix: a guest configuration, a
// command, and how to judge what came back. Later work adds rows to
// Scenarios.
type Scenario struct {
	Name      string
	Displays  []string
	Render    string
	Session   string
	HostRoot  bool   // see Config.HostRoot
	UdevRules string // see Config.UdevRules
	Command   string
	Input     string        // host-side input script, played once the command starts
	Timeout   time.Duration // default one minute (three for disk sessions)
	// NeedsVitrine marks rows that run cmd/vitrine; they fail with a
	// clear reason when it did not build.
	NeedsVitrine bool
	// WantExit is the guest command's expected exit status.
	WantExit int
	// WantOutput lists regular expressions that must match the command's
	// output.
	WantOutput []string
	// Screendumps maps a screendump name (the guest's lab-screendump
	// NAME) to the regions it must show.
	Screendumps map[string][]screencheck.Region
	// Check, if set, judges the run instead of the fields above; it
	// also receives Run's error (timeouts, QEMU deaths).
	Check func(env *Env, res *Result, runErr error) error
}

// Devices describes the scenario's hardware for the results table.
func (s *Scenario) Devices() string {
	d := strings.Join(s.Displays, ",")
	if d == "" {
		d = "virtio"
	}
	if s.Render != "" {
		d += "+" + s.Render
	}
	if s.Session != "" && s.Session != SessionNone {
		d += " (" + s.Session + ")"
	}
	return d
}

// NeedsDisk reports whether the scenario boots the disk image.
func (s *Scenario) NeedsDisk() bool {
	return s.Session == SessionLogind || s.Session == SessionSeatd || s.Session == SessionUnits
}

// Outcome is the verdict on one scenario.
type Outcome struct {
	Scenario *Scenario
	Err      error
	Elapsed  time.Duration
}

// Select returns the scenarios whose name matches pattern (all for "").
func Select(all []Scenario, pattern string) ([]Scenario, error) {
	if pattern == "" {
		return all, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("--run %q: %w", pattern, err)
	}
	var out []Scenario
	for _, s := range all {
		if re.MatchString(s.Name) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--run %q matches no scenario", pattern)
	}
	return out, nil
}

// RunScenario boots one scenario and judges it. The guest's output goes
// to outDir/output.log, screendumps and the console log next to it.
func (e *Env) RunScenario(ctx context.Context, s *Scenario, outDir string, vitrineBuilt bool) Outcome {
	start := time.Now()
	err := e.runScenario(ctx, s, outDir, vitrineBuilt)
	return Outcome{Scenario: s, Err: err, Elapsed: time.Since(start)}
}

func (e *Env) runScenario(ctx context.Context, s *Scenario, outDir string, vitrineBuilt bool) error {
	if s.NeedsVitrine && !vitrineBuilt {
		return errors.New("needs cmd/vitrine, which did not build")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", outDir, err)
	}
	logf, err := os.Create(filepath.Join(outDir, "output.log"))
	if err != nil {
		return fmt.Errorf("output log: %w", err)
	}
	defer logf.Close()
	timeout := s.Timeout
	if timeout == 0 {
		timeout = time.Minute
		if s.NeedsDisk() {
			// systemd boots took up to 70s on a loaded 2-core host.
			timeout = 3 * time.Minute
		}
	}
	res, runErr := e.Run(ctx, Config{
		Displays:  s.Displays,
		Render:    s.Render,
		Session:   s.Session,
		HostRoot:  s.HostRoot,
		UdevRules: s.UdevRules,
		Command:   []string{s.Command},
		Input:     s.Input,
		OutDir:    outDir,
		Timeout:   timeout,
		Output:    logf,
	})
	if s.Check != nil {
		return s.Check(e, res, runErr)
	}
	if runErr != nil {
		return runErr
	}
	return s.judge(res, outDir)
}

// judge applies WantExit, WantOutput and Screendumps.
func (s *Scenario) judge(res *Result, outDir string) error {
	var problems []string
	if res.ExitCode != s.WantExit {
		problems = append(problems, fmt.Sprintf("guest command exited %d, want %d; output ends:\n%s",
			res.ExitCode, s.WantExit, indent(tail(string(res.Output), 10))))
	}
	for _, pat := range s.WantOutput {
		if !regexp.MustCompile(pat).Match(res.Output) {
			problems = append(problems, fmt.Sprintf("output lacks %q; output ends:\n%s", pat, indent(tail(string(res.Output), 10))))
		}
	}
	for name, regions := range s.Screendumps {
		path := filepath.Join(outDir, name+".png")
		img, err := screencheck.ReadPNG(path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("screendump %s: %v", name, err))
			continue
		}
		if err := screencheck.CheckRegions(img, regions).Err(); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", path, err))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// PrintTable writes the results table, the reasons for failures, and the
// closing "N passed, M failed" line. It returns the number of failures.
func PrintTable(w io.Writer, outcomes []Outcome) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tdevices\tresult\tseconds")
	failed := 0
	for _, o := range outcomes {
		result := "pass"
		if o.Err != nil {
			result = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\n", o.Scenario.Name, o.Scenario.Devices(), result, o.Elapsed.Seconds())
	}
	tw.Flush()
	for _, o := range outcomes {
		if o.Err != nil {
			fmt.Fprintf(w, "\n%s failed:\n%s\n", o.Scenario.Name, indent(o.Err.Error()))
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", len(outcomes)-failed, failed)
	return failed
}

// guestOutput is how a row's check starts: the guest's output, and the
// script's exit status as the first problem when it is not 0.
func guestOutput(res *Result) (string, []string) {
	var problems []string
	if res.ExitCode != 0 {
		problems = append(problems, fmt.Sprintf("guest command exited %d", res.ExitCode))
	}
	return string(res.Output), problems
}
