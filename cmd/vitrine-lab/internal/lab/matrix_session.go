package lab

// sessionScenarios prove vitrine in logind and seatd sessions: VT switches, input.
func sessionScenarios() []Scenario {
	return nil
}
