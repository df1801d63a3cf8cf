package xkb

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestCompileGermanLayout(t *testing.T) {
	if _, err := exec.LookPath("xkbcli"); err != nil {
		t.Skip("xkbcli not installed (Debian: libxkbcommon-tools)")
	}
	k, err := Compile(Names{Layout: "de"}, exec.LookPath)
	if err != nil {
		t.Fatal(err)
	}
	// German keyboards have z and y swapped: the key US maps to y
	// (<AD06>, evdev KEY_Y) types z.
	if !regexp.MustCompile(`key <AD06>\s*\{\s*\[\s*z,`).MatchString(k.Text) {
		t.Fatal("keymap for layout de does not put z on <AD06>")
	}
	us, err := Compile(Names{Layout: "us"}, exec.LookPath)
	if err != nil {
		t.Fatal(err)
	}
	if us.Text == k.Text {
		t.Fatal("de and us compiled to the same keymap")
	}
	// The modifiers still work from a compiled map: Shift is Shift.
	if got := k.ModifierKey(42); got != ModShift {
		t.Fatalf("left shift (evdev 42) in the de keymap sets mods %#x, want Shift", got)
	}
}

func TestCompileUnknownLayoutSaysWhich(t *testing.T) {
	if _, err := exec.LookPath("xkbcli"); err != nil {
		t.Skip("xkbcli not installed (Debian: libxkbcommon-tools)")
	}
	_, err := Compile(Names{Layout: "no-such-layout"}, exec.LookPath)
	if err == nil || !strings.Contains(err.Error(), "layout=no-such-layout") {
		t.Fatalf("unknown layout: err %v, want one naming the layout", err)
	}
}

func TestCompileWithoutXkbcliNamesThePackage(t *testing.T) {
	_, err := Compile(Names{Layout: "de"}, func(string) (string, error) { return "", exec.ErrNotFound })
	if !errors.Is(err, ErrNoCompiler) || !strings.Contains(err.Error(), "libxkbcommon-tools") {
		t.Fatalf("err %v, want ErrNoCompiler naming the package", err)
	}
}

func TestNamesFromEnvAndOverride(t *testing.T) {
	env := map[string]string{"XKB_DEFAULT_LAYOUT": "fr", "XKB_DEFAULT_OPTIONS": "ctrl:nocaps"}
	n := NamesFromEnv(func(k string) string { return env[k] })
	if n != (Names{Layout: "fr", Options: "ctrl:nocaps"}) {
		t.Fatalf("from env: %+v", n)
	}
	got := n.Over(Names{Layout: "de", Variant: "nodeadkeys"})
	if got != (Names{Layout: "de", Variant: "nodeadkeys", Options: "ctrl:nocaps"}) {
		t.Fatalf("flags over env: %+v", got)
	}
	if !(Names{}).Empty() || got.Empty() {
		t.Fatal("Empty is wrong")
	}
}
