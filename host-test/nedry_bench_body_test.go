package hosttest_test

import (
	"strconv"
	"strings"
	"testing"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// benchBodyConfig rewrites 64 KiB JSON request bodies: a JSON set, a raw
// truncate, a JSON op whose path is absent (the cost of checking that the
// body is JSON and looking the path up), on the whole buffered body.
const benchBodyConfig = `{"seed": 1, "rules": [
  {"name": "set", "match": {"prefix": "/set/"}, "corrupt": {"percent": 100,
    "request_body": {"ops": [{"op": "set", "path": "order.amount", "value": -1}]}}},
  {"name": "truncate", "match": {"prefix": "/truncate/"}, "corrupt": {"percent": 100,
    "request_body": {"ops": [{"op": "truncate", "length": 100}]}}},
  {"name": "absent", "match": {"prefix": "/absent/"}, "corrupt": {"percent": 100,
    "request_body": {"ops": [{"op": "remove", "path": "order.nope"}]}}},
  {"name": "pass", "match": {"prefix": "/pass/"}, "corrupt": {"percent": 0,
    "request_body": {"ops": [{"op": "truncate", "length": 100}]}}}
]}`

// benchBody64K is a 64 KiB JSON document in four 16 KiB chunks (HTTP/2's
// default frame size), without content-length, as a streaming client sends
// it.
func benchBody64K(path string) hosttest.Request {
	var b strings.Builder
	b.WriteString(`{"order":{"amount":42,"items":[`)
	for i := 0; b.Len() < 64<<10-64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"sku":"` + strconv.Itoa(i) + `","qty":1}`)
	}
	b.WriteString(`]}}`)
	body := b.String()
	req := benchRequest(path)
	req.Headers[0][1] = "POST"
	req.Headers = append(req.Headers, [2]string{"content-type", "application/json"})
	for i := 0; i < len(body); i += 16 << 10 {
		req.Chunks = append(req.Chunks, []byte(body[i:min(i+16<<10, len(body))]))
	}
	return req
}

// BenchmarkBody measures body corruption of a 64 KiB JSON request body
// (above-floor-ns is its cost in the guest and the buffer hand-overs),
// next to the same body on a body rule that draws no fault, which must
// cost what any matched request does.
func BenchmarkBody(b *testing.B) {
	for _, c := range []struct {
		name string
		want func(hosttest.Result) string
	}{
		{"set", func(r hosttest.Result) string {
			if !strings.HasPrefix(string(r.Upstream.Body), `{"order":{"amount":-1,`) {
				return "body not rewritten"
			}
			return ""
		}},
		{"truncate", func(r hosttest.Result) string {
			if len(r.Upstream.Body) != 100 {
				return "body not truncated"
			}
			return ""
		}},
		{"absent", func(r hosttest.Result) string {
			if len(r.Upstream.Body) < 64<<10-64 {
				return "body changed"
			}
			return ""
		}},
		{"pass", func(r hosttest.Result) string {
			if len(r.Upstream.Body) < 64<<10-64 {
				return "body changed"
			}
			return ""
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			check := func(r hosttest.Result) string {
				if msg := benchWantStatus(200, true)(r); msg != "" {
					return msg
				}
				return c.want(r)
			}
			benchPair(b, benchBodyConfig, benchBody64K("/"+c.name+"/x"), check)
		})
	}
}
