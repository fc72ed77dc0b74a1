package config

import (
	"errors"
	"regexp"
	"testing"
)

// problemPath is how every problem starts: "config", or a path of keys and
// indexes, with the rule name after its index when known.
var problemPath = regexp.MustCompile(`^(config|\[".*"\]|[A-Za-z0-9_-]+)(\[\d+\]( \([a-z0-9_-]+\))?|\.[A-Za-z0-9_-]+|\[".*"\])*: `)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `{"rules":[]}`, fullConfig,
		rule(`"abort":{"percent":12.5,"http_status":700}`),
		rule(`"corrupt":{"percent":1,"request":[{"op":"remove","name":":path"}]}`),
		rule(`"match":{"headers":[{"name":"x","exact":"1","regex":"("}]},"delay":{"percent":1,"fixed":"1s"}`),
		`{"rules":[{"name":"a","reset":{"percent":1}},{"name":"a","reset":{"percent":1}}]}`,
		`{"seed":1,"seed":2,"tick":"1h","x y":{}}`,
		`{"rules":[1,]`,
		rule(`"sample_by":{"header":"x-u"},"duplicate":{"percent":5,"copies":3,"after":"0s","timeout":"1s","cluster":"c","max_bytes":0}`),
		rule(`"duplicate":{"percent":5,"copies":0,"ramp":{"to":1,"over":"1m","steps":1}}`),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err == nil {
			if c == nil {
				t.Fatal("nil config without error")
			}
			// A valid config must be usable.
			c.Match(&fakeRequest{path: "/a?b", method: "GET"})
			_ = c.Summary()
			return
		}
		if c != nil {
			t.Fatal("config returned with an error")
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("error is %T", err)
		}
		if len(ce.Problems) == 0 {
			t.Fatal("error without problems")
		}
		for _, p := range ce.Problems {
			if !problemPath.MatchString(p) {
				t.Fatalf("problem does not start with a JSON path: %q", p)
			}
		}
	})
}
