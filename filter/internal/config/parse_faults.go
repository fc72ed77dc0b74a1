package config

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// defaultAbortBody is shared by every abort without a body of its own:
// configurations are immutable, so one copy serves 10,000 rules.
var defaultAbortBody = []byte(DefaultAbortBody)

func (p *parser) abort(path string, v gjson.Result) *Abort {
	a := &Abort{HTTPStatus: DefaultHTTPStatus, GRPCStatus: -1, Body: defaultAbortBody}
	hasPercent, hasBody := false, false
	ok := p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			a.PPM, _ = p.percent(path, v)
		case "http_status":
			if n, ok := p.integer(path, v, 200, 599); ok {
				a.HTTPStatus = uint32(n)
			}
		case "grpc_status":
			if n, ok := p.integer(path, v, 0, 16); ok {
				a.GRPCStatus = int32(n)
			}
		case "body":
			hasBody = true
			s, ok := p.str(path, v)
			if !ok {
				break
			}
			if len(s) > MaxBodyBytes {
				p.failText(path, "must be at most "+strconv.Itoa(MaxBodyBytes)+" bytes, got "+strconv.Itoa(len(s))+" bytes")
				break
			}
			a.Body = []byte(s)
		case "headers":
			a.Headers = p.abortHeaders(path, v)
		case "ramp":
			a.Ramp = p.ramp(path, v)
		default:
			return false
		}
		return true
	})
	if ok && !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	if ok {
		p.abortSize(path, a, hasBody)
	}
	return a
}

// MaxAbortHeaderBytes caps the response headers an abort adds: the names
// and values of abort.headers plus, for a gRPC abort, grpc-message. Envoy's
// default header limit is 60 KiB (max_request_headers_kb and
// max_response_headers_kb); the other 4 KiB are left for :status,
// content-type, grpc-status, the response tag and what Envoy adds.
const MaxAbortHeaderBytes = 56 << 10

// grpcMessageLen is the length of body once Envoy percent-encodes it into
// grpc-message: every byte below a space, from '~' up, and '%' itself takes
// three, as the host harness encodes it.
func grpcMessageLen(body []byte) int {
	n := len(body)
	for _, c := range body {
		if c < 0x20 || c >= '~' || c == '%' {
			n += 2
		}
	}
	return n
}

// abortSize refuses an abort whose local reply could not be sent within
// Envoy's default header limits. For a rule with grpc_status the body
// becomes the grpc-message header, so it is measured encoded.
func (p *parser) abortSize(path string, a *Abort, hasBody bool) {
	headers := 0
	for _, h := range a.Headers {
		headers += len(h[0]) + len(h[1])
	}
	if headers > MaxAbortHeaderBytes {
		p.failText(join(path, "headers"), "must total at most "+strconv.Itoa(MaxAbortHeaderBytes)+" bytes of names and values, got "+strconv.Itoa(headers)+" bytes")
		return
	}
	if a.GRPCStatus < 0 {
		return
	}
	msg := grpcMessageLen(a.Body)
	if headers+msg <= MaxAbortHeaderBytes {
		return
	}
	at := join(path, "body")
	if !hasBody {
		at = join(path, "headers")
	}
	p.failText(at, "with grpc_status the body is sent percent-encoded as grpc-message: body and headers must total at most "+
		strconv.Itoa(MaxAbortHeaderBytes)+" bytes, got "+strconv.Itoa(msg)+" bytes of grpc-message and "+strconv.Itoa(headers)+" bytes of headers")
}

func (p *parser) abortHeaders(path string, v gjson.Result) [][2]string {
	if !v.IsObject() {
		p.fail(path, "must be an object of header names to string values", v)
		return nil
	}
	var out [][2]string
	count := 0
	p.object(path, v, func(key, kp string, v gjson.Result) bool {
		count++
		if count == MaxAbortHeaders+1 {
			p.failText(path, "must have at most "+strconv.Itoa(MaxAbortHeaders)+" headers")
		}
		if why := checkWritableName(key); why != "" {
			p.failText(kp, why+", got "+strconv.Quote(key))
			return true
		}
		s, ok := p.str(kp, v)
		if !ok {
			return true
		}
		if why := checkFieldValue(s); why != "" {
			p.fail(kp, why, v)
			return true
		}
		out = append(out, [2]string{key, s})
		return true
	})
	return out
}

func (p *parser) delay(path string, v gjson.Result) *Delay {
	d := &Delay{Phase: PhaseRequest}
	hasPercent, hasFixed := false, false
	ok := p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			d.PPM, _ = p.percent(path, v)
		case "fixed":
			hasFixed = true
			d.Fixed, _ = p.duration(path, v, minDuration, maxDuration, "[1ms, 1h]")
		case "jitter":
			d.Jitter, _ = p.duration(path, v, 0, maxDuration, "[0s, 1h]")
		case "phase":
			s, ok := p.str(path, v)
			if !ok {
				break
			}
			switch s {
			case "request":
				d.Phase = PhaseRequest
			case "response":
				d.Phase = PhaseResponse
			default:
				p.fail(path, `must be "request" or "response"`, v)
			}
		case "ramp":
			d.Ramp = p.ramp(path, v)
		default:
			return false
		}
		return true
	})
	if ok && !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	if ok && !hasFixed {
		p.failText(join(path, "fixed"), "required")
	}
	return d
}

func (p *parser) corrupt(path string, v gjson.Result) *Corrupt {
	c := &Corrupt{}
	hasPercent := false
	ok := p.object(path, v, func(key, kp string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			c.PPM, _ = p.percent(kp, v)
		case "request":
			c.Request = p.ops(kp, v, false)
		case "response":
			c.Response = p.ops(kp, v, true)
		case "ramp":
			c.Ramp = p.ramp(kp, v)
		case "request_body":
			c.RequestBody = p.bodyCorrupt(kp, v)
		case "response_body":
			c.ResponseBody = p.bodyCorrupt(kp, v)
		default:
			return false
		}
		return true
	})
	if !ok {
		return c
	}
	if !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	if !v.Get("request").Exists() && !v.Get("response").Exists() && !v.Get("request_body").Exists() && !v.Get("response_body").Exists() {
		p.failText(path, "must have at least one op in request, response, request_body or response_body")
	}
	return c
}

func (p *parser) reset(path string, v gjson.Result) *Reset {
	r := &Reset{}
	hasPercent := false
	ok := p.object(path, v, func(key, path string, v gjson.Result) bool {
		switch key {
		case "percent":
			hasPercent = true
			r.PPM, _ = p.percent(path, v)
		case "ramp":
			r.Ramp = p.ramp(path, v)
		default:
			return false
		}
		return true
	})
	if ok && !hasPercent {
		p.failText(join(path, "percent"), "required")
	}
	return r
}
