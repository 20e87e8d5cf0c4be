// Package termsafe neutralises what audit fields would otherwise do to a
// terminal. Audit data comes from clients (user agents, object names,
// request bodies); every printer in kaudit passes event-derived text through
// Printable before it reaches a screen. Standard library only.
package termsafe
