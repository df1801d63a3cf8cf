package xkb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Names are XKB's rules, model, layout, variant and options (RMLVO):
// what kiosk builders set in XKB_DEFAULT_* and what setxkbmap takes.
type Names struct {
	Rules, Model, Layout, Variant, Options string
}

// NamesFromEnv reads XKB_DEFAULT_RULES, _MODEL, _LAYOUT, _VARIANT and
// _OPTIONS, as libxkbcommon does for programs that pass no names.
func NamesFromEnv(getenv func(string) string) Names {
	return Names{
		Rules:   getenv("XKB_DEFAULT_RULES"),
		Model:   getenv("XKB_DEFAULT_MODEL"),
		Layout:  getenv("XKB_DEFAULT_LAYOUT"),
		Variant: getenv("XKB_DEFAULT_VARIANT"),
		Options: getenv("XKB_DEFAULT_OPTIONS"),
	}
}

// Empty reports whether no name is set: the built-in US keymap serves.
func (n Names) Empty() bool { return n == Names{} }

// Over returns n overridden by o: each name o sets wins.
func (n Names) Over(o Names) Names {
	pick := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	return Names{pick(n.Rules, o.Rules), pick(n.Model, o.Model), pick(n.Layout, o.Layout), pick(n.Variant, o.Variant), pick(n.Options, o.Options)}
}

func (n Names) String() string {
	var parts []string
	for _, f := range []struct{ k, v string }{{"rules", n.Rules}, {"model", n.Model}, {"layout", n.Layout}, {"variant", n.Variant}, {"options", n.Options}} {
		if f.v != "" {
			parts = append(parts, f.k+"="+f.v)
		}
	}
	return strings.Join(parts, " ")
}

// ErrNoCompiler says xkbcli is not installed.
var ErrNoCompiler = errors.New("xkbcli is not installed: install the Debian package libxkbcommon-tools (xkbcommon-tools on Debian 13 and later), or pass --keymap FILE with a compiled keymap")

// Compile compiles the keymap for names with xkbcli compile-keymap
// (libxkbcommon's own compiler: vitrine does not reimplement XKB's rules
// and include resolution), found on PATH through lookPath.
func Compile(names Names, lookPath func(string) (string, error)) (*Keymap, error) {
	bin, err := lookPath("xkbcli")
	if err != nil {
		return nil, ErrNoCompiler
	}
	args := []string{"compile-keymap"}
	for _, f := range []struct{ flag, v string }{{"--rules", names.Rules}, {"--model", names.Model}, {"--layout", names.Layout}, {"--variant", names.Variant}, {"--options", names.Options}} {
		if f.v != "" {
			args = append(args, f.flag, f.v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The compiler reads its own XKB_DEFAULT_* too; the names passed are
	// the whole request.
	cmd.Env = withoutXKBDefaults(os.Environ())
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		return nil, fmt.Errorf("xkbcli compile-keymap %s: %w: %s", names, err, msg)
	}
	if stdout.Len() == 0 {
		// xkbcli prints nothing for an unknown layout on some versions.
		return nil, fmt.Errorf("xkbcli compile-keymap %s: no keymap (unknown layout or variant?): %s", names, strings.TrimSpace(stderr.String()))
	}
	k, err := Parse(stdout.String())
	if err != nil {
		return nil, fmt.Errorf("keymap compiled for %s: %w", names, err)
	}
	return k, nil
}

func withoutXKBDefaults(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "XKB_DEFAULT_") {
			out = append(out, e)
		}
	}
	return out
}
