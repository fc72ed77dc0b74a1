package hosttest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// BenchmarkInterleaved measures why the filter costs nedry run more than
// BenchmarkRequest says: the time inside the guest per request (all its
// callbacks, Options.CallObserver) when its upstream answers at once, as in
// the other benchmarks, and when the upstream is a real HTTP exchange over
// loopback (a net/http client and server in this process), as under nedry
// run. One request at a time on one worker: no lock is contended, no
// goroutine changes VM, so what grows is the cost of the same guest code
// after the HTTP stack has run between its callbacks. The no-op guest runs
// the same rounds for comparison.
//
// Metrics: guest-ns/req and guest-http-ns/req for the filter (a request no
// rule matches), x-canned their ratio; noop-guest-ns/req,
// noop-guest-http-ns/req and noop-x-canned for the no-op guest. Each b.N
// iteration is one round of benchColdBatch requests per guest and upstream,
// so a batch with the canned upstream runs after others of its kind.
func BenchmarkInterleaved(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp := &hosttest.Response{Status: 200, Body: []byte("ok"), Headers: [][2]string{
		{"content-length", "2"}, {"content-type", "text/plain; charset=utf-8"}, {"date", "Tue, 01 Dec 2026 12:00:00 GMT"}}}
	canned := func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error) { return resp, nil }
	exchange := func(ctx context.Context, _ *hosttest.UpstreamRequest) (*hosttest.Response, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/bench", nil)
		if err != nil {
			return nil, err
		}
		r, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer r.Body.Close()
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return nil, err
		}
		return resp, nil
	}

	type guest struct {
		h            *hosttest.Host
		spent        time.Duration
		canned, http benchClock
	}
	start := func(wasm []byte, cfg string) *guest {
		g := &guest{}
		g.h = benchHost(b, wasm, cfg, hosttest.Options{RealTime: true,
			Properties:   map[string]string{"xds.virtual_host_name": "nedry", "xds.cluster_name": "upstream"},
			CallObserver: func(_ string, d time.Duration) { g.spent += d }})
		return g
	}
	nedry := start(benchNedryWasm(b), benchColdConfig)
	noop := start(benchNoopWasm(b), "")
	run := func(g *guest, upstream func(context.Context, *hosttest.UpstreamRequest) (*hosttest.Response, error), c *benchClock) {
		for range benchColdBatch {
			req := benchColdRequest()
			req.Upstream = upstream
			g.spent = 0
			res, err := g.h.Run(context.Background(), req)
			switch {
			case err != nil:
				b.Fatal(err)
			case res.Response == nil || res.Response.Status != 200:
				b.Fatalf("no 200 response: %+v", res)
			}
			c.add(g.spent)
		}
	}
	b.ResetTimer()
	for range b.N {
		for _, g := range []*guest{nedry, noop} {
			run(g, canned, &g.canned)
			run(g, exchange, &g.http)
		}
	}
	b.StopTimer()
	b.ReportMetric(nedry.canned.nsPer(), "guest-ns/req")
	b.ReportMetric(nedry.http.nsPer(), "guest-http-ns/req")
	b.ReportMetric(nedry.http.nsPer()/nedry.canned.nsPer(), "x-canned")
	b.ReportMetric(noop.canned.nsPer(), "noop-guest-ns/req")
	b.ReportMetric(noop.http.nsPer(), "noop-guest-http-ns/req")
	b.ReportMetric(noop.http.nsPer()/noop.canned.nsPer(), "noop-x-canned")
}

// benchColdBatch is the number of requests of one kind in a row.
const benchColdBatch = 200

// benchColdConfig is BenchmarkProxy's: one rule that these requests miss.
const benchColdConfig = `{"rules": [{"name": "other", "match": {"prefix": "/elsewhere"}, "abort": {"percent": 100, "http_status": 503}}]}`

// benchColdRequest is the request nedry run hands the filter for a Go
// client's GET: the client's headers, an x-request-id and the per-request
// properties.
func benchColdRequest() hosttest.Request {
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	return hosttest.Request{
		Headers: [][2]string{{":authority", "127.0.0.1:8080"}, {":path", "/bench"}, {":method", "GET"}, {":scheme", "http"},
			{"accept-encoding", "gzip"}, {"user-agent", "Go-http-client/1.1"}, {"x-request-id", id}},
		Properties: map[string]string{"xds.route_name": "", "source.address": "127.0.0.1:50000", "request.id": id},
	}
}
