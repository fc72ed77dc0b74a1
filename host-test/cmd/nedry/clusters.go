package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// The clusters proxy_http_call reaches under nedry run. The cluster the
// proxy reports as xds.cluster_name is its own upstream (--upstream, or the
// demo), so a call to "the stream's cluster" reaches what the stream
// reached; --cluster NAME=URL adds others. A call to any other name answers
// BadArgument, as Envoy answers a cluster it does not know.

// clusterFlags collects --cluster NAME=URL in the order given.
type clusterFlags struct{ all *[]string }

func (c clusterFlags) String() string { return "" }
func (c clusterFlags) Set(v string) error {
	*c.all = append(*c.all, v)
	return nil
}

// namedCluster is one --cluster flag, parsed.
type namedCluster struct {
	name string
	url  *url.URL
}

// parseClusters parses the --cluster values: NAME=URL, an http(s) URL with
// a host, each name once and none the upstream's own cluster (own).
func parseClusters(values []string, own string) ([]namedCluster, error) {
	var out []namedCluster
	seen := map[string]bool{own: true}
	for _, v := range values {
		name, raw, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--cluster %q: want NAME=URL", v)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--cluster %s: want an http:// or https:// URL, got %q", name, raw)
		}
		if seen[name] {
			if name == own {
				return nil, fmt.Errorf("--cluster %s: already the cluster of the upstream", name)
			}
			return nil, fmt.Errorf("--cluster %s: given twice", name)
		}
		seen[name] = true
		out = append(out, namedCluster{name, u})
	}
	return out, nil
}

// callLimits are the limits on the calls nedry run sends, shared by every
// cluster: at most --max-http-calls in flight (past it a call is answered
// 503 at once, as Envoy's circuit breaker answers past max_requests, whose
// default is 1024), and their bodies, sent and received, charged to the
// --max-buffered budget the requests' bodies use. A response body past
// --max-body fails the call. Each call ends by its own timeout, and
// --upstream-timeout bounds one without a timeout; Host.Close cancels the
// rest.
type callLimits struct {
	slots  chan struct{}
	budget *budget
}

func newCallLimits(max int, b *budget) *callLimits {
	return &callLimits{slots: make(chan struct{}, max), budget: b}
}

// cluster makes a hosttest cluster that sends each call through send within
// the limits. send's errors become Envoy's 503 connection failure (the
// harness answers it).
func (l *callLimits) cluster(send upstreamFunc) hosttest.Cluster {
	return hosttest.Cluster{Handler: func(ctx context.Context, ur *hosttest.UpstreamRequest) (*hosttest.Response, error) {
		select {
		case l.slots <- struct{}{}:
			defer func() { <-l.slots }()
		default:
			resp := textResponse(http.StatusServiceUnavailable,
				"nedry: --max-http-calls "+strconv.Itoa(cap(l.slots))+" calls in flight: call refused")
			resp.Headers = append(resp.Headers, [2]string{"x-envoy-overloaded", "true"})
			return resp, nil
		}
		c := &charge{b: l.budget}
		defer c.release()
		if !c.take(int64(len(ur.Body))) {
			return textResponse(http.StatusServiceUnavailable, "nedry: overloaded: buffered bodies at --max-buffered "+
				strconv.FormatInt(l.budget.limit, 10)+" bytes"), nil
		}
		return send(withCharge(ctx, c), ur)
	}}
}

// buildClusters returns the clusters of nedry run: own (the upstream's,
// sent through send) and every --cluster through a forwarder of its own,
// which the caller closes once the host is closed.
func buildClusters(own string, send upstreamFunc, extra []namedCluster, l *callLimits,
	timeout time.Duration, maxBody int64) (map[string]hosttest.Cluster, []*forwarder) {
	out := map[string]hosttest.Cluster{own: l.cluster(send)}
	var fwds []*forwarder
	for _, nc := range extra {
		f := newForwarder(nc.url, timeout, maxBody)
		fwds = append(fwds, f)
		out[nc.name] = l.cluster(f.exchange)
	}
	return out, fwds
}

// describeClusters is the start-up line's list: name=URL, sorted.
func describeClusters(extra []namedCluster) string {
	s := make([]string, 0, len(extra))
	for _, nc := range extra {
		s = append(s, nc.name+"="+nc.url.String())
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
