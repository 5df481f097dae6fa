// Package layers holds no code. Its test keeps the module's one-way data
// flow, connectors → sync → warehouse → scoring → notify, in one table of
// import rules that fails the build's tests when a package reaches
// across it.
package layers
