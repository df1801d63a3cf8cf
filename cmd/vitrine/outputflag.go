package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vitrine-wm/vitrine/kms"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
)

// outputFlag is a flag given as VALUE for every output or NAME=VALUE for
// the output on connector NAME (as in `vitrine probe`); it may be
// repeated, and a named value wins over the one for every output.
type outputFlag struct {
	all   string
	named map[string]string
	check func(string) error
}

func newOutputFlag(def string, check func(string) error) *outputFlag {
	return &outputFlag{all: def, named: map[string]string{}, check: check}
}

func (f *outputFlag) String() string {
	if f == nil {
		return ""
	}
	parts := []string{}
	if f.all != "" {
		parts = append(parts, f.all)
	}
	names := make([]string, 0, len(f.named))
	for n := range f.named {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		parts = append(parts, n+"="+f.named[n])
	}
	return strings.Join(parts, ",")
}

func (f *outputFlag) Set(v string) error {
	name, val, named := strings.Cut(v, "=")
	if !named {
		val = v
	} else if name == "" {
		return fmt.Errorf("%q: empty output name before '='", v)
	}
	if err := f.check(val); err != nil {
		return err
	}
	if named {
		f.named[name] = val
	} else {
		f.all = val
	}
	return nil
}

// get returns the value for the output called name.
func (f *outputFlag) get(name string) string {
	if v, ok := f.named[name]; ok {
		return v
	}
	return f.all
}

func checkRotate(v string) error {
	switch v {
	case "0", "90", "180", "270":
		return nil
	}
	return fmt.Errorf("rotation %q: want 0, 90, 180 or 270", v)
}

func checkScale(v string) error {
	if v == "" {
		return nil
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("scale %q: not a number (1, 1.5, 2...)", v)
	}
	return scene.CheckScale(s)
}

// scaleFor is --scale for the output called name; 0 when not given.
func (o *options) scaleFor(name string) float64 {
	s, _ := strconv.ParseFloat(o.scale.get(name), 64) // checked by checkScale
	return s
}

func checkMode(v string) error {
	if v == "" {
		return nil
	}
	_, err := kms.ParseModeSpec(v)
	return err
}

// transformFor maps --rotate for the output called name to its output
// transform. wl_output transforms turn counter-clockwise; --rotate follows
// the same convention as wlr-randr's --transform.
func (o *options) transformFor(name string) render.Transform {
	deg, _ := strconv.Atoi(o.rotate.get(name)) // checked by checkRotate
	return render.Transform(deg / 90)
}

// kmsConfig turns --mode and --rotate into the kms package's per-output
// settings: a complete configuration for every output named in either.
func (o *options) kmsConfig() (kms.OutputConfig, map[string]kms.OutputConfig) {
	per := map[string]kms.OutputConfig{}
	for _, f := range []*outputFlag{o.mode, o.rotate} {
		for name := range f.named {
			per[name] = kms.OutputConfig{Mode: o.mode.get(name), Rotate: o.transformFor(name)}
		}
	}
	return kms.OutputConfig{Mode: o.mode.all, Rotate: o.transformFor("")}, per
}
