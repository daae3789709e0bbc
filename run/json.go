package run

import (
	"encoding/json"
	"io"

	"github.com/sockleak/sockleak/internal/wording"
)

// Document is the JSON form of a Result. Its fields are an API: within a
// schema version they are only ever added.
type Document struct {
	SchemaVersion   int            `json:"schema_version"`
	Command         []string       `json:"command"`
	ExitCode        int            `json:"exit_code"`
	Signal          string         `json:"signal"` // "" unless a signal killed the command
	DurationSeconds float64        `json:"duration_seconds"`
	Samples         int            `json:"samples"`
	MaxProcesses    int            `json:"max_processes"`
	IntervalSeconds float64        `json:"interval_seconds"`
	GraceSeconds    float64        `json:"grace_seconds"`
	LeakStates      []string       `json:"leak_states"`
	Leaks           []LeakDoc      `json:"leaks"`
	Peak            map[string]int `json:"peak"` // the most sockets held at once, by state
	Warnings        []string       `json:"warnings"`
}

// LeakDoc is one socket that sat in a leak state for the grace or longer.
type LeakDoc struct {
	PID         int     `json:"pid"` // 0 when its holder could not be named
	Name        string  `json:"name"`
	Cmdline     string  `json:"cmdline"`
	State       string  `json:"state"`
	Local       string  `json:"local"`
	Remote      string  `json:"remote"`
	Peer        string  `json:"peer"`
	Inode       uint64  `json:"inode"`
	NetNS       uint64  `json:"netns"`
	Since       string  `json:"since"`     // RFC 3339 (wording.Timestamp): in the state since, by the kernel's age bound or the first sample that saw it there
	LastSeen    string  `json:"last_seen"` // RFC 3339, last sample that did
	HeldSeconds float64 `json:"held_seconds"`
	Open        bool    `json:"open"` // still in the state at the last sample
}

// DocumentSchemaVersion is the version of Document.
const DocumentSchemaVersion = 1

// WriteJSON writes the result as one indented JSON document.
func WriteJSON(w io.Writer, r *Result) error {
	d := Document{
		SchemaVersion: DocumentSchemaVersion, Command: r.Command, ExitCode: r.ExitCode, Signal: r.Signal,
		DurationSeconds: r.Duration.Seconds(), Samples: r.Samples, MaxProcesses: r.MaxProcesses,
		IntervalSeconds: r.Interval.Seconds(), GraceSeconds: r.Grace.Seconds(),
		LeakStates: []string{}, Leaks: make([]LeakDoc, 0, len(r.Leaks)), Peak: map[string]int{},
		Warnings: append([]string{}, r.Warnings...),
	}
	if d.Command == nil {
		d.Command = []string{}
	}
	for _, st := range r.LeakStates {
		d.LeakStates = append(d.LeakStates, st.String())
	}
	for st, n := range r.Peak {
		d.Peak[st.String()] = n
	}
	for _, l := range r.Leaks {
		d.Leaks = append(d.Leaks, LeakDoc{
			PID: l.PID, Name: l.Name, Cmdline: l.Cmdline, State: l.State.String(),
			Local: l.Local.String(), Remote: l.Remote.String(), Peer: l.Peer, Inode: l.Inode, NetNS: l.NetNS,
			Since: wording.Timestamp(l.Since), LastSeen: wording.Timestamp(l.LastSeen),
			HeldSeconds: l.Held().Seconds(), Open: l.Open,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}
