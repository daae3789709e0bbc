package watch

import "math"

// openFilesLimit is unlimited: Windows sets no open-files limit on a
// process's handles that a server would reach first.
func openFilesLimit() (uint64, error) { return math.MaxUint64, nil }
