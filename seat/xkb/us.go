package xkb

import (
	"fmt"
	"strings"
)

// usKey is one key of the built-in US layout: its evdev code, XKB key name
// (the names of xkeyboard-config's evdev keycodes) and keysyms per level.
type usKey struct {
	code uint32
	name string
	typ  string
	syms []string
}

func letters(first uint32, names []string, chars string) []usKey {
	var keys []usKey
	for i, c := range chars {
		keys = append(keys, usKey{first + uint32(i), names[i], "ALPHABETIC", []string{string(c), strings.ToUpper(string(c))}})
	}
	return keys
}

func seq(prefix string, from, n int) []string {
	var s []string
	for i := from; i < from+n; i++ {
		s = append(s, fmt.Sprintf("%s%02d", prefix, i))
	}
	return s
}

// usKeys is the US layout on a pc105 keyboard: the facts of evdev key
// codes (linux/input-event-codes.h) and the us symbols.
func usKeys() []usKey {
	two := func(code uint32, name, a, b string) usKey { return usKey{code, name, "TWO_LEVEL", []string{a, b}} }
	one := func(code uint32, name, a string) usKey { return usKey{code, name, "ONE_LEVEL", []string{a}} }
	kp := func(code uint32, name, a, b string) usKey { return usKey{code, name, "KEYPAD", []string{a, b}} }
	keys := []usKey{
		one(1, "ESC", "Escape"),
		two(2, "AE01", "1", "exclam"), two(3, "AE02", "2", "at"), two(4, "AE03", "3", "numbersign"),
		two(5, "AE04", "4", "dollar"), two(6, "AE05", "5", "percent"), two(7, "AE06", "6", "asciicircum"),
		two(8, "AE07", "7", "ampersand"), two(9, "AE08", "8", "asterisk"), two(10, "AE09", "9", "parenleft"),
		two(11, "AE10", "0", "parenright"), two(12, "AE11", "minus", "underscore"), two(13, "AE12", "equal", "plus"),
		two(14, "BKSP", "BackSpace", "BackSpace"), two(15, "TAB", "Tab", "ISO_Left_Tab"),
	}
	keys = append(keys, letters(16, seq("AD", 1, 10), "qwertyuiop")...)
	keys = append(keys,
		two(26, "AD11", "bracketleft", "braceleft"), two(27, "AD12", "bracketright", "braceright"),
		one(28, "RTRN", "Return"), one(29, "LCTL", "Control_L"))
	keys = append(keys, letters(30, seq("AC", 1, 9), "asdfghjkl")...)
	keys = append(keys,
		two(39, "AC10", "semicolon", "colon"), two(40, "AC11", "apostrophe", "quotedbl"),
		two(41, "TLDE", "grave", "asciitilde"), one(42, "LFSH", "Shift_L"), two(43, "BKSL", "backslash", "bar"))
	keys = append(keys, letters(44, seq("AB", 1, 7), "zxcvbnm")...)
	keys = append(keys,
		two(51, "AB08", "comma", "less"), two(52, "AB09", "period", "greater"), two(53, "AB10", "slash", "question"),
		one(54, "RTSH", "Shift_R"), one(55, "KPMU", "KP_Multiply"), two(56, "LALT", "Alt_L", "Meta_L"),
		one(57, "SPCE", "space"), one(58, "CAPS", "Caps_Lock"))
	for i := range 10 {
		keys = append(keys, one(59+uint32(i), fmt.Sprintf("FK%02d", i+1), fmt.Sprintf("F%d", i+1)))
	}
	keys = append(keys,
		one(69, "NMLK", "Num_Lock"), one(70, "SCLK", "Scroll_Lock"),
		kp(71, "KP7", "KP_Home", "KP_7"), kp(72, "KP8", "KP_Up", "KP_8"), kp(73, "KP9", "KP_Prior", "KP_9"),
		one(74, "KPSU", "KP_Subtract"),
		kp(75, "KP4", "KP_Left", "KP_4"), kp(76, "KP5", "KP_Begin", "KP_5"), kp(77, "KP6", "KP_Right", "KP_6"),
		one(78, "KPAD", "KP_Add"),
		kp(79, "KP1", "KP_End", "KP_1"), kp(80, "KP2", "KP_Down", "KP_2"), kp(81, "KP3", "KP_Next", "KP_3"),
		kp(82, "KP0", "KP_Insert", "KP_0"), kp(83, "KPDL", "KP_Delete", "KP_Decimal"),
		two(86, "LSGT", "less", "greater"), one(87, "FK11", "F11"), one(88, "FK12", "F12"),
		one(96, "KPEN", "KP_Enter"), one(97, "RCTL", "Control_R"), one(98, "KPDV", "KP_Divide"),
		one(99, "PRSC", "Print"), two(100, "RALT", "Alt_R", "Meta_R"),
		one(102, "HOME", "Home"), one(103, "UP", "Up"), one(104, "PGUP", "Prior"), one(105, "LEFT", "Left"),
		one(106, "RGHT", "Right"), one(107, "END", "End"), one(108, "DOWN", "Down"), one(109, "PGDN", "Next"),
		one(110, "INS", "Insert"), one(111, "DELE", "Delete"),
		one(113, "MUTE", "XF86AudioMute"), one(114, "VOL-", "XF86AudioLowerVolume"),
		one(115, "VOL+", "XF86AudioRaiseVolume"), one(116, "POWR", "XF86PowerOff"), kp(117, "KPEQ", "KP_Equal", "KP_Equal"),
		one(119, "PAUS", "Pause"), one(125, "LWIN", "Super_L"), one(126, "RWIN", "Super_R"), one(127, "COMP", "Menu"),
	)
	return keys
}

// usModMap is the US layout's modifier map: real modifier -> key names.
var usModMap = []struct {
	mod  string
	keys []string
}{
	{"Shift", []string{"LFSH", "RTSH"}},
	{"Lock", []string{"CAPS"}},
	{"Control", []string{"LCTL", "RCTL"}},
	{"Mod1", []string{"LALT", "RALT"}},
	{"Mod2", []string{"NMLK"}},
	{"Mod4", []string{"LWIN", "RWIN"}},
}

const usTypes = `xkb_types "vitrine" {
	virtual_modifiers NumLock,Alt,Super;

	type "ONE_LEVEL" {
		modifiers= none;
		level_name[Level1]= "Any";
	};
	type "TWO_LEVEL" {
		modifiers= Shift;
		map[Shift]= Level2;
		level_name[Level1]= "Base";
		level_name[Level2]= "Shift";
	};
	type "ALPHABETIC" {
		modifiers= Shift+Lock;
		map[Shift]= Level2;
		map[Lock]= Level2;
		level_name[Level1]= "Base";
		level_name[Level2]= "Caps";
	};
	type "KEYPAD" {
		modifiers= Shift+NumLock;
		map[None]= Level1;
		map[Shift]= Level2;
		map[NumLock]= Level2;
		map[Shift+NumLock]= Level1;
		level_name[Level1]= "Base";
		level_name[Level2]= "Number";
	};
};
`

const usCompat = `xkb_compatibility "vitrine" {
	virtual_modifiers NumLock,Alt,Super;

	interpret.useModMapMods= AnyLevel;
	interpret.repeat= False;
	interpret Shift_Lock+AnyOf(Shift+Lock) {
		action= LockMods(modifiers=Shift);
	};
	interpret Num_Lock+AnyOf(all) {
		virtualModifier= NumLock;
		action= LockMods(modifiers=NumLock);
	};
	interpret Alt_L+AnyOf(all) {
		virtualModifier= Alt;
		action= SetMods(modifiers=modMapMods,clearLocks);
	};
	interpret Alt_R+AnyOf(all) {
		virtualModifier= Alt;
		action= SetMods(modifiers=modMapMods,clearLocks);
	};
	interpret Super_L+AnyOf(all) {
		virtualModifier= Super;
		action= SetMods(modifiers=modMapMods,clearLocks);
	};
	interpret Super_R+AnyOf(all) {
		virtualModifier= Super;
		action= SetMods(modifiers=modMapMods,clearLocks);
	};
	interpret Caps_Lock+AnyOfOrNone(all) {
		action= LockMods(modifiers=Lock);
	};
	interpret Any+Exactly(Lock) {
		action= LockMods(modifiers=Lock);
	};
	interpret Any+AnyOf(all) {
		action= SetMods(modifiers=modMapMods,clearLocks);
	};
	indicator "Caps Lock" {
		whichModState= locked;
		modifiers= Lock;
	};
	indicator "Num Lock" {
		whichModState= locked;
		modifiers= NumLock;
	};
};
`

// usKeymapText builds the complete keymap text.
func usKeymapText() string {
	var b strings.Builder
	keys := usKeys()
	b.WriteString("xkb_keymap {\n")
	b.WriteString("xkb_keycodes \"evdev\" {\n\tminimum = 8;\n\tmaximum = 255;\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "\t<%s> = %d;\n", k.name, k.code+evdevOffset)
	}
	b.WriteString("\tindicator 1 = \"Caps Lock\";\n\tindicator 2 = \"Num Lock\";\n};\n\n")
	b.WriteString(usTypes)
	b.WriteString("\n")
	b.WriteString(usCompat)
	b.WriteString("\nxkb_symbols \"us\" {\n\tname[Group1]= \"English (US)\";\n\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "\tkey <%s> { type= \"%s\", symbols[Group1]= [ %s ] };\n", k.name, k.typ, strings.Join(k.syms, ", "))
	}
	b.WriteString("\n")
	for _, m := range usModMap {
		names := make([]string, len(m.keys))
		for i, n := range m.keys {
			names[i] = "<" + n + ">"
		}
		fmt.Fprintf(&b, "\tmodifier_map %s { %s };\n", m.mod, strings.Join(names, ", "))
	}
	b.WriteString("};\n\n};\n")
	return b.String()
}
