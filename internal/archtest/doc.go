// Package archtest holds the tests that keep sockleak's structure as
// docs/architecture.md describes it: files and functions small enough to
// read, one package doc comment each, data flowing one way between the
// packages (collect → analyse → render, and watch over time), and each
// third-party library behind the package it belongs to. It parses the
// source tree; it builds and runs nothing.
package archtest
