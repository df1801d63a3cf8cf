package scene

// ActivationTokens is how many activation tokens are kept.
func (c *Compositor) ActivationTokens() int { return len(c.tokens) }
