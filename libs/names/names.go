// Package names holds the naming rule every service applies to domains,
// data products and output ports: a lowercase DNS label (RFC 1123), so a
// name can stand in a NATS subject, a Kubernetes object name and a URL
// path without escaping.
package names

import "regexp"

// MaxLabelLen is the longest DNS label.
const MaxLabelLen = 63

var labelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// IsLabel reports whether s is a lowercase DNS label: letters, digits and
// inner dashes, at most MaxLabelLen characters.
func IsLabel(s string) bool { return len(s) <= MaxLabelLen && labelRE.MatchString(s) }
