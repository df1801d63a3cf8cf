package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseCompareFlags(t *testing.T) {
	o, err := parseCompareFlags([]string{"--seconds", "3", "--compositors", "vitrine", "--workloads", "fullscreen, simple-shm,fullscreen"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.seconds != 3 || len(o.compositors) != 1 || o.compositors[0].Name != "vitrine" {
		t.Errorf("options %+v", o)
	}
	if len(o.workloads) != 2 || o.workloads[0].Name != "fullscreen" || o.workloads[1].Name != "simple-shm" {
		t.Errorf("workloads not in the order given, once each: %+v", o.workloads)
	}
	all, err := parseCompareFlags(nil, io.Discard)
	if err != nil || len(all.workloads) != 8 || len(all.compositors) != 4 || all.seconds != 10 || all.rounds != 3 {
		t.Errorf("defaults: %d workloads %d compositors %v s, %v", len(all.workloads), len(all.compositors), all.seconds, err)
	}
	for _, bad := range [][]string{
		{"--workloads", "simple-shm,nope"},
		{"--compositors", "sway"},
		{"--seconds", "0"},
		{"--rounds", "0"},
		{"--workloads", ","},
		{"extra"},
	} {
		if _, err := parseCompareFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", strings.Join(bad, " "))
		}
	}
}
