package main

import "github.com/neurlang/wayland/wl"

// neurlang/wayland v0.4.3 has no presentation-time binding; these two
// proxies implement the three messages the fullscreen client uses
// (presentation-time.xml, version 1).

// wpPresentation is a wp_presentation proxy.
type wpPresentation struct {
	wl.BaseProxy
	clockID    uint32
	gotClockID bool
}

const (
	presentationFeedbackRequest = 1 // feedback(surface, new_id)
	presentationClockIDEvent    = 0 // clock_id(clk_id)

	feedbackPresentedEvent = 1 // tv_sec_hi, tv_sec_lo, tv_nsec, refresh, seq_hi, seq_lo, flags
	feedbackDiscardedEvent = 2
)

func (p *wpPresentation) Dispatch(ev *wl.Event) {
	if ev.Opcode == presentationClockIDEvent {
		p.clockID = ev.Uint32()
		p.gotClockID = true
	}
}

// feedback asks for the presentation of the surface's next commit.
func (p *wpPresentation) feedback(surface *wl.Surface, fb *wpFeedback) error {
	p.Context().Register(fb)
	return p.Context().SendRequest(p, presentationFeedbackRequest, surface, fb)
}

// wpFeedback is a wp_presentation_feedback proxy; done is called once with
// the presentation time in the presentation clock, or ok=false when the
// content was discarded.
type wpFeedback struct {
	wl.BaseProxy
	done func(presentedNS int64, ok bool)
}

func (f *wpFeedback) Dispatch(ev *wl.Event) {
	switch ev.Opcode {
	case feedbackPresentedEvent:
		hi, lo, nsec := ev.Uint32(), ev.Uint32(), ev.Uint32()
		sec := int64(hi)<<32 | int64(lo)
		f.Unregister()
		f.done(sec*1e9+int64(nsec), true)
	case feedbackDiscardedEvent:
		f.Unregister()
		f.done(0, false)
	}
}
