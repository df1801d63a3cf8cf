package kms

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vitrine-wm/vitrine/scene/present"
)

// OutputSet is the outputs of one device: one per connected connector,
// each on its own CRTC. Rescan (on a hotplug uevent) adds and removes
// outputs as connectors come and go. Like its outputs it is used from the
// loop only.
type OutputSet struct {
	dev     *Device
	opts    Options
	notify  func(*Output, present.Info)
	outputs []*Output
}

// NewOutputs lights every connected connector of dev. It enables atomic
// modesetting unless opts.ForceLegacy. notify receives each output's
// completions, on the loop (see NewOutput). A device with no connected
// connector gives an empty set, not an error: a monitor may be plugged in
// later.
func NewOutputs(dev *Device, opts Options, notify func(*Output, present.Info)) (*OutputSet, error) {
	if dev.Node() != NodePrimary {
		return nil, fmt.Errorf("%s is a render node; outputs need a primary node (/dev/dri/cardN)", dev.Path())
	}
	if opts.ForceLegacy {
		dev.EnableUniversalPlanes()
	} else if !dev.EnableAtomic() {
		opts.logger().Info("atomic modesetting unavailable, using the legacy path", "device", dev.Path(), "driver", dev.Driver())
	}
	s := &OutputSet{dev: dev, opts: opts, notify: notify}
	if _, _, err := s.Rescan(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Outputs lists the current outputs.
func (s *OutputSet) Outputs() []*Output {
	return slices.Clone(s.outputs)
}

// Rescan re-reads the connectors: outputs whose connector is no longer
// connected are closed and returned in removed; newly connected connectors
// get an output, returned in added. An output that fails to light is
// logged and skipped so one bad connector does not take the others down;
// the error is returned only when no output could be lit at all.
func (s *OutputSet) Rescan() (added, removed []*Output, err error) {
	res, err := s.dev.Resources()
	if err != nil {
		return nil, nil, err
	}
	connected := map[uint32]*Connector{}
	for _, id := range res.Connectors {
		c, err := s.dev.Connector(id)
		if err != nil {
			return nil, nil, err
		}
		if c.Connection == Connected && len(c.Modes) > 0 {
			connected[id] = c
		}
	}
	var keep []*Output
	for _, o := range s.outputs {
		if _, ok := connected[o.connID]; ok {
			keep = append(keep, o)
			delete(connected, o.connID)
			continue
		}
		if err := o.Close(); err != nil {
			s.opts.logger().Warn("close unplugged output", "output", o.Name(), "err", err)
		}
		removed = append(removed, o)
	}
	s.outputs = keep
	used := map[uint32]bool{}
	for _, o := range s.outputs {
		used[o.crtcID] = true
	}
	var errs []error
	// Connector ids ascend in probe order; keep that order for stable names.
	for _, id := range res.Connectors {
		c, ok := connected[id]
		if !ok {
			continue
		}
		crtc, idx, err := s.pickCRTC(res, c, used)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// No completion comes before NewOutput returns: they are
		// dispatched on the loop, which is running this.
		var o *Output
		o, err = NewOutput(s.dev, c, crtc, idx, s.opts, func(info present.Info) {
			if s.notify != nil {
				s.notify(o, info)
			}
		})
		if err != nil {
			s.opts.logger().Warn("output not lit", "connector", c.Name, "err", err)
			errs = append(errs, err)
			continue
		}
		used[crtc] = true
		s.outputs = append(s.outputs, o)
		added = append(added, o)
	}
	if len(errs) > 0 && len(s.outputs) == 0 {
		return added, removed, errors.Join(errs...)
	}
	return added, removed, nil
}

// pickCRTC keeps the CRTC the connector's encoder already drives (no
// visible modeset glitch beyond the mode itself), else takes the first free
// CRTC any of its encoders can drive.
func (s *OutputSet) pickCRTC(res *Resources, c *Connector, used map[uint32]bool) (uint32, int, error) {
	index := func(crtc uint32) int { return slices.Index(res.CRTCs, crtc) }
	if c.EncoderID != 0 {
		if e, err := s.dev.Encoder(c.EncoderID); err == nil && e.CrtcID != 0 && !used[e.CrtcID] {
			if i := index(e.CrtcID); i >= 0 {
				return e.CrtcID, i, nil
			}
		}
	}
	for _, eid := range c.Encoders {
		e, err := s.dev.Encoder(eid)
		if err != nil {
			continue
		}
		for i, crtc := range res.CRTCs {
			if e.PossibleCrtcs&(1<<i) != 0 && !used[crtc] {
				return crtc, i, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("connector %s: no free CRTC", c.Name)
}

// Resume re-lights every output after a VT switch (see Output.Resume).
func (s *OutputSet) Resume() error {
	var errs []error
	for _, o := range s.outputs {
		errs = append(errs, o.Resume())
	}
	return errors.Join(errs...)
}

// Close closes every output (restoring the previous CRTC configurations).
// The device stays open.
func (s *OutputSet) Close() error {
	var errs []error
	for _, o := range s.outputs {
		errs = append(errs, o.Close())
	}
	s.outputs = nil
	return errors.Join(errs...)
}

// PlaceholderHint names the connector most likely to light up next and
// its preferred mode, for the output clients see while none is
// connected: the first connector (in probe order) that reports modes
// although disconnected (virtual and some HDMI connectors keep their
// EDID's), else the first connector with the zero Mode.
func (s *OutputSet) PlaceholderHint() (name string, mode Mode) {
	res, err := s.dev.Resources()
	if err != nil {
		return "", Mode{}
	}
	for _, id := range res.Connectors {
		c, err := s.dev.Connector(id)
		if err != nil {
			continue
		}
		if name == "" {
			name = c.Name
		}
		for _, m := range c.Modes {
			if m.Preferred {
				return c.Name, m
			}
		}
		if len(c.Modes) > 0 {
			return c.Name, c.Modes[0]
		}
	}
	return name, Mode{}
}
