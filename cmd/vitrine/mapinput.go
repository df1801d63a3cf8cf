package main

import (
	"fmt"
	"strings"

	"github.com/vitrine-wm/vitrine/seat"
)

// mapInputFlag is --map-input DEVICE=OUTPUT, repeatable: which output a
// touchscreen's or tablet's positions are on.
type mapInputFlag []seat.InputMapping

func (f *mapInputFlag) String() string {
	var kv []string
	for _, m := range *f {
		kv = append(kv, m.Device+"="+m.Output)
	}
	return strings.Join(kv, ",")
}

func (f *mapInputFlag) Set(s string) error {
	m, err := seat.ParseInputMapping(s)
	if err != nil {
		return err
	}
	for _, prev := range *f {
		if prev.Device == m.Device && prev.Output != m.Output {
			return fmt.Errorf("%q: %s is already mapped to %s", s, m.Device, prev.Output)
		}
	}
	*f = append(*f, m)
	return nil
}
