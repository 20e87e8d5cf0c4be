//go:build !race

package main

// raceBuild: whether the race detector is on: not in this build (see
// race_test.go).
const raceBuild = false
