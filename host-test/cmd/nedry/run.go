package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// defaultWasm is where make build writes the filter.
const defaultWasm = "build/nedry.wasm"

// routeSource is one route flag: --route NAME=PREFIX, --routes FILE or
// --envoy-routes FILE.
type routeSource struct{ flag, value string }

// routeFlags collects the route flags in the order given, so the table's
// order (first match wins) is the command line's whatever flags are mixed.
type routeFlags struct {
	flag string
	all  *[]routeSource
}

func (r routeFlags) String() string { return "" }
func (r routeFlags) Set(v string) error {
	*r.all = append(*r.all, routeSource{r.flag, v})
	return nil
}

// runOptions are the parsed flags of nedry run.
type runOptions struct {
	config, listen, upstream, admin, wasm, logLevel, failurePolicy string
	demo                                                           bool
	workers, maxConnections                                        int
	routes                                                         []routeSource
	clusters                                                       []string
	maxHTTPCalls                                                   int
	upstreamTimeout, watchInterval, shutdownTimeout                time.Duration
	requestTimeout, idleTimeout                                    time.Duration
	maxBody, maxBuffered                                           int64
}

func parseRunFlags(args []string, stderr io.Writer) (*runOptions, error) {
	o := &runOptions{}
	fs := flag.NewFlagSet("nedry run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.StringVar(&o.config, "config", "", "plugin configuration file (JSON)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:10000", "proxy address")
	fs.StringVar(&o.upstream, "upstream", "", "upstream URL")
	fs.BoolVar(&o.demo, "demo", false, "use the built-in demo upstream")
	fs.IntVar(&o.workers, "workers", min(runtime.GOMAXPROCS(0), 4), "VMs, one per worker")
	fs.StringVar(&o.admin, "admin", "127.0.0.1:9901", `admin address ("off" disables it)`)
	fs.StringVar(&o.wasm, "wasm", defaultWasm, "compiled filter")
	fs.Var(routeFlags{"--route", &o.routes}, "route", "route NAME=PREFIX (repeatable)")
	fs.Var(routeFlags{"--routes", &o.routes}, "routes", "route table file (repeatable)")
	fs.Var(routeFlags{"--envoy-routes", &o.routes}, "envoy-routes", "Envoy bootstrap whose routes to use (repeatable)")
	fs.Var(clusterFlags{&o.clusters}, "cluster", "cluster NAME=URL proxy_http_call may reach (repeatable)")
	fs.IntVar(&o.maxHTTPCalls, "max-http-calls", 1024, "proxy_http_call calls in flight; more are answered 503")
	fs.StringVar(&o.logLevel, "log-level", "info", "trace, debug, info, warn, error or critical")
	fs.StringVar(&o.failurePolicy, "failure-policy", "closed", "after a guest trap: closed, open or reload")
	fs.DurationVar(&o.upstreamTimeout, "upstream-timeout", 30*time.Second, "bound on one upstream exchange")
	fs.DurationVar(&o.watchInterval, "watch-interval", 500*time.Millisecond, "config file poll interval")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "time in-flight requests get on shutdown")
	fs.Int64Var(&o.maxBody, "max-body", 16<<20, "request and response body limit in bytes")
	fs.Int64Var(&o.maxBuffered, "max-buffered", 512<<20, "memory the bodies of all requests in flight may take, in bytes")
	fs.IntVar(&o.maxConnections, "max-connections", 1024, "open client connections; more are closed at once")
	fs.DurationVar(&o.requestTimeout, "request-timeout", time.Minute, "time to receive a request body (0: none)")
	fs.DurationVar(&o.idleTimeout, "stream-idle-timeout", 5*time.Minute, "longest wait for the next bytes of a request body (0: none)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.config == "":
		return nil, errors.New("--config is required")
	case o.demo == (o.upstream != ""):
		return nil, errors.New("give exactly one of --upstream URL and --demo")
	case o.workers < 1:
		return nil, fmt.Errorf("--workers: must be at least 1, got %d", o.workers)
	case o.upstreamTimeout <= 0, o.watchInterval <= 0, o.shutdownTimeout <= 0:
		return nil, errors.New("durations must be positive")
	case o.requestTimeout < 0, o.idleTimeout < 0:
		return nil, errors.New("--request-timeout and --stream-idle-timeout: must not be negative")
	case o.maxBody < 1:
		return nil, fmt.Errorf("--max-body: must be at least 1, got %d", o.maxBody)
	case o.maxBuffered < bodyCopies*o.maxBody:
		return nil, fmt.Errorf("--max-buffered: must be at least %d × --max-body (%d), got %d", bodyCopies, bodyCopies*o.maxBody, o.maxBuffered)
	case o.maxConnections < 1:
		return nil, fmt.Errorf("--max-connections: must be at least 1, got %d", o.maxConnections)
	case o.maxHTTPCalls < 1:
		return nil, fmt.Errorf("--max-http-calls: must be at least 1, got %d", o.maxHTTPCalls)
	}
	return o, nil
}

// failurePolicy maps --failure-policy to the harness's policy.
func failurePolicy(s string) (hosttest.FailurePolicy, error) {
	switch s {
	case "closed":
		return hosttest.FailClosed, nil
	case "open":
		return hosttest.FailOpen, nil
	case "reload":
		return hosttest.FailReload, nil
	}
	return 0, fmt.Errorf("--failure-policy: want closed, open or reload, got %q", s)
}

// loadWasm reads the filter. When the default path is not found from the
// working directory, the repository's build/ is tried, so nedry works from
// any directory of a checkout.
func loadWasm(path string) ([]byte, error) {
	b, err := hosttest.LoadFile(path)
	if err != nil && errors.Is(err, hosttest.ErrNotFound) {
		if path != defaultWasm {
			// make build writes only the default path: no advice to give.
			return nil, fmt.Errorf("--wasm %s: no such file", path)
		}
		if b2, err2 := hosttest.LoadFile(hosttest.RepoPath(defaultWasm)); err2 == nil {
			return b2, nil
		}
	}
	return b, err
}

// listen opens addr, turning the common failure into one clear line.
func listen(what, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s address %s: already in use", what, addr)
	case err != nil:
		return nil, fmt.Errorf("%s address %s: %w", what, addr, err)
	}
	return ln, nil
}

func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseRunFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "nedry run: %v\n", err)
		return 2
	}
	level, err := parseLevel(o.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "nedry run: %v\n", err)
		return 2
	}
	policy, err := failurePolicy(o.failurePolicy)
	if err != nil {
		fmt.Fprintf(stderr, "nedry run: %v\n", err)
		return 2
	}
	log := newLogger(stdout, stderr, level)
	fail := func(format string, args ...any) int {
		log.errorf(format, args...)
		return 1
	}

	wasm, err := loadWasm(o.wasm)
	if err != nil {
		return fail("%v", err)
	}
	cfg, err := readConfig(o.config)
	if err != nil {
		return fail("%s: %v", o.config, err)
	}
	routes, routesFrom, err := buildRoutes(o.routes)
	if err != nil {
		return fail("%v", err)
	}

	p := &proxy{routes: routes, vhost: "nedry", maxBody: o.maxBody, budget: &budget{limit: o.maxBuffered},
		requestTimeout: o.requestTimeout, idleTimeout: o.idleTimeout}
	upstreamDesc := "demo (built-in JSON echo of method, path and headers)"
	var demo *demoService
	var callSend upstreamFunc // how a proxy_http_call reaches the upstream
	if o.demo {
		demo = newDemoService()
		p.upstream, p.cluster, callSend = demo.serve, "demo", demo.serve
	} else {
		u, err := url.Parse(o.upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail("--upstream: want an http:// or https:// URL, got %q", o.upstream)
		}
		fwd := newForwarder(u, o.upstreamTimeout, o.maxBody)
		defer fwd.close()
		p.upstream, p.cluster, callSend = fwd.roundTrip, u.Host, fwd.exchange
		upstreamDesc = u.String()
	}
	extra, err := parseClusters(o.clusters, p.cluster)
	if err != nil {
		return fail("%v", err)
	}
	clusters, clusterFwds := buildClusters(p.cluster, callSend, extra, newCallLimits(o.maxHTTPCalls, p.budget),
		o.upstreamTimeout, o.maxBody)
	for _, f := range clusterFwds {
		defer f.close()
	}

	ln, err := listen("listen", o.listen)
	if err != nil {
		return fail("%v", err)
	}
	defer ln.Close()
	var adminLn net.Listener
	if o.admin != "off" && o.admin != "" {
		if adminLn, err = listen("admin", o.admin); err != nil {
			return fail("%v", err)
		}
		defer adminLn.Close()
	}

	stopCapture := log.captureGuest()
	host, err := hosttest.New(ctx, wasm, hosttest.Options{
		Workers:       o.workers,
		PluginConfig:  cfg,
		PluginName:    "nedry",
		RealTime:      true,
		LogLevel:      level,
		FailurePolicy: policy,
		Upstream:      p.upstream,
		Clusters:      clusters,
		Properties:    p.hostProperties(),
		Logger:        log.guest,
	})
	guestLogs := stopCapture()
	if err != nil {
		log.errorf("%s: configuration refused, not starting", o.config)
		for _, line := range refusal(err) {
			log.errorf("%s: %s", o.config, line)
		}
		return 1
	}
	defer host.Close(context.Background())
	p.host = host
	if demo != nil {
		demo.setMetrics(host.Metrics)
	}

	log.infof("wasm %s (%d bytes), %d workers", o.wasm, len(wasm), o.workers)
	log.infof("config %s: %s", o.config, summary(cfg))
	printGuestInfo(log, guestLogs)
	log.infof("routes%s: %s", routesFrom, routes)
	log.infof("upstream %s", upstreamDesc)
	if len(extra) > 0 {
		log.infof("clusters for proxy_http_call besides %s (the upstream): %s", p.cluster, describeClusters(extra))
	}

	var ready atomic.Bool
	ready.Store(true)
	errc := make(chan error, 2)
	var adminSrv *http.Server
	if adminLn != nil {
		adminSrv = &http.Server{Handler: adminHandler(host, &ready), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- adminSrv.Serve(adminLn) }()
		log.infof("admin on http://%s (/stats, /stats/prometheus, /ready)", adminLn.Addr())
	}
	conns := newConnTracker()
	srv := &http.Server{
		Handler:           p,
		ConnState:         conns.hook,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// A reset is nedry's deliberate doing, not an error worth a log line.
		ErrorLog: nil,
	}
	// Go's own HTTP/2 without TLS (h2c with prior knowledge) rather than
	// x/net's h2c wrapper: the server then tracks HTTP/2 connections, so
	// Shutdown waits for their in-flight streams too.
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	overflow := everySecond(func(n int64) {
		log.warnf("--max-connections %d reached: closed %d new connection(s)", o.maxConnections, n)
	})
	go func() { errc <- srv.Serve(newLimitListener(ln, o.maxConnections, overflow)) }()
	log.infof("listening on http://%s (HTTP/1.1 and h2c)", ln.Addr())
	if o.demo {
		for _, c := range tryCommands(cfg, routes, ln.Addr().String(), 6) {
			log.infof("try: %s", c)
		}
	}

	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	w := &watcher{path: o.config, interval: o.watchInterval, host: host, log: log}
	w.remember(cfg)
	go w.run(bg)
	log.infof("watching %s for changes (every %s)", o.config, o.watchInterval)
	go reportFaults(bg, host, log, time.Second)

	select {
	case <-ctx.Done():
	case err := <-errc:
		return fail("serve: %v", err)
	}
	log.infof("shutting down: waiting up to %s for in-flight requests", o.shutdownTimeout)
	ready.Store(false)
	stopBG()
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	code := 0
	if err := conns.shutdown(sctx, srv); err != nil {
		log.warnf("in-flight requests cut off after %s: %v", o.shutdownTimeout, err)
		srv.Close()
		code = 1
	}
	if adminSrv != nil {
		adminSrv.Close()
	}
	log.infof("stopped")
	return code
}

// printGuestInfo prints the filter's own lines from a configuration (its
// summary at info level), each once although every VM logged it.
func printGuestInfo(log *logger, logs []hosttest.LogEntry) {
	seen := map[string]bool{}
	for _, e := range logs {
		if seen[e.Message] {
			continue
		}
		seen[e.Message] = true
		log.guest(e)
	}
}
