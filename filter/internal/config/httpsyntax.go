package config

import (
	"strconv"
	"strings"
)

// isTchar reports whether c is an RFC 9110 token character.
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkHeaderName returns why s is not a lowercase, non-pseudo header name,
// or "".
func checkHeaderName(s string) string {
	if s == "" {
		return "must be a header name, not empty"
	}
	if len(s) > maxHeaderName {
		return "must be at most " + strconv.Itoa(maxHeaderName) + " bytes"
	}
	if s[0] == ':' {
		return "must not be a pseudo-header"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			return "must be lowercase (HTTP/2 header names are)"
		}
		if !isTchar(c) {
			return "must be a header name token (letters, digits and !#$%&'*+-.^_`|~)"
		}
	}
	return ""
}

// checkMatchHeaderName accepts header names and request pseudo-headers,
// which a matcher may read.
func checkMatchHeaderName(s string) string {
	if strings.HasPrefix(s, ":") {
		if why := checkHeaderName(s[1:]); why != "" && s != ":" {
			return why
		}
		if s == ":" {
			return "must be a header name token (letters, digits and !#$%&'*+-.^_`|~)"
		}
		return ""
	}
	return checkHeaderName(s)
}

// printable reports whether s holds only visible ASCII, space and tab: the
// bytes Envoy accepts in a header value.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}

func checkHeaderValue(s string) string {
	if len(s) > MaxStringBytes {
		return "must be at most " + strconv.Itoa(MaxStringBytes) + " bytes"
	}
	if !printable(s) {
		return "must be printable ASCII (visible characters, space or tab)"
	}
	return ""
}

func upperToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || !isTchar(c) {
			return false
		}
	}
	return true
}
