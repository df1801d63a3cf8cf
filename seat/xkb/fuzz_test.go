package xkb

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse: a keymap file is user input (--keymap); whatever it holds,
// Parse returns a keymap or an error, never panics, and a keymap it
// returns tracks modifiers for any key without panicking either.
func FuzzParse(f *testing.F) {
	// Small keymaps: the fuzzer crawls on inputs the size of a real one
	// (11 KB for US), which keymap_test.go parses as they are.
	small := `xkb_keymap {
xkb_keycodes "k" { <LFSH> = 50; <RTSH> = 62; <CAPS> = 66; <LCTL> = 37; <AC01> = 38; <LVL3> = 92; alias <ALGR> = <LVL3>; };
xkb_symbols "s" {
key <LFSH> { [ Shift_L ] }; key <RTSH> { type= "TWO_LEVEL", symbols[Group1]= [ Shift_R ] };
key <CAPS> { [ Caps_Lock ] }; key <LCTL> { [ Control_L ] }; key <AC01> { [ a, A ] };
key <LVL3> { [ ISO_Level3_Shift ], actions[Group1]= [ SetMods(modifiers=LevelThree) ] };
modifier_map Shift { <LFSH>, Shift_R }; modifier_map Lock { <CAPS> }; modifier_map Control { <LCTL> }; modifier_map Mod5 { <LVL3> };
};
};`
	f.Add(small)
	f.Add(small[:len(small)/2])
	f.Add(strings.Replace(small, "modifier_map Lock", "// comment\nmodifier_map Lock", 1))
	f.Add("xkb_keymap { xkb_keycodes { <A> = 38; }; xkb_symbols { key <A> { [ a ] }; modifier_map Shift { <A> }; }; };")
	f.Add("xkb_keymap { xkb_keycodes { <A> = 4294967295; }; xkb_symbols { key <A> { [ ] }; }; };")
	f.Fuzz(func(t *testing.T, text string) {
		// A keymap that makes Parse spin would hang vitrine's start:
		// fail the input instead of the whole run.
		type result struct {
			k   *Keymap
			err error
		}
		done := make(chan result, 1)
		go func() {
			k, err := Parse(text)
			done <- result{k, err}
		}()
		var k *Keymap
		select {
		case r := <-done:
			if r.err != nil {
				return
			}
			k = r.k
		case <-time.After(2 * time.Second):
			t.Fatalf("Parse of a %d-byte keymap did not return within 2 s", len(text))
		}
		s := k.NewState()
		for code := uint32(0); code < 300; code += 7 {
			s.Update(code, true)
			k.ModifierKey(code)
		}
		for code := uint32(0); code < 300; code += 7 {
			s.Update(code, false)
		}
		if m := s.Mods(); m.Depressed != 0 {
			t.Fatalf("every key released but depressed modifiers are %#x", m.Depressed)
		}
		s.Update(1<<31, true)
	})
}
