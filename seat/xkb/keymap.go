// Package xkb provides the keymap vitrine sends to clients and the
// modifier state vitrine tracks itself: a built-in US keymap, loading of
// any compiled XKB keymap, and modifier tracking from the keymap's
// modifier map. It does not translate keys to keysyms; clients do that
// with the keymap and the modifier state.
package xkb

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// evdevOffset: XKB keycodes are evdev codes plus 8 (an X11 heritage).
const evdevOffset = 8

// Keyboard repeat defaults for wl_keyboard.repeat_info.
const (
	DefaultRepeatRate  = 25 // keys per second
	DefaultRepeatDelay = 600 * time.Millisecond
)

// Real modifier masks, the bits of wl_keyboard.modifiers. XKB gives the
// eight real modifiers the first eight indices in every keymap; virtual
// modifiers (Alt, NumLock, Super...) are resolved to these through the
// modifier map, so masks of real modifiers are what clients expect.
const (
	ModShift   uint32 = 1 << 0
	ModLock    uint32 = 1 << 1
	ModControl uint32 = 1 << 2
	ModMod1    uint32 = 1 << 3 // Alt in the usual maps
	ModMod2    uint32 = 1 << 4 // NumLock
	ModMod3    uint32 = 1 << 5
	ModMod4    uint32 = 1 << 6 // Super
	ModMod5    uint32 = 1 << 7 // Level3 (AltGr) in many layouts
)

var realMods = map[string]uint32{
	"shift": ModShift, "lock": ModLock, "control": ModControl,
	"mod1": ModMod1, "mod2": ModMod2, "mod3": ModMod3, "mod4": ModMod4, "mod5": ModMod5,
}

// modifierKeysyms are the keysyms whose compat interprets act on
// modifiers.
var modifierKeysyms = map[string]bool{
	"Shift_L": true, "Shift_R": true, "Control_L": true, "Control_R": true,
	"Alt_L": true, "Alt_R": true, "Meta_L": true, "Meta_R": true,
	"Super_L": true, "Super_R": true, "Hyper_L": true, "Hyper_R": true,
	"ISO_Level3_Shift": true, "ISO_Level5_Shift": true,
	"Caps_Lock": true, "Shift_Lock": true, "Num_Lock": true,
}

// keyAction is how a modifier key changes the state.
type keyAction uint8

const (
	actionNone keyAction = iota
	actionSet            // held: depressed while down
	actionLock           // toggles: locked after press, unlocked by the next press
)

type keyInfo struct {
	mods   uint32
	action keyAction
}

// Keymap is a compiled XKB keymap (text format v1) and the modifier
// behaviour vitrine derived from it.
type Keymap struct {
	// Text is the keymap as sent to clients (without the trailing NUL
	// the wire format wants; see Bytes).
	Text string

	keys map[uint32]keyInfo // by evdev code
	// syms are the level-one keysym names by evdev code, for key
	// bindings.
	syms map[uint32]string
}

// Bytes is the keymap as wl_keyboard.keymap sends it: NUL-terminated.
func (k *Keymap) Bytes() []byte { return append([]byte(k.Text), 0) }

// File returns a sealed, read-only memfd holding Bytes, ready for
// wl_keyboard.keymap (format xkb_v1) with its size. Clients map it
// MAP_PRIVATE; the seals stop anyone from changing it under them.
func (k *Keymap) File() (*os.File, int, error) {
	b := k.Bytes()
	fd, err := unix.MemfdCreate("vitrine-keymap", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, 0, fmt.Errorf("memfd for keymap: %w", err)
	}
	f := os.NewFile(uintptr(fd), "vitrine-keymap")
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("write keymap memfd: %w", err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("seal keymap memfd: %w", err)
	}
	return f, len(b), nil
}

// USKeymap returns the built-in US keymap.
func USKeymap() *Keymap {
	k, err := Parse(usKeymapText())
	if err != nil {
		panic("built-in keymap does not parse: " + err.Error())
	}
	return k
}

// LoadKeymap reads a compiled XKB keymap, such as the output of
// `xkbcli compile-keymap --layout de`.
func LoadKeymap(path string) (*Keymap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keymap: %w", err)
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("keymap %s: %w (make one with: xkbcli compile-keymap --layout us > %s)", path, err, path)
	}
	return k, nil
}

var (
	reComment = regexp.MustCompile(`(?m)//.*$`)
	reKeycode = regexp.MustCompile(`<([^<>\s]+)>\s*=\s*(\d+)\s*;`)
	reAlias   = regexp.MustCompile(`alias\s+<([^<>\s]+)>\s*=\s*<([^<>\s]+)>\s*;`)
	reKey     = regexp.MustCompile(`key\s+<([^<>\s]+)>\s*\{`)
	reSyms    = regexp.MustCompile(`(?:^|[=\{,\s])\[\s*([^\]]*)\]`) // not the [Group1] of symbols[Group1]
	reModMap  = regexp.MustCompile(`modifier_map\s+(\w+)\s*\{([^}]*)\}`)
)

// section returns the body of the first "name ... { ... };" block.
func section(text, name string) (string, bool) {
	i := strings.Index(text, name)
	if i < 0 {
		return "", false
	}
	open := strings.IndexByte(text[i:], '{')
	if open < 0 {
		return "", false
	}
	start := i + open + 1
	depth := 1
	for j := start; j < len(text); j++ {
		switch text[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return text[start:j], true
			}
		}
	}
	return "", false
}

// Parse reads a compiled keymap's key names, level-one keysyms and
// modifier map, which is all vitrine needs to track modifiers. The text
// itself is kept for clients.
func Parse(text string) (*Keymap, error) {
	k, err := parse(text)
	if err != nil {
		return nil, err
	}
	if len(k.keys) == 0 {
		return nil, errors.New("no modifier_map: modifiers could not be tracked")
	}
	return k, nil
}

// ParseKeysyms reads a keymap whose modifier state vitrine is told
// rather than tracks, such as a virtual keyboard's (zwp_virtual_keyboard_v1
// sends modifiers itself, and wtype's keymaps have no modifier_map):
// the key names and level-one keysyms must be there, the modifier map
// may not be.
func ParseKeysyms(text string) (*Keymap, error) { return parse(text) }

func parse(text string) (*Keymap, error) {
	clean := reComment.ReplaceAllString(text, "")
	if !strings.Contains(clean, "xkb_keymap") {
		return nil, errors.New("not a compiled XKB keymap (no xkb_keymap block)")
	}
	kc, ok := section(clean, "xkb_keycodes")
	if !ok {
		return nil, errors.New("no xkb_keycodes section")
	}
	sym, ok := section(clean, "xkb_symbols")
	if !ok {
		return nil, errors.New("no xkb_symbols section")
	}
	codes := make(map[string]uint32)
	for _, m := range reKeycode.FindAllStringSubmatch(kc, -1) {
		n, err := strconv.ParseUint(m[2], 10, 32)
		if err != nil || n < evdevOffset {
			continue
		}
		codes[m[1]] = uint32(n) - evdevOffset
	}
	for _, m := range reAlias.FindAllStringSubmatch(kc, -1) {
		if c, ok := codes[m[2]]; ok {
			codes[m[1]] = c
		}
	}
	if len(codes) == 0 {
		return nil, errors.New("no keycodes")
	}

	// Level-one keysyms and explicit actions per key.
	firstSym := make(map[uint32]string)
	explicit := make(map[uint32]keyAction)
	locs := reKey.FindAllStringSubmatchIndex(sym, -1)
	for i, loc := range locs {
		name := sym[loc[2]:loc[3]]
		end := len(sym)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := sym[loc[1]:end]
		code, ok := codes[name]
		if !ok {
			continue
		}
		if m := reSyms.FindStringSubmatch(body); m != nil {
			if f := strings.Fields(strings.ReplaceAll(m[1], ",", " ")); len(f) > 0 {
				firstSym[code] = f[0]
			}
		}
		if strings.Contains(body, "actions[") {
			switch {
			case strings.Contains(body, "LockMods("):
				explicit[code] = actionLock
			case strings.Contains(body, "SetMods("), strings.Contains(body, "LatchMods("):
				explicit[code] = actionSet
			}
		}
	}

	k := &Keymap{Text: strings.TrimRight(text, "\x00"), keys: make(map[uint32]keyInfo), syms: firstSym}
	for _, m := range reModMap.FindAllStringSubmatch(sym, -1) {
		mask, ok := realMods[strings.ToLower(m[1])]
		if !ok {
			continue
		}
		for _, entry := range strings.Split(m[2], ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if strings.HasPrefix(entry, "<") {
				if c, ok := codes[strings.Trim(entry, "<>")]; ok {
					ki := k.keys[c]
					ki.mods |= mask
					k.keys[c] = ki
				}
				continue
			}
			// A keysym entry: every key whose first level carries it.
			for c, s := range firstSym {
				if s == entry {
					ki := k.keys[c]
					ki.mods |= mask
					k.keys[c] = ki
				}
			}
		}
	}
	// A modifier keysym on a key outside the modifier map still acts
	// through a virtual modifier bound to the real modifiers of the keys
	// that do carry the keysym (AltGr in most European layouts is
	// ISO_Level3_Shift on <RALT> with Mod5 on the virtual <LVL3> key).
	symMods := make(map[string]uint32)
	for c, ki := range k.keys {
		symMods[firstSym[c]] |= ki.mods
	}
	for c, sym := range firstSym {
		if _, mapped := k.keys[c]; !mapped && modifierKeysyms[sym] && symMods[sym] != 0 {
			k.keys[c] = keyInfo{mods: symMods[sym]}
		}
	}
	for c, ki := range k.keys {
		// The compat interprets of xkeyboard-config: Caps/Shift/Num Lock
		// keysyms and keys mapped to Lock alone lock; everything else with
		// a modifier map sets while held.
		switch s := firstSym[c]; {
		case explicit[c] != actionNone:
			ki.action = explicit[c]
		case s == "Caps_Lock" || s == "Shift_Lock" || s == "Num_Lock" || ki.mods == ModLock:
			ki.action = actionLock
		default:
			ki.action = actionSet
		}
		k.keys[c] = ki
	}
	return k, nil
}

// Keysym is the name of the level-one keysym of a key ("Tab", "q",
// "BackSpace"), "" for a key the keymap does not have.
func (k *Keymap) Keysym(evdevCode uint32) string { return k.syms[evdevCode] }

// ModifierKey reports the real modifiers a key changes (0 if none).
func (k *Keymap) ModifierKey(evdevCode uint32) uint32 { return k.keys[evdevCode].mods }

// ModState is the modifier state in wl_keyboard.modifiers terms.
type ModState struct {
	Depressed, Latched, Locked, Group uint32
}

// Effective is the union of depressed, latched and locked modifiers.
func (m ModState) Effective() uint32 { return m.Depressed | m.Latched | m.Locked }

// KeyState tracks modifier state as keys go down and up.
type KeyState struct {
	km        *Keymap
	held      map[uint32]bool   // keys down, by evdev code
	setCount  [8]int            // keys holding each real modifier
	lockedAt  map[uint32]uint32 // lock keys: mods that were locked when pressed
	depressed uint32
	locked    uint32
}

// NewState returns a state with nothing pressed or locked.
func (k *Keymap) NewState() *KeyState {
	return &KeyState{km: k, held: make(map[uint32]bool), lockedAt: make(map[uint32]uint32)}
}

// Update applies a key press or release and reports whether the modifier
// state changed (then send wl_keyboard.modifiers). Repeated presses of a
// held key are ignored.
func (s *KeyState) Update(evdevCode uint32, pressed bool) (changed bool) {
	if s.held[evdevCode] == pressed {
		return false
	}
	if pressed {
		s.held[evdevCode] = true
	} else {
		delete(s.held, evdevCode)
	}
	ki, ok := s.km.keys[evdevCode]
	if !ok || ki.mods == 0 {
		return false
	}
	before := s.Mods()
	switch ki.action {
	case actionSet:
		for bit := range 8 {
			if ki.mods&(1<<bit) == 0 {
				continue
			}
			if pressed {
				s.setCount[bit]++
			} else if s.setCount[bit] > 0 {
				s.setCount[bit]--
			}
		}
	case actionLock:
		// XKB LockMods: the press locks (and holds) the modifiers, the
		// release unlocks them if they were locked before the press, so
		// a press-release pair toggles.
		if pressed {
			s.lockedAt[evdevCode] = s.locked & ki.mods
			s.locked |= ki.mods
			for bit := range 8 {
				if ki.mods&(1<<bit) != 0 {
					s.setCount[bit]++
				}
			}
		} else {
			s.locked &^= s.lockedAt[evdevCode]
			delete(s.lockedAt, evdevCode)
			for bit := range 8 {
				if ki.mods&(1<<bit) != 0 && s.setCount[bit] > 0 {
					s.setCount[bit]--
				}
			}
		}
	}
	s.depressed = 0
	for bit := range 8 {
		if s.setCount[bit] > 0 {
			s.depressed |= 1 << bit
		}
	}
	return s.Mods() != before
}

// Mods returns the current state.
func (s *KeyState) Mods() ModState {
	return ModState{Depressed: s.depressed, Locked: s.locked}
}

// Pressed returns the evdev codes currently held, for wl_keyboard.enter.
func (s *KeyState) Pressed() []uint32 {
	var keys []uint32
	for c := range s.held {
		keys = append(keys, c)
	}
	slices.Sort(keys)
	return keys
}
