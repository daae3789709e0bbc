//go:build race

package watch

// raceDetector is whether the tests run under -race, which multiplies the
// memory a process uses.
const raceDetector = true
