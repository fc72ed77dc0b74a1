package fault

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/nedry-chaos/nedry/filter/internal/config"
)

func TestApplyBody(t *testing.T) {
	const body = `{"a":1,"s":"x\"y","o":{"k":[1,2]},"t":true,"n":"12.5"}`
	tests := []struct {
		name        string
		op          config.BodyOp
		in, want    string
		wantSkipped int
	}{
		{"set", config.BodyOp{Kind: config.BodySet, Path: "a", Value: `"one"`}, body, `{"a":"one","s":"x\"y","o":{"k":[1,2]},"t":true,"n":"12.5"}`, 0},
		{"set new key", config.BodyOp{Kind: config.BodySet, Path: "z", Value: `1`}, body, body, 1},
		{"remove", config.BodyOp{Kind: config.BodyRemove, Path: "o.k.0"}, body, `{"a":1,"s":"x\"y","o":{"k":[2]},"t":true,"n":"12.5"}`, 0},
		{"retype number", config.BodyOp{Kind: config.BodyRetype, Path: "a"}, body, `{"a":"1","s":"x\"y","o":{"k":[1,2]},"t":true,"n":"12.5"}`, 0},
		{"retype bool", config.BodyOp{Kind: config.BodyRetype, Path: "t"}, body, `{"a":1,"s":"x\"y","o":{"k":[1,2]},"t":"true","n":"12.5"}`, 0},
		{"retype numeric string", config.BodyOp{Kind: config.BodyRetype, Path: "n"}, body, `{"a":1,"s":"x\"y","o":{"k":[1,2]},"t":true,"n":12.5}`, 0},
		{"retype string", config.BodyOp{Kind: config.BodyRetype, Path: "s"}, body, `{"a":1,"s":null,"o":{"k":[1,2]},"t":true,"n":"12.5"}`, 0},
		{"retype object", config.BodyOp{Kind: config.BodyRetype, Path: "o"}, body, `{"a":1,"s":"x\"y","o":"{\"k\":[1,2]}","t":true,"n":"12.5"}`, 0},
		{"not JSON", config.BodyOp{Kind: config.BodySet, Path: "a", Value: "1"}, `{"a":`, `{"a":`, 1},
		{"truncate", config.BodyOp{Kind: config.BodyTruncate, N: 3}, body, `{"a`, 0},
		{"truncate past the end", config.BodyOp{Kind: config.BodyTruncate, N: 300}, body, body, 1},
		{"replace", config.BodyOp{Kind: config.BodyReplace, Value: "x"}, body, "x", 0},
		{"garble empty", config.BodyOp{Kind: config.BodyGarble, N: 3}, "", "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			have, skipped := ApplyBody([]config.BodyOp{tc.op}, []byte(tc.in), NewRand(1))
			if string(have) != tc.want || skipped != tc.wantSkipped {
				t.Fatalf("have %s (%d skipped), want %s (%d skipped)", have, skipped, tc.want, tc.wantSkipped)
			}
		})
	}
}

// FuzzApplyBody: random bodies and ops never panic, and every op that
// applies does what it says: set then reading the path gives the value,
// remove leaves the path absent, truncate keeps exactly length bytes,
// garble keeps the length.
func FuzzApplyBody(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,2,3]}}`), uint8(1), "a.b.1", `"v"`, 2)
	f.Add([]byte(`[1,{"x":null}]`), uint8(2), "1.x", ``, 0)
	f.Add([]byte("plain text"), uint8(4), "", "", 4)
	f.Add([]byte(`{"n":"1e3"}`), uint8(3), "n", "", 0)
	f.Fuzz(func(t *testing.T, body []byte, kind uint8, path, value string, n int) {
		op := config.BodyOp{Kind: config.BodyOpKind(kind%6 + 1), Path: path, Value: value, N: n}
		switch op.Kind {
		case config.BodyTruncate, config.BodyGarble:
			if n < 0 || n > 1<<16 {
				return
			}
		case config.BodySet:
			if !gjson.Valid(value) {
				return
			}
			op.Value = gjson.Parse(value).Raw
		}
		in := string(body)
		out, skipped := ApplyBody([]config.BodyOp{op}, body, NewRand(uint64(n)))
		if skipped != 0 {
			return
		}
		switch op.Kind {
		case config.BodySet:
			if have := gjson.GetBytes(out, path); have.Raw != op.Value && gjson.Valid(op.Value) && path != "" && validPath(path) {
				t.Fatalf("set %s=%s on %s: read back %q from %s", path, op.Value, in, have.Raw, out)
			}
		case config.BodyRemove:
			if validPath(path) && gjson.GetBytes(out, path).Exists() && gjson.Get(in, path).Raw == gjson.GetBytes(out, path).Raw && len(out) == len(in) {
				t.Fatalf("remove %s on %s left it: %s", path, in, out)
			}
		case config.BodyTruncate:
			if len(out) != n {
				t.Fatalf("truncate %d gave %d bytes", n, len(out))
			}
		case config.BodyGarble:
			if len(out) != len(in) {
				t.Fatalf("garble changed the length %d -> %d", len(in), len(out))
			}
		case config.BodyRetype:
			if !gjson.ValidBytes(out) {
				t.Fatalf("retype %s on %s gave invalid JSON %s", path, in, out)
			}
		}
	})
}

// validPath reports whether the config accepts path: the fuzz checks only
// promise what validated configs can ask.
func validPath(path string) bool { return config.CheckJSONPath(path) == "" }
