package scene

// ActivationTokens is how many activation tokens are kept.
func (c *Compositor) ActivationTokens() int { return len(c.tokens) }

// RefreshShadows brings every output's shadow up to date while a client
// buffer is on its plane, as a screen copy does, so tests can read the
// shadow as what the display shows.
func (c *Compositor) RefreshShadows() {
	for _, o := range c.outputs {
		o.refreshShadow()
	}
}
