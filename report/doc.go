// Package report judges and renders an inspect.Snapshot. It reads no
// /proc and no clock of its own: what it shows comes in the snapshot.
//
// Analyze groups a snapshot's sockets by owner, state and peer and
// diagnoses them against Thresholds (DefaultThresholds): the findings say
// what is wrong and whose bug it is (analyze.go, diagnose.go; a server not
// accepting in diagnose_queue.go). Sockets in a leak state younger than
// Thresholds.MinAge are listed and not counted (age.go); what the
// findings know of each owner's leaked sockets, their peers and the other
// ends on this host, is gathered in one pass (leaks.go); processes,
// namespaces and process states are named in names.go. Table and JSON
// render the result for a person and for scripts (table.go, json.go).
//
// Check weighs a report against CheckThresholds, which CheckSettings
// builds from sockleak check's flags, and returns the Violations
// (check.go, check_thresholds.go); CheckText, CheckJSON, Nagios,
// Prometheus and WriteTextfile render a check (check.go, nagios.go,
// prometheus.go). NoMatch is the empty view of a selection that matched
// no process.
//
// Explanations say what each TCP state means and whose bug a build-up of
// it is (explain.go). Fd usage is a percentage of the soft fd limit
// (0-100) throughout.
package report
