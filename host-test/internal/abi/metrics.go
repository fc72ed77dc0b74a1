package abi

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"
)

// Metrics is the stats store shared by every VM of a host, as Envoy's: the
// same name defined in several VMs (or twice in one) is one stat.
type Metrics struct {
	mu     sync.Mutex
	byName map[string]*metric
}

type metric struct {
	name  string
	typ   MetricType
	value atomic.Int64
	mu    sync.Mutex
	hist  []uint64
}

// NewMetrics returns an empty store.
func NewMetrics() *Metrics { return &Metrics{byName: map[string]*metric{}} }

// Snapshot is one metric's state.
type Snapshot struct {
	Type      MetricType
	Value     int64
	Histogram []uint64
}

// Snapshot returns every metric by name.
func (s *Metrics) Snapshot() map[string]Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Snapshot, len(s.byName))
	for n, m := range s.byName {
		sn := Snapshot{Type: m.typ, Value: m.value.Load()}
		m.mu.Lock()
		sn.Histogram = append([]uint64(nil), m.hist...)
		m.mu.Unlock()
		out[n] = sn
	}
	return out
}

// Value returns a counter or gauge value (0 when undefined).
func (s *Metrics) Value(name string) int64 {
	s.mu.Lock()
	m := s.byName[name]
	s.mu.Unlock()
	if m == nil {
		return 0
	}
	return m.value.Load()
}

func (vm *VM) metricByID(id uint32) *metric {
	if id == 0 || int(id) > len(vm.metricIDs) {
		return nil
	}
	return vm.metricIDs[id-1]
}

// ProxyDefineMetric is proxy_define_metric(type, name_data, name_size,
// return_metric_id): a type above histogram is BadArgument; each definition
// gets a new id naming the shared stat.
// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_define_metric
func (vm *VM) ProxyDefineMetric(t MetricType, np, ns, rp uint32) Status {
	const call = "proxy_define_metric"
	if t > MetricHistogram {
		return StatusBadArgument
	}
	b, ok := vm.read(call, np, ns)
	if !ok {
		return StatusInvalidMemoryAccess
	}
	name := string(b)
	store := vm.env.Metrics
	store.mu.Lock()
	m := store.byName[name]
	if m == nil {
		m = &metric{name: name, typ: t}
		store.byName[name] = m
	}
	store.mu.Unlock()
	if m.typ != t {
		vm.misuse(call, "metric %q already defined as a %s, now as a %s", name, m.typ, t)
		return StatusBadArgument
	}
	vm.metricIDs = append(vm.metricIDs, m)
	if !vm.writeU32(call, rp, uint32(len(vm.metricIDs))) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

// ProxyIncrementMetric is proxy_increment_metric: counters only go up;
// gauges move both ways; histograms cannot be incremented.
func (vm *VM) ProxyIncrementMetric(id uint32, offset int64) Status {
	const call = "proxy_increment_metric"
	m := vm.metricByID(id)
	if m == nil {
		vm.misuse(call, "unknown metric id %d", id)
		return StatusNotFound
	}
	switch m.typ {
	case MetricCounter:
		if offset < 0 {
			vm.misuse(call, "negative increment %d of counter %q", offset, m.name)
			return StatusBadArgument
		}
		m.value.Add(offset)
	case MetricGauge:
		m.value.Add(offset)
	default:
		vm.misuse(call, "histogram %q cannot be incremented", m.name)
		return StatusBadArgument
	}
	return StatusOK
}

// ProxyRecordMetric is proxy_record_metric: a counter adds the value, a gauge
// is set to it, a histogram records a sample.
func (vm *VM) ProxyRecordMetric(id uint32, value uint64) Status {
	const call = "proxy_record_metric"
	m := vm.metricByID(id)
	if m == nil {
		vm.misuse(call, "unknown metric id %d", id)
		return StatusNotFound
	}
	switch m.typ {
	case MetricCounter:
		m.value.Add(int64(value))
	case MetricGauge:
		m.value.Store(int64(value))
	case MetricHistogram:
		m.mu.Lock()
		m.hist = append(m.hist, value)
		m.mu.Unlock()
		m.value.Add(1)
	}
	return StatusOK
}

// ProxyGetMetric is proxy_get_metric: counters and gauges only.
func (vm *VM) ProxyGetMetric(id, rp uint32) Status {
	const call = "proxy_get_metric"
	m := vm.metricByID(id)
	if m == nil {
		vm.misuse(call, "unknown metric id %d", id)
		return StatusNotFound
	}
	if m.typ == MetricHistogram {
		return StatusBadArgument
	}
	if !vm.writeU64(call, rp, uint64(m.value.Load())) {
		return StatusInvalidMemoryAccess
	}
	return StatusOK
}

var metricFuncs = []hostFunc{
	{"proxy_define_metric", sig(4), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_define_metric").ProxyDefineMetric(MetricType(s[0]), u32(s[1]), u32(s[2]), u32(s[3])))
	}},
	{"proxy_increment_metric", []api.ValueType{i32, i64}, one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_increment_metric").ProxyIncrementMetric(u32(s[0]), int64(s[1])))
	}},
	{"proxy_record_metric", []api.ValueType{i32, i64}, one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_record_metric").ProxyRecordMetric(u32(s[0]), s[1]))
	}},
	{"proxy_get_metric", sig(2), one, func(ctx context.Context, _ api.Module, s []uint64) {
		s[0] = uint64(vmOf(ctx, "proxy_get_metric").ProxyGetMetric(u32(s[0]), u32(s[1])))
	}},
}
