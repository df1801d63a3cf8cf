package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// Module is the import path of the vitrine module; the lab builds its
// commands and examples for the guest.
const Module = "github.com/vitrine-wm/vitrine"

// FindModuleRoot returns the directory of the vitrine module that dir is
// in (dir itself or a parent).
func FindModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == Module {
					return d, nil
				}
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside the vitrine source tree (module %s): run vitrine-lab from the checkout or pass --src", dir, Module)
		}
	}
}

// ErrVitrineBuild reports that cmd/vitrine did not build; the other
// binaries may still be usable.
var ErrVitrineBuild = errors.New("cmd/vitrine does not build")

// BuildReport says what BuildGuest built and what it skipped.
type BuildReport struct {
	Built   map[string]string // binary name -> path
	Skipped map[string]string // import path -> first lines of the build error
}

// BuildGuest builds every main package under cmd/ and examples/ with
// CGO_ENABLED=0 into outDir, for the guest's PATH. Packages that do not
// compile are skipped and reported, except cmd/vitrine-lab (the guest's
// lab-screendump and lab-input), whose failure is an error; a failure of
// cmd/vitrine is returned as ErrVitrineBuild along with the report.
func BuildGuest(ctx context.Context, log *slog.Logger, root, outDir string) (*BuildReport, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", outDir, err)
	}
	var patterns []string
	for _, d := range []string{"cmd", "examples"} {
		if st, err := os.Stat(filepath.Join(root, d)); err == nil && st.IsDir() {
			patterns = append(patterns, "./"+d+"/...")
		}
	}
	list := exec.CommandContext(ctx, "go", append([]string{"list", "-e", "-f", "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}"}, patterns...)...)
	list.Dir = root
	list.Env = guestEnv()
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w: %s", root, err, stderr.String())
	}
	rep := &BuildReport{Built: map[string]string{}, Skipped: map[string]string{}}
	var vitrineErr error
	for _, pkg := range strings.Fields(string(out)) {
		name := path.Base(pkg)
		if strings.Contains(pkg, "/internal/") || strings.HasSuffix(pkg, "/internal") {
			continue
		}
		bin := filepath.Join(outDir, name)
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
		build.Dir = root
		build.Env = guestEnv()
		msg, err := build.CombinedOutput()
		if err == nil {
			rep.Built[name] = bin
			continue
		}
		first := tail(strings.TrimSpace(string(msg)), 5)
		switch pkg {
		case Module + "/cmd/vitrine-lab":
			return nil, fmt.Errorf("build %s for the guest: %w\n%s", pkg, err, first)
		case Module + "/cmd/vitrine":
			vitrineErr = fmt.Errorf("%w: %s", ErrVitrineBuild, first)
		default:
			log.Warn("guest binary does not build; left out of the guest", "package", pkg, "err", first)
		}
		rep.Skipped[pkg] = first
	}
	if _, ok := rep.Built["vitrine-lab"]; !ok {
		return nil, fmt.Errorf("no %s/cmd/vitrine-lab under %s", Module, root)
	}
	if _, ok := rep.Built["vitrine"]; !ok && vitrineErr == nil {
		vitrineErr = fmt.Errorf("%w: no main package at %s/cmd/vitrine", ErrVitrineBuild, root)
	}
	return rep, vitrineErr
}

func guestEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
}
