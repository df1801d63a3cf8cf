package main

import (
	"errors"
	"slices"
	"testing"
)

type message struct {
	object uint32
	opcode uint16
	args   string
}

func collect(t *testing.T, f *framer, chunks [][]byte) []message {
	t.Helper()
	var got []message
	for _, c := range chunks {
		err := f.feed(c, func(object uint32, opcode uint16, args []byte) {
			got = append(got, message{object, opcode, string(args)})
		})
		if err != nil {
			t.Fatalf("feed: %v", err)
		}
	}
	return got
}

// Messages split at every possible byte must come out whole and in order,
// whether a chunk ends inside the header or inside the arguments.
func TestFramerReassemblesAcrossChunks(t *testing.T) {
	var stream []byte
	stream = appendMessage(stream, 1, 1, u32(2))
	stream = appendMessage(stream, 2, 0, appendString(append(u32(1), []byte{}...), "wl_compositor"))
	stream = appendMessage(stream, 7, 6, nil)
	var whole framer
	want := collect(t, &whole, [][]byte{stream})
	if len(want) != 3 || want[2] != (message{7, 6, ""}) || want[0].object != 1 || want[1].opcode != 0 {
		t.Fatalf("whole stream parsed as %+v", want)
	}
	for cut1 := 0; cut1 <= len(stream); cut1++ {
		for cut2 := cut1; cut2 <= len(stream); cut2++ {
			var f framer
			got := collect(t, &f, [][]byte{stream[:cut1], stream[cut1:cut2], stream[cut2:]})
			if !slices.Equal(got, want) {
				t.Fatalf("cuts at %d,%d: got %+v, want %+v", cut1, cut2, got, want)
			}
			if len(f.pending) != 0 {
				t.Fatalf("cuts at %d,%d: %d bytes left over", cut1, cut2, len(f.pending))
			}
		}
	}
}

func TestFramerRejectsBadSize(t *testing.T) {
	for _, size := range []uint32{0, 4, 9} {
		var f framer
		b := append(u32(1), u32(size<<16)...)
		err := f.feed(b, func(uint32, uint16, []byte) { t.Fatal("message emitted from a bad header") })
		if !errors.Is(err, errBadFrame) {
			t.Errorf("size %d: err = %v, want errBadFrame", size, err)
		}
	}
}

func TestArgReaderString(t *testing.T) {
	for _, s := range []string{"", "a", "abc", "abcd", "wl_compositor"} {
		b := appendString(nil, s)
		b = append(b, u32(42)...)
		r := argReader{b: b}
		if got := r.string(); got != s {
			t.Errorf("string %q read as %q", s, got)
		}
		if v := r.uint(); v != 42 || r.bad {
			t.Errorf("after %q: next uint %d bad=%v, want 42", s, v, r.bad)
		}
	}
	r := argReader{b: append(u32(100), 'x', 0, 0, 0)}
	if r.string(); !r.bad {
		t.Error("a string longer than its message was accepted")
	}
}
