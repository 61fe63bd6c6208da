// Command loadgen sends chat completion requests to one URL and reports
// throughput and latency percentiles.
//
// Fixed concurrency (closed loop): -c connections, each sending its next
// request when the previous answer is complete, for -d or -n requests.
//
// Fixed rate (open loop): -rate requests per second on a fixed schedule,
// whatever the answers do. Latency is measured from each request's
// scheduled send time, not from when it was actually sent, so a slow
// server cannot hide its stalls by slowing the load down (no coordinated
// omission).
//
// With -stream the body asks for "stream": true (a -body without it gets
// it set) and the reported latency is the time to the first chunk (the
// first "data:" line: an OpenAI chunk or an Anthropic event); the time to
// the last byte is reported too.
//
//	loadgen -url http://127.0.0.1:4000/v1/chat/completions -key sk-... -c 32 -d 5s
//	loadgen -url ... -rate 1000 -d 5s -json
//
// Other APIs than chat (Anthropic's /v1/messages) take their own body and
// headers:
//
//	loadgen -url http://127.0.0.1:4000/v1/messages -H "x-api-key: sk-..." \
//	  -H "anthropic-version: 2023-06-01" -body '{"model":"m","max_tokens":32,"messages":[{"role":"user","content":"Hi"}]}'
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/valyala/fasthttp"
)

// Result is what one run measured. Latencies are in microseconds.
type Result struct {
	URL       string  `json:"url"`
	Mode      string  `json:"mode"` // "closed" or "open"
	Conns     int     `json:"conns"`
	Rate      float64 `json:"rate,omitempty"`
	Stream    bool    `json:"stream"`
	Requests  int     `json:"requests"`
	Errors    int64   `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
	DurationS float64 `json:"duration_s"`
	RPS       float64 `json:"rps"`
	// Latency: the full answer for unary calls, the first chunk for streams.
	P50  float64 `json:"p50_us"`
	P90  float64 `json:"p90_us"`
	P99  float64 `json:"p99_us"`
	Max  float64 `json:"max_us"`
	Mean float64 `json:"mean_us"`
	// Streams only: time to the last byte.
	TotalP50 float64 `json:"total_p50_us,omitempty"`
	TotalP99 float64 `json:"total_p99_us,omitempty"`
	// Open loop only: how late requests were sent against their schedule
	// (the load generator's own accuracy; it is part of the latency).
	SendLagP50 float64 `json:"send_lag_p50_us,omitempty"`
	SendLagP99 float64 `json:"send_lag_p99_us,omitempty"`
}

type config struct {
	url     string
	conns   int
	dur     time.Duration
	count   int
	rate    float64
	warmup  time.Duration
	stream  bool
	body    []byte
	headers [][2]string
	timeout time.Duration
	samples string // file for one line per measured request: start (Unix µs) and latency (µs)
}

type headerFlags [][2]string

func (h *headerFlags) String() string { return fmt.Sprint(*h) }
func (h *headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok {
		return errors.New("want Name: value")
	}
	*h = append(*h, [2]string{strings.TrimSpace(k), strings.TrimSpace(val)})
	return nil
}

func main() {
	var cfg config
	var headers headerFlags
	var key, model, body string
	var asJSON bool
	flag.StringVar(&cfg.url, "url", "http://127.0.0.1:4000/v1/chat/completions", "target URL")
	flag.IntVar(&cfg.conns, "c", 1, "connections (closed loop); the connection cap with -rate (default 256 then)")
	flag.DurationVar(&cfg.dur, "d", 5*time.Second, "measured duration")
	flag.IntVar(&cfg.count, "n", 0, "measured requests (closed loop; overrides -d)")
	flag.Float64Var(&cfg.rate, "rate", 0, "requests per second, open loop (0 = closed loop)")
	flag.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up before the run")
	flag.BoolVar(&cfg.stream, "stream", false, `send "stream": true and measure the time to the first chunk`)
	flag.StringVar(&key, "key", "", "API key (Authorization: Bearer)")
	flag.StringVar(&model, "model", "gpt-fake", "model name in the default body")
	flag.StringVar(&body, "body", "", "request body, or @file (default: a small chat request)")
	flag.Var(&headers, "H", "extra header `Name: value` (repeatable)")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.BoolVar(&asJSON, "json", false, "print the result as JSON")
	flag.StringVar(&cfg.samples, "samples", "", "write each measured request's start (Unix µs) and latency (µs) to this `file`, to line slow calls up with a trace")
	flag.Parse()

	switch {
	case strings.HasPrefix(body, "@"):
		b, err := os.ReadFile(body[1:])
		if err != nil {
			fatal(err)
		}
		cfg.body = b
	case body != "":
		cfg.body = []byte(body)
	default:
		cfg.body = defaultBody(model, cfg.stream)
	}
	if cfg.stream && !gjson.GetBytes(cfg.body, "stream").Bool() {
		b, err := sjson.SetBytes(cfg.body, "stream", true)
		if err != nil {
			fatal(fmt.Errorf("-stream: the -body is not a JSON object: %w", err))
		}
		cfg.body = b
	}
	if key != "" {
		headers = append(headers, [2]string{"Authorization", "Bearer " + key})
	}
	cfg.headers = headers
	if cfg.rate > 0 && cfg.conns <= 1 {
		cfg.conns = 256
	}
	res, err := run(cfg)
	if err != nil {
		fatal(err)
	}
	if asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	printResult(res)
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
	os.Exit(1)
}

func defaultBody(model string, stream bool) []byte {
	b := `{"model":"` + model + `","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32`
	if stream {
		b += `,"stream":true,"stream_options":{"include_usage":true}`
	}
	return []byte(b + "}")
}

func printResult(r *Result) {
	what := "latency"
	if r.Stream {
		what = "first chunk"
	}
	mode := fmt.Sprintf("%d connections", r.Conns)
	if r.Mode == "open" {
		mode = fmt.Sprintf("fixed rate %.0f/s", r.Rate)
	}
	fmt.Printf("%s, %s: %d requests in %.2fs, %.0f req/s, %d errors\n", r.URL, mode, r.Requests, r.DurationS, r.RPS, r.Errors)
	fmt.Printf("%s: p50 %.0fµs  p90 %.0fµs  p99 %.0fµs  max %.0fµs  mean %.0fµs\n", what, r.P50, r.P90, r.P99, r.Max, r.Mean)
	if r.Mode == "open" {
		fmt.Printf("send lag against the schedule: p50 %.0fµs  p99 %.0fµs\n", r.SendLagP50, r.SendLagP99)
	}
	if r.Stream {
		fmt.Printf("last byte: p50 %.0fµs  p99 %.0fµs\n", r.TotalP50, r.TotalP99)
	}
	if r.FirstErr != "" {
		fmt.Printf("first error: %s\n", r.FirstErr)
	}
}

// sample is one measured request.
type sample struct {
	at           time.Time // scheduled (open loop) or actual send time
	first, total time.Duration
}

type runner struct {
	cfg    config
	client *fasthttp.Client
	errs   atomic.Int64
	errMu  sync.Mutex
	first  string
	// open loop: how late requests left against their schedule
	lagP50, lagP99 float64
}

func run(cfg config) (*Result, error) {
	r := &runner{cfg: cfg, client: &fasthttp.Client{
		MaxConnsPerHost:     cfg.conns,
		MaxConnWaitTimeout:  cfg.timeout,
		ReadTimeout:         cfg.timeout,
		WriteTimeout:        cfg.timeout,
		MaxIdleConnDuration: time.Minute,
		StreamResponseBody:  cfg.stream,
	}}
	var samples []sample
	var elapsed time.Duration
	if cfg.rate > 0 {
		samples, elapsed = r.open()
	} else {
		samples, elapsed = r.closed()
	}
	res := &Result{
		URL: cfg.url, Mode: "closed", Conns: cfg.conns, Stream: cfg.stream,
		Requests: len(samples), Errors: r.errs.Load(), FirstErr: r.first,
		DurationS: elapsed.Seconds(),
	}
	if cfg.rate > 0 {
		res.Mode, res.Rate = "open", cfg.rate
		res.SendLagP50, res.SendLagP99 = r.lagP50, r.lagP99
	}
	if elapsed > 0 {
		res.RPS = float64(len(samples)) / elapsed.Seconds()
	}
	if len(samples) == 0 {
		return res, nil
	}
	if cfg.samples != "" {
		if err := writeSamples(cfg.samples, samples); err != nil {
			return nil, err
		}
	}
	first := make([]time.Duration, len(samples))
	total := make([]time.Duration, len(samples))
	var sum time.Duration
	for i, s := range samples {
		first[i], total[i] = s.first, s.total
		sum += s.first
	}
	slices.Sort(first)
	slices.Sort(total)
	res.P50, res.P90, res.P99 = us(pct(first, .50)), us(pct(first, .90)), us(pct(first, .99))
	res.Max, res.Mean = us(first[len(first)-1]), us(sum/time.Duration(len(first)))
	if cfg.stream {
		res.TotalP50, res.TotalP99 = us(pct(total, .50)), us(pct(total, .99))
	}
	return res, nil
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// pct is the nearest-rank percentile of sorted s.
func pct(s []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// closed runs cfg.conns workers back to back.
func (r *runner) closed() ([]sample, time.Duration) {
	cfg := r.cfg
	startAt := time.Now()
	measureAt := startAt.Add(cfg.warmup)
	endAt := measureAt.Add(cfg.dur)
	var remaining atomic.Int64
	remaining.Store(int64(cfg.count))
	per := make([][]sample, cfg.conns)
	var wg sync.WaitGroup
	for w := range cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := r.request()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			out := make([]sample, 0, 4096)
			for {
				t0 := time.Now()
				measured := !t0.Before(measureAt)
				if measured {
					if cfg.count > 0 {
						if remaining.Add(-1) < 0 {
							break
						}
					} else if !t0.Before(endAt) {
						break
					}
				}
				s, ok := r.do(req, resp, t0)
				if ok && measured {
					out = append(out, s)
				}
			}
			per[w] = out
		}()
	}
	wg.Wait()
	elapsed := time.Since(measureAt)
	var all []sample
	for _, p := range per {
		all = append(all, p...)
	}
	return all, elapsed
}

// open sends at cfg.rate on a fixed schedule; latency counts from each
// request's scheduled time.
func (r *runner) open() ([]sample, time.Duration) {
	cfg := r.cfg
	interval := time.Duration(float64(time.Second) / cfg.rate)
	startAt := time.Now()
	measureAt := startAt.Add(cfg.warmup)
	endAt := measureAt.Add(cfg.dur)
	var mu sync.Mutex
	all := make([]sample, 0, int(cfg.rate*cfg.dur.Seconds())+16)
	lags := make([]time.Duration, 0, cap(all))
	var wg sync.WaitGroup
	// Timers on some kernels wake up to a millisecond late, more than the
	// latency measured: sleep only until shortly before the slot and spin
	// (yielding the CPU) the rest of the way. The spinning goroutine keeps
	// one P, so at least one other P runs the requests.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	for i := 0; ; i++ {
		at := startAt.Add(time.Duration(i) * interval)
		if !at.Before(endAt) {
			break
		}
		for {
			d := time.Until(at)
			if d <= 0 {
				break
			}
			if d > 2*time.Millisecond {
				time.Sleep(d - 2*time.Millisecond)
				continue
			}
			osYield()
		}
		wg.Add(1)
		go func(at time.Time) {
			defer wg.Done()
			lag := time.Since(at)
			req := r.request()
			resp := fasthttp.AcquireResponse()
			s, ok := r.do(req, resp, at)
			fasthttp.ReleaseRequest(req)
			fasthttp.ReleaseResponse(resp)
			if ok && !at.Before(measureAt) {
				mu.Lock()
				all = append(all, s)
				lags = append(lags, lag)
				mu.Unlock()
			}
		}(at)
		runtime.Gosched() // run the new request on this P now, not after an idle P wakes up
	}
	wg.Wait()
	if len(lags) > 0 {
		slices.Sort(lags)
		r.lagP50, r.lagP99 = us(pct(lags, .5)), us(pct(lags, .99))
	}
	return all, cfg.dur
}

func (r *runner) request() *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.SetRequestURI(r.cfg.url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	for _, h := range r.cfg.headers {
		req.Header.Set(h[0], h[1])
	}
	req.SetBody(r.cfg.body)
	return req
}

var dataPrefix = []byte("data:")

// do sends req and measures from t0: the full answer, or for streams the
// first chunk and the last byte.
// writeSamples writes one "start latency" line per sample, in start order.
func writeSamples(path string, samples []sample) error {
	sorted := slices.Clone(samples)
	slices.SortFunc(sorted, func(a, b sample) int { return a.at.Compare(b.at) })
	var b bytes.Buffer
	for _, s := range sorted {
		fmt.Fprintf(&b, "%d %d\n", s.at.UnixMicro(), s.first.Microseconds())
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("-samples: %w", err)
	}
	return nil
}

func (r *runner) do(req *fasthttp.Request, resp *fasthttp.Response, t0 time.Time) (sample, bool) {
	resp.Reset()
	if err := r.client.DoTimeout(req, resp, r.cfg.timeout); err != nil {
		r.fail(err.Error())
		return sample{}, false
	}
	if !r.cfg.stream {
		d := time.Since(t0)
		if resp.StatusCode() != 200 {
			r.fail(fmt.Sprintf("status %d: %.200s", resp.StatusCode(), resp.Body()))
			return sample{}, false
		}
		return sample{at: t0, first: d, total: d}, true
	}
	defer func() { _ = resp.CloseBodyStream() }()
	if resp.StatusCode() != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.BodyStream(), 200))
		r.fail(fmt.Sprintf("status %d: %s", resp.StatusCode(), b))
		return sample{}, false
	}
	body := resp.BodyStream()
	if body == nil {
		r.fail("stream: no body")
		return sample{}, false
	}
	var buf [4096]byte
	var seen []byte
	var first time.Duration
	for first == 0 {
		n, err := body.Read(buf[:])
		seen = append(seen, buf[:n]...)
		if bytes.Contains(seen, dataPrefix) {
			first = time.Since(t0)
		}
		if err != nil {
			if first == 0 {
				r.fail(fmt.Sprintf("stream ended before the first chunk: %v", err))
				return sample{}, false
			}
			return sample{at: t0, first: first, total: time.Since(t0)}, true
		}
	}
	if _, err := io.CopyBuffer(io.Discard, body, buf[:]); err != nil {
		r.fail("stream: " + err.Error())
		return sample{}, false
	}
	return sample{at: t0, first: first, total: time.Since(t0)}, true
}

func (r *runner) fail(msg string) {
	if r.errs.Add(1) == 1 {
		r.errMu.Lock()
		r.first = msg
		r.errMu.Unlock()
	}
}
