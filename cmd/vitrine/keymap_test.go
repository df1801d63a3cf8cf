package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/vitrine-wm/vitrine/seat/xkb"
)

func TestKeymapFromFlagsOverEnvironment(t *testing.T) {
	if _, err := exec.LookPath("xkbcli"); err != nil {
		t.Skip("xkbcli not installed (Debian: libxkbcommon-tools)")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := map[string]string{"XKB_DEFAULT_LAYOUT": "fr"}
	getenv := func(k string) string { return env[k] }
	opts, err := parseFlags([]string{"--xkb-layout", "de"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	km, err := keymapFor(opts, getenv, log)
	if err != nil {
		t.Fatal(err)
	}
	// de puts z where us has y (<AD06>); fr puts a where us has q (<AD01>).
	if km == nil || !regexp.MustCompile(`key <AD06>\s*\{\s*\[\s*z,`).MatchString(km.Text) {
		t.Fatal("--xkb-layout de did not win over XKB_DEFAULT_LAYOUT=fr")
	}
	opts, _ = parseFlags(nil, io.Discard)
	km, err = keymapFor(opts, getenv, log)
	if err != nil || km == nil || !regexp.MustCompile(`key <AD01>\s*\{\s*\[\s*a,`).MatchString(km.Text) {
		t.Fatalf("XKB_DEFAULT_LAYOUT=fr alone: keymap %v, err %v", km != nil, err)
	}
}

func TestKeymapWithoutXkbcli(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	env := func(k string) string { return map[string]string{"XKB_DEFAULT_LAYOUT": "de"}[k] }
	opts, _ := parseFlags(nil, io.Discard)
	// From the environment only: warn and start with the built-in map.
	km, err := keymapFor(opts, env, log)
	if err != nil || km != nil || !strings.Contains(logged.String(), "libxkbcommon-tools") {
		t.Fatalf("env layout without xkbcli: keymap %v err %v log %q", km != nil, err, logged.String())
	}
	// Asked for on the command line: one error naming the package.
	opts, _ = parseFlags([]string{"--xkb-layout", "de"}, io.Discard)
	if _, err := keymapFor(opts, env, log); !errors.Is(err, xkb.ErrNoCompiler) {
		t.Fatalf("--xkb-layout without xkbcli: err %v, want ErrNoCompiler", err)
	}
}
