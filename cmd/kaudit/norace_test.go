//go:build !race

package main

// raceBuild: the race detector is on (see race_test.go).
const raceBuild = false
