package hosttest_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	hosttest "github.com/nedry-chaos/nedry/host-test"
)

// crossLogLevelStandIn is what proxytest's copy imports instead of
// env.proxy_get_log_level; see the comment at the top of this file.
var crossLogLevelStandIn = [2]string{"wasi_snapshot_preview1", "fd_sync"}

// crossMaxTicks bounds the ticks a delayed stream may need under proxytest;
// its clock moves 1 ms per read, so a 20 ms delay needs a few dozen.
const crossMaxTicks = 10_000

// crossRunProxytest runs the scenarios through proxytest. Guest traps
// surface as panics from proxytest's wrapper; they fail the test.
func crossRunProxytest(t *testing.T, wasm []byte) (outs []crossOutcome, metric func(name string, typ hosttest.MetricType) (int64, error)) {
	t.Helper()
	start, err := crossRenameExport(wasm, "_initialize", "_start")
	if err != nil {
		t.Fatalf("rename _initialize to _start: %v", err)
	}
	start, err = crossRetargetImport(start, "env", "proxy_get_log_level", crossLogLevelStandIn[0], crossLogLevelStandIn[1])
	if err != nil {
		t.Fatalf("retarget proxy_get_log_level: %v", err)
	}
	// Nor proxy_get_current_time_nanoseconds, which Nedry calls only for
	// configurations with expires, windows or ramps (none here): the same
	// stand-in, same signature, never called.
	start, err = crossRetargetImport(start, "env", "proxy_get_current_time_nanoseconds", crossLogLevelStandIn[0], crossLogLevelStandIn[1])
	if err != nil {
		t.Fatalf("retarget proxy_get_current_time_nanoseconds: %v", err)
	}
	vm, err := proxytest.NewWasmVMContext(start)
	if err != nil {
		t.Fatalf("proxytest.NewWasmVMContext: %v", err)
	}
	t.Cleanup(func() { vm.Close() })
	host, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption().
		WithVMContext(vm).WithPluginConfiguration([]byte(crossConfig)))
	t.Cleanup(reset)
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("proxytest: guest failed: %v", p)
		}
	}()
	if st := host.StartVM(); st != types.OnVMStartStatusOK {
		t.Fatalf("proxytest: proxy_on_vm_start returned %v", st)
	}
	if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
		t.Fatalf("proxytest: proxy_on_configure returned %v; error logs: %q", st, host.GetErrorLogs())
	}
	for _, sc := range crossScenarios() {
		id := host.InitializeHttpContext()
		var o crossOutcome
		act := host.CallOnRequestHeaders(id, sc.request, true)
		if l := host.GetSentLocalResponse(id); l != nil {
			o.Local = &crossLocal{Status: int(l.StatusCode), Body: string(l.Data), Headers: l.Headers, GRPCStatus: l.GRPCStatus}
			o.Status, o.Client = crossProxytestLocalReply(t, host, id, o.Local)
			host.CompleteHttpContext(id)
			outs = append(outs, o)
			continue
		}
		if act == types.ActionPause {
			o.Paused = true
			if host.GetTickPeriod() == 0 {
				t.Fatalf("proxytest %s: paused with no tick period set", sc.name)
			}
			ticks := 0
			for host.GetCurrentHttpStreamAction(id) != types.ActionContinue {
				if ticks++; ticks > crossMaxTicks {
					t.Fatalf("proxytest %s: still paused after %d ticks", sc.name, crossMaxTicks)
				}
				host.Tick()
			}
			t.Logf("proxytest %s: resumed after %d ticks", sc.name, ticks)
		}
		o.Upstream = slices.Clone(host.GetCurrentRequestHeaders(id))
		resp := append([][2]string{{":status", strconv.Itoa(sc.response.Status)}}, sc.response.Headers...)
		if act := host.CallOnResponseHeaders(id, resp, len(sc.response.Body) == 0); act != types.ActionContinue {
			t.Fatalf("proxytest %s: proxy_on_response_headers returned %v", sc.name, act)
		}
		if len(sc.response.Body) > 0 {
			host.CallOnResponseBody(id, sc.response.Body, true)
		}
		o.Status, o.Client = crossSplitStatus(t, host.GetCurrentResponseHeaders(id))
		host.CompleteHttpContext(id)
		outs = append(outs, o)
	}
	metric = func(name string, typ hosttest.MetricType) (int64, error) {
		var v uint64
		var err error
		switch typ {
		case hosttest.MetricCounter:
			v, err = host.GetCounterMetric(name)
		case hosttest.MetricGauge:
			v, err = host.GetGaugeMetric(name)
		default:
			v, err = host.GetHistogramMetric(name)
		}
		return int64(v), err
	}
	return outs, metric
}

// crossProxytestLocalReply plays Envoy's part after a local reply, which
// proxytest leaves out: Envoy's sendLocalReply builds the response (for
// gRPC: HTTP 200, content-type application/grpc, grpc-status and the body
// as grpc-message; otherwise the status, and for a body content-length and
// content-type text/plain), adds the plugin's headers, and runs
// proxy_on_response_headers on it.
func crossProxytestLocalReply(t *testing.T, host proxytest.HostEmulator, id uint32, l *crossLocal) (int, [][2]string) {
	t.Helper()
	var h [][2]string
	if l.GRPCStatus >= 0 {
		h = append(h, [2]string{":status", "200"}, [2]string{"content-type", "application/grpc"},
			[2]string{"grpc-status", strconv.Itoa(int(l.GRPCStatus))})
		if l.Body != "" {
			h = append(h, [2]string{"grpc-message", l.Body})
		}
		h = append(h, l.Headers...)
		host.CallOnResponseHeaders(id, h, true)
	} else {
		h = append(h, [2]string{":status", strconv.Itoa(l.Status)})
		if l.Body != "" {
			h = append(h, [2]string{"content-length", strconv.Itoa(len(l.Body))}, [2]string{"content-type", "text/plain"})
		}
		h = append(h, l.Headers...)
		host.CallOnResponseHeaders(id, h, l.Body == "")
		if l.Body != "" {
			host.CallOnResponseBody(id, []byte(l.Body), true)
		}
	}
	return crossSplitStatus(t, host.GetCurrentResponseHeaders(id))
}

func crossSplitStatus(t *testing.T, headers [][2]string) (int, [][2]string) {
	t.Helper()
	status := 0
	var rest [][2]string
	for _, kv := range headers {
		if kv[0] == ":status" {
			n, err := strconv.Atoi(kv[1])
			if err != nil {
				t.Fatalf(":status %q: %v", kv[1], err)
			}
			status = n
			continue
		}
		rest = append(rest, kv)
	}
	return status, rest
}
