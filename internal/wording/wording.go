// Package wording holds the few helpers every sockleak package uses to
// phrase what it says: counts with their plurals, paragraphs wrapped to
// the width of a terminal report, and Escape, which every renderer passes
// the host's text through (process names and command lines are their
// own). It imports nothing of sockleak's, so the small reference client
// can use it without the reporting stack.
package wording

import (
	"bytes"
	"strconv"
	"strings"
)

// Width is the column at which Wrap and WriteWrapped break lines: the width
// of inspect's findings.
const Width = 100

// Count renders n with the singular or the plural: "1 process could",
// "2 processes could".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Plural renders "1 socket" or "2 sockets".
func Plural(n int, noun string) string { return Count(n, noun, noun+"s") }

// Wrap returns text word-wrapped at Width, for a paragraph that goes
// beside a report's findings.
func Wrap(text string) string {
	var b bytes.Buffer
	WriteWrapped(&b, "", "", text)
	return b.String()
}

// WriteWrapped writes text word-wrapped at Width, the first line after
// first and the rest after indent.
func WriteWrapped(w *bytes.Buffer, first, indent, text string) {
	line := first
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len(line)+1+len(word) > Width {
			w.WriteString(line + "\n")
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	w.WriteString(line + "\n")
}
