package scene

import "github.com/vitrine-wm/vitrine/render"

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

// Recomposite draws everything output i shows into a new image of the
// shadow's size, ignoring damage: what an incrementally repainted shadow
// must equal.
func (c *Compositor) Recomposite(i int) *render.Image {
	o := c.outputs[i]
	b := o.pixelBounds()
	img := render.NewImage(b.Dx(), b.Dy(), render.XRGB8888)
	o.composite(img, c.drawList(o), b)
	return img
}
