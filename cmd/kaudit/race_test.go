//go:build race

package main

// raceBuild: the race detector is on (tests that run kaudit thousands of
// times run a subset of their matrix, ten times slower each).
const raceBuild = true
