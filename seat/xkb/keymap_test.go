package xkb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	keyA      = 30
	keyLShift = 42
	keyRShift = 54
	keyLCtrl  = 29
	keyRCtrl  = 97
	keyLAlt   = 56
	keyRAlt   = 100
	keyCaps   = 58
	keyNum    = 69
	keyLSuper = 125
)

type step struct {
	code    uint32
	pressed bool
	changed bool
	want    ModState
}

func run(t *testing.T, k *Keymap, steps []step) {
	t.Helper()
	s := k.NewState()
	for i, st := range steps {
		if got := s.Update(st.code, st.pressed); got != st.changed {
			t.Fatalf("step %d (key %d pressed=%v): changed=%v, want %v", i, st.code, st.pressed, got, st.changed)
		}
		if got := s.Mods(); got != st.want {
			t.Fatalf("step %d (key %d pressed=%v): mods %+v, want %+v", i, st.code, st.pressed, got, st.want)
		}
	}
}

func TestUSShift(t *testing.T) {
	run(t, USKeymap(), []step{
		{keyLShift, true, true, ModState{Depressed: ModShift}},
		{keyA, true, false, ModState{Depressed: ModShift}},
		{keyRShift, true, false, ModState{Depressed: ModShift}},
		{keyLShift, false, false, ModState{Depressed: ModShift}}, // right shift still down
		{keyRShift, false, true, ModState{}},
		{keyA, false, false, ModState{}},
		{keyA, false, false, ModState{}}, // release of an unpressed key
	})
}

func TestUSCapsLockToggles(t *testing.T) {
	run(t, USKeymap(), []step{
		{keyCaps, true, true, ModState{Depressed: ModLock, Locked: ModLock}},
		{keyCaps, false, true, ModState{Locked: ModLock}},
		{keyA, true, false, ModState{Locked: ModLock}},
		{keyA, false, false, ModState{Locked: ModLock}},
		{keyCaps, true, true, ModState{Depressed: ModLock, Locked: ModLock}},
		{keyCaps, false, true, ModState{}},
	})
}

func TestUSCtrlAltSuperNumLock(t *testing.T) {
	run(t, USKeymap(), []step{
		{keyLCtrl, true, true, ModState{Depressed: ModControl}},
		{keyLAlt, true, true, ModState{Depressed: ModControl | ModMod1}},
		{keyRCtrl, true, false, ModState{Depressed: ModControl | ModMod1}},
		{keyLCtrl, false, false, ModState{Depressed: ModControl | ModMod1}},
		{keyRCtrl, false, true, ModState{Depressed: ModMod1}},
		{keyLAlt, false, true, ModState{}},
		{keyRAlt, true, true, ModState{Depressed: ModMod1}},
		{keyRAlt, false, true, ModState{}},
		{keyLSuper, true, true, ModState{Depressed: ModMod4}},
		{keyLSuper, false, true, ModState{}},
		{keyNum, true, true, ModState{Depressed: ModMod2, Locked: ModMod2}},
		{keyNum, false, true, ModState{Locked: ModMod2}},
	})
}

func TestUSKeymapText(t *testing.T) {
	k := USKeymap()
	for _, want := range []string{"xkb_keymap", "<AC01> = 38;", "<ESC> = 9;", "modifier_map Lock { <CAPS> };", "key <AC01> { type= \"ALPHABETIC\", symbols[Group1]= [ a, A ] };"} {
		if !strings.Contains(k.Text, want) {
			t.Errorf("keymap text lacks %q", want)
		}
	}
	if b := k.Bytes(); b[len(b)-1] != 0 || bytes.IndexByte(b[:len(b)-1], 0) >= 0 {
		t.Fatal("Bytes must end in exactly one NUL")
	}
	if p := k.NewState(); func() bool { p.Update(keyA, true); return len(p.Pressed()) != 1 }() {
		t.Fatal("Pressed does not list the held key")
	}
}

// The built-in keymap must be one libxkbcommon (which clients use)
// accepts.
func TestUSKeymapLoadsInXkbcommon(t *testing.T) {
	xkbcli, err := exec.LookPath("xkbcli")
	if err != nil {
		t.Skip("xkbcli not installed (apt-get install libxkbcommon-tools)")
	}
	cmd := exec.Command(xkbcli, "compile-keymap", "--from-xkb")
	cmd.Stdin = strings.NewReader(USKeymap().Text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// xkbcli 1.5 exits 1 even after printing the keymap with
	// --from-xkb, so success is judged by what it printed.
	out, _ := cmd.Output()
	if !bytes.HasPrefix(out, []byte("xkb_keymap")) {
		t.Fatalf("xkbcommon rejects the built-in keymap:\n%s", stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("xkbcommon warnings:\n%s", stderr.String())
	}
	// Round trip: libxkbcommon's own rendering must give the same
	// modifier behaviour.
	k2, err := Parse(string(out))
	if err != nil {
		t.Fatal(err)
	}
	run(t, k2, []step{
		{keyLShift, true, true, ModState{Depressed: ModShift}},
		{keyCaps, true, true, ModState{Depressed: ModShift | ModLock, Locked: ModLock}},
		{keyCaps, false, true, ModState{Depressed: ModShift, Locked: ModLock}},
		{keyLShift, false, true, ModState{Locked: ModLock}},
		{keyNum, true, true, ModState{Depressed: ModMod2, Locked: ModLock | ModMod2}},
	})
}

func TestLoadCompiledGermanKeymap(t *testing.T) {
	xkbcli, err := exec.LookPath("xkbcli")
	if err != nil {
		t.Skip("xkbcli not installed (apt-get install libxkbcommon-tools)")
	}
	out, err := exec.Command(xkbcli, "compile-keymap", "--layout", "de").Output()
	if err != nil {
		t.Skipf("xkbcli cannot compile a de keymap here (xkb-data missing?): %v", err)
	}
	path := filepath.Join(t.TempDir(), "de.xkb")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKeymap(path)
	if err != nil {
		t.Fatal(err)
	}
	if k.Text != string(out) {
		t.Fatal("keymap text not kept verbatim for clients")
	}
	// In the German layout right Alt is AltGr: ISO_Level3_Shift on Mod5.
	run(t, k, []step{
		{keyRAlt, true, true, ModState{Depressed: ModMod5}},
		{keyRAlt, false, true, ModState{}},
		{keyLAlt, true, true, ModState{Depressed: ModMod1}},
		{keyLAlt, false, true, ModState{}},
		{keyCaps, true, true, ModState{Depressed: ModLock, Locked: ModLock}},
	})
}

func TestLoadKeymapErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.xkb")
	os.WriteFile(bad, []byte("setxkbmap us"), 0o644)
	_, err := LoadKeymap(bad)
	if err == nil || !strings.Contains(err.Error(), "xkbcli compile-keymap") {
		t.Fatalf("garbage keymap: %v", err)
	}
	if _, err := LoadKeymap(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestKeymapFileSealed(t *testing.T) {
	k := USKeymap()
	f, size, err := k.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if size != len(k.Text)+1 {
		t.Fatalf("size %d, want %d", size, len(k.Text)+1)
	}
	got := make([]byte, size)
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, k.Bytes()) {
		t.Fatalf("memfd content differs: %v", err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("sealed keymap memfd is writable")
	}
}

// wtype writes keymaps like this one: its own keycodes, one keysym per
// key, no modifier map (it sends modifiers itself).
const wtypeStyleKeymap = `xkb_keymap {
xkb_keycodes "(unnamed)" {
minimum = 8;
maximum = 11;
<K1> = 9;
<K2> = 10;
};
xkb_types "(unnamed)" { include "complete" };
xkb_compatibility "(unnamed)" { include "complete" };
xkb_symbols "(unnamed)" {
key <K1> {[Tab]};
key <K2> {[q]};
};
};
`

func TestParseKeysymsWithoutModifierMap(t *testing.T) {
	if _, err := Parse(wtypeStyleKeymap); err == nil {
		t.Fatal("Parse took a keymap without a modifier map; it cannot track modifiers with it")
	}
	k, err := ParseKeysyms(wtypeStyleKeymap)
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[uint32]string{1: "Tab", 2: "q", 3: ""} {
		if got := k.Keysym(code); got != want {
			t.Errorf("Keysym(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestUSKeymapKeysyms(t *testing.T) {
	k := USKeymap()
	// Evdev codes: KEY_TAB, KEY_Q, KEY_BACKSPACE, KEY_F1, KEY_F12.
	for code, want := range map[uint32]string{15: "Tab", 16: "q", 14: "BackSpace", 59: "F1", 88: "F12"} {
		if got := k.Keysym(code); got != want {
			t.Errorf("Keysym(%d) = %q, want %q", code, got, want)
		}
	}
}
