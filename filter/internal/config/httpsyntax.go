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

// connectionHeaders are the names Nedry never writes. Framing and hop-by-hop
// headers are Envoy's to manage per connection (RFC 9110 section 7.6.1,
// RFC 9113 section 8.2.2): a second or removed content-length or
// transfer-encoding makes the message ambiguous, and HTTP/2 forbids the
// connection-specific ones outright.
var connectionHeaders = map[string]bool{
	"content-length": true, "transfer-encoding": true, "connection": true, "keep-alive": true,
	"proxy-connection": true, "upgrade": true, "te": true, "trailer": true,
}

// whyConnectionHeader is the problem of writing one of connectionHeaders.
const whyConnectionHeader = "must not be a framing or hop-by-hop header " +
	"(content-length, transfer-encoding, connection, keep-alive, proxy-connection, upgrade, te, trailer), which Envoy manages"

// checkWritableName returns why s cannot be written, removed or rewritten by
// Nedry, or "". host is refused too: Envoy treats it as :authority, so
// writing both would leave two authorities.
func checkWritableName(s string) string {
	if why := checkHeaderName(s); why != "" {
		return why
	}
	if connectionHeaders[s] {
		return whyConnectionHeader
	}
	if s == "host" {
		return "must not be host, which Envoy treats as :authority (request ops may set :authority)"
	}
	return ""
}

// checkFieldValue returns why s cannot be a header field value Nedry
// writes, or "": printable ASCII that does not begin or end with a space or
// tab (RFC 9110 section 5.5; Envoy would strip them, so the value sent would
// not be the one configured).
func checkFieldValue(s string) string {
	if why := checkHeaderValue(s); why != "" {
		return why
	}
	if s != "" && (isSpace(s[0]) || isSpace(s[len(s)-1])) {
		return "must not begin or end with a space or tab"
	}
	return ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// checkPseudoValue returns why s is not a valid value for the request
// pseudo-header name, or "".
func checkPseudoValue(name, s string) string {
	switch name {
	case ":method":
		for i := 0; i < len(s); i++ {
			if !isTchar(s[i]) {
				return "must be a method token (letters, digits and !#$%&'*+-.^_`|~)"
			}
		}
	case ":path":
		if s[0] != '/' {
			return `must start with "/"`
		}
		for i := 0; i < len(s); i++ {
			if !isPathChar(s[i]) {
				return "must be a path and query of URI characters (RFC 3986: no space, '#', quote, '<', '>', '\\', '^', '`', '{', '|', '}')"
			}
		}
	case ":scheme":
		if !isAlpha(s[0]) {
			return "must be a URI scheme (a letter, then letters, digits, '+', '-', '.')"
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
				return "must be a URI scheme (a letter, then letters, digits, '+', '-', '.')"
			}
		}
	case ":authority":
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !isUnreserved(c) && !isSubDelim(c) && c != ':' && c != '[' && c != ']' && c != '%' {
				return "must be a host and optional port (RFC 3986 authority without userinfo)"
			}
		}
	}
	return ""
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isUnreserved(c byte) bool {
	return isAlpha(c) || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool { return strings.IndexByte("!$&'()*+,;=", c) >= 0 }

// isPathChar reports whether c may appear in an origin-form request target:
// RFC 3986 pchar, '/', '?' and '%' of percent-encoding.
func isPathChar(c byte) bool {
	return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/' || c == '?' || c == '%'
}
