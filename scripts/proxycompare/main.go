// Command proxycompare measures nedry run's own cost next to a direct
// connection and Toxiproxy, in one run: the same loopback upstream, 16
// keep-alive client connections, no fault (a Nedry rule that matches
// nothing, a Toxiproxy proxy without toxics). Targets take turns in short
// interleaved rounds so a change in the machine's load hits all of them;
// each result is the median over the rounds. It reports throughput, its
// ratios, and the CPU time each proxy process used per request (from
// /proc, so Linux only). scripts/proxy-compare.sh builds nedry and runs it;
// Toxiproxy is never a dependency of the module.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const conns = 16

func main() {
	nedryBin := flag.String("nedry", "build/nedry", "the nedry binary")
	wasm := flag.String("wasm", "build/nedry.wasm", "the compiled filter")
	toxi := flag.String("toxiproxy", "toxiproxy-server", "the toxiproxy-server binary")
	rounds := flag.Int("rounds", 9, "interleaved rounds")
	per := flag.Duration("round", 2*time.Second, "time each target gets per round")
	flag.Parse()
	if err := compare(*nedryBin, *wasm, *toxi, *rounds, *per); err != nil {
		fmt.Fprintln(os.Stderr, "proxycompare:", err)
		os.Exit(1)
	}
}

// target is one way to reach the upstream.
type target struct {
	name string
	url  string
	pid  int // the proxy process, 0 for the direct connection
	// per round: requests per second and proxy CPU per request (µs)
	rps, cpu []float64
}

func compare(nedryBin, wasm, toxi string, rounds int, per time.Duration) error {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	upstream := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})}
	go upstream.Serve(up)
	defer upstream.Close()
	upURL := "http://" + up.Addr().String()

	tmp, err := os.MkdirTemp("", "proxycompare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// A rule that matches none of the requests: the filter runs its
	// matcher on every request and injects nothing.
	cfg := filepath.Join(tmp, "nedry.json")
	if err := os.WriteFile(cfg, []byte(`{"rules": [{"name": "other", "match": {"prefix": "/elsewhere"}, "abort": {"percent": 100}}]}`), 0o644); err != nil {
		return err
	}
	nedry, nedryAddr, err := start(nedryBin, []string{"run", "--upstream", upURL, "--config", cfg, "--wasm", wasm,
		"--listen", "127.0.0.1:0", "--admin", "off"}, regexp.MustCompile(`listening on http://(\S+)`))
	if err != nil {
		return fmt.Errorf("nedry: %w", err)
	}
	defer stop(nedry)
	toxiPort, err := freePort()
	if err != nil {
		return err
	}
	tp, _, err := start(toxi, []string{"-host", "127.0.0.1", "-port", toxiPort}, regexp.MustCompile(`(?i)(HTTP server)`))
	if err != nil {
		return fmt.Errorf("toxiproxy-server: %w", err)
	}
	defer stop(tp)
	toxiAddr, err := toxiproxyProxy("http://127.0.0.1:"+toxiPort, up.Addr().String())
	if err != nil {
		return err
	}

	targets := []*target{
		{name: "direct", url: upURL + "/bench"},
		{name: "nedry run", url: "http://" + nedryAddr + "/bench", pid: nedry.Process.Pid},
		{name: "toxiproxy", url: "http://" + toxiAddr + "/bench", pid: tp.Process.Pid},
	}
	// Warm every path (connections, the filter's first requests).
	for _, t := range targets {
		if _, err := load(t.url, 200*time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	var ratios [2][]float64 // nedry/direct, nedry/toxiproxy per round
	for r := range rounds {
		// Rotate the order each round: no target always runs first.
		for i := range targets {
			t := targets[(i+r)%len(targets)]
			cpu0 := procCPU(t.pid)
			n, err := load(t.url, per)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.rps = append(t.rps, float64(n)/per.Seconds())
			if t.pid != 0 {
				t.cpu = append(t.cpu, float64((procCPU(t.pid)-cpu0).Microseconds())/float64(n))
			}
		}
		last := func(t *target) float64 { return t.rps[len(t.rps)-1] }
		ratios[0] = append(ratios[0], last(targets[1])/last(targets[0]))
		ratios[1] = append(ratios[1], last(targets[1])/last(targets[2]))
	}
	fmt.Printf("%d keep-alive connections on loopback, no fault; %d interleaved rounds of %s per target; medians (lowest-highest round)\n",
		conns, rounds, per)
	fmt.Printf("%-10s %22s %26s\n", "", "requests/s", "proxy CPU per request")
	for _, t := range targets {
		cpu := "-"
		if t.pid != 0 {
			cpu = spread(t.cpu, "%.1f µs")
		}
		fmt.Printf("%-10s %22s %26s\n", t.name, spread(t.rps, "%.0f"), cpu)
	}
	fmt.Printf("nedry run / direct:    %s\n", spread(ratios[0], "%.2f"))
	fmt.Printf("nedry run / toxiproxy: %s\n", spread(ratios[1], "%.2f"))
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average at the end: %s", b)
	}
	return nil
}

// spread formats the median of v and its range.
func spread(v []float64, format string) string {
	s := slices.Clone(v)
	slices.Sort(s)
	f := func(x float64) string { return strings.TrimSuffix(fmt.Sprintf(format, x), " µs") }
	out := fmt.Sprintf(format, s[len(s)/2])
	return out + " (" + f(s[0]) + "-" + f(s[len(s)-1]) + ")"
}

// load sends GET url over conns keep-alive connections for d and returns
// how many requests were answered 200.
func load(url string, d time.Duration) (int64, error) {
	tr := &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var (
		n    atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		fail error
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				resp, err := c.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					fail = err
					mu.Unlock()
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), fail
}

// start runs a command and waits (at most a minute) for a line of its
// output matching ready; the first submatch, if any, is returned.
func start(bin string, args []string, ready *regexp.Regexp) (*exec.Cmd, string, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	found := make(chan string, 1)
	go func() {
		var seen strings.Builder
		buf := make([]byte, 4096)
		sent := false
		for {
			k, err := out.Read(buf)
			if !sent {
				seen.Write(buf[:k])
				if m := ready.FindStringSubmatch(seen.String()); m != nil {
					found <- append(m, "")[1]
					sent = true
				}
			}
			if err != nil {
				if !sent {
					close(found)
				}
				return
			}
		}
	}()
	select {
	case m, ok := <-found:
		if !ok {
			cmd.Wait()
			return nil, "", errors.New("exited before it was ready")
		}
		return cmd, m, nil
	case <-time.After(time.Minute):
		stop(cmd)
		return nil, "", errors.New("not ready within a minute")
	}
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// toxiproxyProxy creates a proxy without toxics in front of upstream
// through Toxiproxy's API and returns its listen address.
func toxiproxyProxy(api, upstream string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	listen := "127.0.0.1:" + port
	body := `{"name": "proxycompare", "listen": "` + listen + `", "upstream": "` + upstream + `", "enabled": true}`
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var resp *http.Response
	for {
		req, err := http.NewRequestWithContext(ctx, "POST", api+"/proxies", strings.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		// The server logs its start just before it listens.
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("toxiproxy API: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("toxiproxy API: %s: %s", resp.Status, b)
	}
	return listen, nil
}

// procCPU is the user and system time process pid used so far (from
// /proc/PID/stat, in clock ticks of 10 ms); 0 for pid 0.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields count from its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
