// Command nedry runs the compiled Nedry filter (build/nedry.wasm) outside
// Envoy: as a local chaos proxy in front of an HTTP upstream, as a
// configuration checker, and as the tool that pushes a checked configuration
// to a running Envoy through its ECDS file.
//
// It is built on the host-test harness, so the filter runs exactly as Envoy
// would run it: the same callbacks, configuration validation and push path.
// Everything after flag parsing lives in run, which never calls os.Exit, so
// tests drive the command in process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `nedry: the Nedry chaos filter (build/nedry.wasm) outside Envoy

Usage:
  nedry run   --config FILE (--upstream URL | --demo) [flags]
  nedry check [--wasm FILE] FILE...
  nedry push  --config FILE --ecds PATH [--wasm FILE]
  nedry package (--out DIR|FILE.tar | --push REF) [flags]  (nedry package --help)
  nedry help

nedry run: a local chaos proxy
  An HTTP reverse proxy (HTTP/1.1 and h2c) that runs the filter in front of an
  upstream exactly as Envoy would: one VM per worker, real-time delays, local
  replies for aborts (HTTP and gRPC), corrupted request and response headers,
  and stream resets (HTTP/1.1: the connection is closed; HTTP/2: the stream is
  reset). Request and response bodies are buffered (--max-body).

    --config FILE          plugin configuration (JSON), required; watched for changes
    --listen ADDR          proxy address (default 127.0.0.1:10000)
    --upstream URL         forward to this server, e.g. http://127.0.0.1:8080
    --demo                 use the built-in demo upstream instead: it answers every
                           request with a JSON echo of its method, path and headers
    --workers N            VMs, one per worker as in Envoy (default GOMAXPROCS up to 4)
    --admin ADDR           admin address (default 127.0.0.1:9901; "off" disables it)
    --wasm FILE            the compiled filter (default build/nedry.wasm)
    --route NAME=PREFIX    a route of the route table (repeatable)
    --routes FILE          a route table file (repeatable)
    --envoy-routes FILE    the routes of an Envoy bootstrap (repeatable); without
                           any route flag, those of envoy/envoy.yaml
    --log-level LEVEL      trace, debug, info, warn, error or critical (default info); debug logs
                           every injected fault
    --failure-policy P     after a guest trap: closed (503 for that VM's requests,
                           Envoy's default), open (pass untouched) or reload (fresh VM)
    --upstream-timeout D   bound on one upstream exchange (default 30s)
    --max-body BYTES       request and response body limit (default 16777216); a
                           larger request body answers 413, a larger upstream
                           response body 502
    --max-buffered BYTES   memory the bodies of all requests in flight may take
                           (default 536870912, at least 4 × --max-body); each
                           buffered byte counts 4 (nedry's buffer and the
                           harness's copies); a body past it answers 503
                           "nedry: overloaded: …" at once
    --max-connections N    open client connections (default 1024); one more is
                           closed at once, as past Envoy's
                           global_downstream_max_connections, with a warning at
                           most once per second
    --request-timeout D    time to receive a request body once its headers
                           arrived (default 1m; 0: none); 408 after it
    --stream-idle-timeout D  longest pause within a request body (default 5m,
                           Envoy's stream_idle_timeout; 0: none); 408 after it
    --cluster NAME=URL     a cluster proxy_http_call may reach besides the upstream
                           (repeatable); see HTTP calls below
    --max-http-calls N     proxy_http_call calls in flight (default 1024, Envoy's
                           max_requests); one more is answered 503 at once
    --watch-interval D     config file poll interval (default 500ms)
    --shutdown-timeout D   how long in-flight requests may finish on SIGINT/SIGTERM
                           (default 10s); connections without one are closed
                           at once

  Route table: match.route_name compares against the route name Envoy's route
  table would give a request (the xds.route_name property). Without route
  flags it is the route table of envoy/envoy.yaml (found from the working
  directory or the checkout): the same names and prefixes as the shipped
  Envoy, so a rule behaves locally as it will there. Route flags replace it
  and build the table in the order given; the first route whose PREFIX
  starts the raw :path wins (nothing decoded, as Envoy matches with its
  default normalize_path false: /%61dmin does not start with /admin; a gRPC
  route of Envoy's only for gRPC requests), and a request no route matches
  gets the route "default". A routes file holds one NAME=PREFIX per line;
  blank lines and lines starting with # are ignored:

      # routes.txt
      payments=/pay
      search=/search

  Every request also carries xds.virtual_host_name "nedry", xds.cluster_name
  (the upstream's host:port, or "demo"), source.address (the client's
  ip:port) and request.id (its x-request-id, generated when missing).

  HTTP calls (proxy_http_call, as the duplicate fault makes): the cluster
  reported as xds.cluster_name is the upstream, --cluster NAME=URL adds
  others, and any other name answers BadArgument, as in Envoy. Each call is
  sent for real within its timeout (then Envoy's 504 "upstream request
  timeout") and --upstream-timeout, its response body within --max-body;
  an unreachable cluster gets Envoy's 503. Calls in flight are cancelled at
  shutdown.

  Config watch: the config file is read and hashed every --watch-interval,
  so a replacement that keeps size and modification time (cp -p, rsync -t,
  tar x) is seen too. A new content is applied once two polls in a row read
  the same bytes: a read in the middle of a non-atomic save (empty or
  half-written) is never applied, and an emptied file is applied (no rules)
  only once it stays empty for that second look. An edit therefore takes
  effect within two intervals. It is pushed through the same path as an
  Envoy ECDS push: validated in a throw-away VM, then applied to every
  worker. A refused edit prints every error and the previous configuration
  keeps serving; an accepted one prints its summary.

  Output: one line per fact at start-up (wasm, config summary, routes,
  upstream, admin, listening address; with --demo a curl command per rule
  that shows its fault), one line per second with the number of faults
  injected while there are any, each injected fault at --log-level debug, and
  every error of a refused configuration. Lines at warn and error go to
  stderr, the rest to stdout.

  Admin endpoints:
    /stats              the filter's metrics, "name: value" sorted by name
    /stats/prometheus   the same in Prometheus text format (nedry.rule.<name>.<stat>
                        becomes nedry_rule_<stat>{nedry_rule="<name>"}, the tag
                        the shipped Envoy stats_tags give it)
    /ready              200 LIVE once configured

  Upstream failures: a refused or failed connection answers 502, a timeout
  504, each with a one-line body such as
  "nedry: upstream 127.0.0.1:8080 unreachable: connection refused".

  As in Envoy: the filter sees the raw :path (no decoding), and the route
  table matches it; the upstream gets exactly the :path the filter left (a
  path starting with // that net/http cannot write as it is goes in
  absolute form, http://host//…, the path unchanged). No user-agent is
  added. A host header the filter left goes out as a second Host line next
  to the one made from :authority, as Envoy's HTTP/1.1 codec writes it (an
  HTTPS upstream speaking HTTP/2 does not get it). Responses lose
  connection, transfer-encoding and the other hop-by-hop headers, and their
  Content-Length is the body's, as Envoy's local replies and connection
  manager do, so an abort's content-length or connection header has no
  effect. 204 and 304 carry no content and no Content-Length, a response to
  HEAD the upstream's Content-Length and no content; a status outside
  200–599 (a 1xx cannot be final) answers 502. Trailers reach HTTP/1.1
  (chunked) and h2c clients. A gRPC abort's grpc-message is
  percent-encoded as Envoy encodes it (bytes below space, from ~ up, and %).
  Unlike Envoy, a request target Go's HTTP server cannot parse (an invalid
  escape such as /a%zz) is refused before the filter sees it.
  Request headers must arrive within 30s; an idle client connection is
  closed after 2m.

nedry check FILE...
  Validates each configuration through the filter itself (the same code that
  runs in Envoy). Prints "FILE: OK: <summary>" per valid file and every error
  of an invalid one as "FILE: <error>"; exits 1 if any file is invalid.
  --wasm FILE selects the filter.

nedry push --config FILE --ecds PATH [--wasm FILE]
  Reads FILE once, checks those bytes through the filter, then writes the
  same bytes: it atomically replaces the ECDS file PATH that a running Envoy
  watches (written next to it, synced, then renamed), so Envoy applies the
  new configuration without a restart. An existing PATH keeps its shape;
  only the plugin configuration inside it is replaced.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command: it returns the exit status instead of exiting,
// and stops nedry run when ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runProxy(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "push":
		return runPush(ctx, args[1:], stdout, stderr)
	case "package":
		return runPackage(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "nedry: unknown command %q\n\n%s", args[0], usage)
	return 2
}
