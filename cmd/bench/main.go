// Command bench is `task bench`: it builds the gateway, cmd/fakeupstream and
// cmd/loadgen, starts the fake upstream and the gateway in front of it on
// loopback, sends the same load directly and through the gateway in
// interleaved rounds, and prints one table. With two or more cores and
// taskset, the gateway runs alone on CPU 0 and the fake upstream and the
// load generator share CPU 1.
//
//	go run ./cmd/bench                   # defaults: 2 rounds of 3 s per measurement
//	go run ./cmd/bench -rounds 5 -dur 10s -profile /tmp/prof
//	go run ./cmd/bench -large=false      # skip the 10,000-team configuration
//
// Anthropic: the bench team has a second deployment, bench-claude
// (model anthropic/claude-fake on the fake upstream's POST /v1/messages).
// In the same interleaved rounds the bench measures chat calls to it,
// which the gateway translates to Anthropic's API and back (requests/s,
// latency at one connection and the stream's first chunk against the
// fake upstream's /v1/messages called directly, and the gateway's CPU
// time per translated request against a pass-through one: target
// <= 1.5x), and the gateway's own POST /v1/messages passed through to
// it. A build without the anthropic provider cannot load bench-claude:
// the bench then runs on the configuration without it and prints the
// Anthropic rows as skipped, with the reason below the table.
//
// Before and after in one run: -baseline BINARY runs an older gateway
// build next to the one being built, on the same configuration, fake
// upstream and load, alternating which of the two goes first in each
// round, and prints a second table: requests/s, CPU per request and
// added latency of both, with the ratio new / baseline (target: within
// 5%), both of the medians over rounds and paired (the geometric mean
// of each round's ratio, which the drift between rounds does not move,
// and which cancels the order within a round: see pairedRatio). Build
// the baseline from the commit to compare with:
//
//	git worktree add /tmp/base <commit>
//	(cd /tmp/base && go build -o /tmp/gw-base ./cmd/gateway)
//	go run ./cmd/bench -baseline /tmp/gw-base -large=false
//
// Each round's ratio moves a lot on a shared machine (the same build
// against itself: by 10-20% from round to round), so the table also
// gives the middle half of the rounds' ratios, and -compare runs only
// the rows of that table (direct, the new build and the baseline; no
// Anthropic, bare proxy, router or large runs), which fits about four
// times as many rounds in the same time:
//
//	go run ./cmd/bench -baseline /tmp/gw-base -compare -rounds 24 -dur 2s
//
// The baseline is started with the command line every build since the
// bench exists understands (serve --config --teams-dir --models-dir
// --state-dir --addr) and the one-team configuration of this file
// without bench-claude (an older build has no anthropic provider); its
// table compares the pass-through rows only.
//
// It needs only Go (and taskset from util-linux for pinning). It stops
// every process it started by its PID, also on Ctrl-C.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	masterKey = "sk-bench-master-key"
	teamKey   = "sk-bench-team-key"
	modelName = "bench-model"
)

type options struct {
	dur       time.Duration
	warmup    time.Duration
	rounds    int
	conns     int
	rate      float64
	small     bool
	large     bool
	teams     int
	deps      int
	profile   string
	keep      bool
	noPin     bool
	verbose   bool
	profRound int
	reloadTO  time.Duration
	baseline  string
	compare   bool // -compare: only the rows of the baseline table
}

func main() {
	var o options
	flag.DurationVar(&o.dur, "dur", 3*time.Second, "measured duration of each load run")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up before each load run")
	flag.IntVar(&o.rounds, "rounds", 2, "interleaved rounds (direct, gateway, direct, gateway, ...)")
	flag.IntVar(&o.conns, "c", 32, "connections of the throughput run")
	flag.Float64Var(&o.rate, "rate", 1000, "requests per second of the fixed-rate run")
	flag.BoolVar(&o.small, "small", true, "run the one-team comparison with the direct upstream (-small=false: only the large configuration)")
	flag.BoolVar(&o.large, "large", true, "also run the large configuration")
	flag.IntVar(&o.teams, "teams", 10000, "teams in the large configuration")
	flag.IntVar(&o.deps, "deployments", 5, "deployments per team in the large configuration")
	flag.StringVar(&o.profile, "profile", "", "directory for pprof profiles of the gateway under load (cpu, allocs, heap; cpu-baseline with -baseline)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, logs, binaries)")
	flag.BoolVar(&o.noPin, "no-pin", false, "do not pin processes to CPUs")
	flag.BoolVar(&o.verbose, "v", false, "print each run (and the CPU time per request of each throughput run)")
	flag.IntVar(&o.profRound, "profile-round", 1, "the round whose throughput runs -profile profiles")
	flag.DurationVar(&o.reloadTO, "reload-timeout", 5*time.Second, "how long to wait for a changed team file to go live")
	flag.StringVar(&o.baseline, "baseline", "", "an older gateway binary to measure in the same run, interleaved with the new build (one-team runs only)")
	flag.BoolVar(&o.compare, "compare", false, "with -baseline: each round runs only direct, the new build and the baseline (the baseline table's rows), so that many more rounds fit in the same time")
	flag.Parse()
	if o.compare && o.baseline == "" {
		fmt.Fprintln(os.Stderr, "bench: -compare needs -baseline")
		os.Exit(2)
	}
	if o.compare {
		o.large = false
	}
	if o.baseline != "" && !o.small {
		fmt.Fprintln(os.Stderr, "bench: -baseline compares the one-team runs; it needs -small (the default)")
		os.Exit(2)
	}

	b := &bench{o: o}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b.ctx = ctx
	err := b.run()
	b.stopAll()
	if !o.keep && b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
	} else if b.tmp != "" {
		fmt.Fprintf(os.Stderr, "kept %s\n", b.tmp)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

type bench struct {
	o   options
	ctx context.Context
	tmp string
	bin string

	pinGW, pinLoad []string // command prefixes (taskset) or nil

	mu    sync.Mutex
	procs []*started

	upstream string // http://host:port

	baseTable *table // -baseline: new build vs baseline
	baseInfo  string // the baseline binary and its version

	notes []string // printed below the tables (rows skipped and why)
}

// started is a process the bench started; done closes when it exited.
type started struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// proc is a started gateway or upstream.
type proc struct {
	*started
	addr string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func (b *bench) run() error {
	var err error
	b.tmp, err = os.MkdirTemp("", "gateway-bench-")
	if err != nil {
		return err
	}
	b.bin = filepath.Join(b.tmp, "bin")
	if err := b.build(); err != nil {
		return err
	}
	if b.o.baseline != "" {
		if err := b.linkBaseline(); err != nil {
			return err
		}
	}
	pinned := "no (one core, or -no-pin)"
	if _, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() >= 2 && !b.o.noPin {
		b.pinGW = []string{"taskset", "-c", "0"}
		b.pinLoad = []string{"taskset", "-c", "1"}
		pinned = "gateway on CPU 0; fake upstream and load generator on CPU 1"
	} else if err != nil && runtime.NumCPU() >= 2 && !b.o.noPin {
		pinned = "no (taskset not found)"
	}
	b.logf("bench: %d CPUs; pinning: %s; %d rounds of %s (+%s warm-up)", runtime.NumCPU(), pinned, b.o.rounds, b.o.dur, b.o.warmup)

	up, err := b.startUpstream()
	if err != nil {
		return err
	}
	b.upstream = up.addr

	t := &table{}
	t.head("measurement", "direct", "gateway", "gateway vs direct", "target")
	var smallC1 []*result
	if b.o.small {
		if smallC1, err = b.smallRun(t); err != nil {
			return err
		}
	}
	if b.o.large {
		if err := b.largeRun(t, smallC1); err != nil {
			return err
		}
	}
	if !b.o.compare {
		fmt.Println()
		t.print(os.Stdout)
	}
	if b.baseTable != nil {
		fmt.Printf("\nnew build vs baseline (%s), same run, alternating order:\n\n", b.baseInfo)
		b.baseTable.print(os.Stdout)
		fmt.Println("new / baseline: ratio of the medians over rounds (CPU: of the totals); paired: the geometric mean over rounds of each round's ratio;")
		fmt.Println("middle half: the 25th to 75th percentile of the rounds' ratios (their spread)")
	}
	for _, n := range b.notes {
		fmt.Printf("\nnote: %s\n", n)
	}
	fmt.Printf("\ncommand: go run ./cmd/bench %s\n", strings.Join(os.Args[1:], " "))
	fmt.Printf("latency cells: p50 / p99; added = gateway minus direct, medians over %d rounds; %s each run (+%s warm-up)\n", b.o.rounds, b.o.dur, b.o.warmup)
	if b.o.profile != "" {
		fmt.Printf("profiles in %s (go tool pprof -top %s/cpu.pprof)\n", b.o.profile, b.o.profile)
	}
	return nil
}

// Targets of the one-team runs (indices into smallRun's per-target
// results).
const (
	tDirect    = iota // the fake upstream's chat API, directly
	tGW               // the gateway, pass-through (openai/ deployment)
	tBare             // the bare proxy (the floor)
	tBase             // -baseline: the older build, pass-through
	tMsgDirect        // the fake upstream's Anthropic API, directly
	tTrans            // the gateway, chat translated to Anthropic
	tNative           // the gateway's /v1/messages, passed through to Anthropic
	tGroup            // the gateway, a group of three deployments, one of them down
	nTargets
)

// smallRun compares the fake upstream called directly, the gateway with
// one team (metrics on and off) and the bare proxy, in interleaved rounds;
// with the anthropic provider in the build, also chat calls translated to
// Anthropic's API and /v1/messages passed through, against the fake
// upstream's Anthropic API called directly. It returns the gateway's
// runs at one connection.
func (b *bench) smallRun(t *table) ([]*result, error) {
	small := filepath.Join(b.tmp, "small")         // with bench-claude
	passOnly := filepath.Join(b.tmp, "small-base") // without: the baseline's
	if err := writeSmallConfig(small, b.upstream, true); err != nil {
		return nil, err
	}
	if err := writeSmallConfig(passOnly, b.upstream, false); err != nil {
		return nil, err
	}
	// The Anthropic rows run when this build loads bench-claude and
	// answers through it; otherwise they are skipped, saying why.
	skipAnthropic, skipNative := "", ""
	gw, _, err := b.startGateway(small, "gw", "gateway", true)
	if err != nil {
		skipAnthropic = fmt.Sprintf("the gateway did not start with the %s deployment: %s", claudeName, firstError(b.gwLog("gw")))
		if !strings.Contains(skipAnthropic, "anthropic") {
			skipAnthropic += " (" + err.Error() + ")"
		}
		small = passOnly
		if gw, _, err = b.startGateway(small, "gw-passonly", "gateway", true); err != nil {
			return nil, err
		}
		skipNative = skipAnthropic
	} else {
		skipAnthropic, skipNative = probeAnthropic(b.upstream+"/v1/messages", "http://"+gw.addr)
	}
	anthropic, native := skipAnthropic == "", skipNative == ""
	if b.o.compare {
		anthropic, native = false, false // -compare: the baseline table's rows only
	} else if !anthropic {
		b.logf("bench: SKIPPING the anthropic-translated rows: %s (is the anthropic provider in this build?)", skipAnthropic)
	} else if !native {
		b.logf("bench: SKIPPING the /v1/messages pass-through rows: %s", skipNative)
	}
	var gwOff, bare *proc // not with -compare
	if !b.o.compare {
		if gwOff, _, err = b.startGateway(small, "gw-nometrics", "gateway", false); err != nil {
			return nil, err
		}
		if bare, err = b.startBareProxy(); err != nil {
			return nil, err
		}
	}
	var base *proc // -baseline: the older build
	if b.o.baseline != "" {
		if base, _, err = b.startGateway(passOnly, "gw-baseline", baselineName, true); err != nil {
			return nil, err
		}
	}

	gwBase := "http://" + gw.addr
	gwURL := gwBase + "/v1/chat/completions"
	c := strconv.Itoa(b.o.conns)
	rate := strconv.FormatFloat(b.o.rate, 'f', -1, 64)

	// Each target: its URL, its loadgen arguments besides the load shape
	// (nil: the team key and bench-model's chat body) and the PID whose CPU
	// time it measures (0: none).
	var (
		urls [nTargets]string
		args [nTargets][]string
		pids [nTargets]int
	)
	urls[tDirect] = b.upstream + "/v1/chat/completions"
	urls[tGW], pids[tGW] = gwURL, gw.cmd.Process.Pid
	offURL := ""
	if !b.o.compare {
		urls[tBare] = bare.addr + "/v1/chat/completions"
		offURL = "http://" + gwOff.addr + "/v1/chat/completions"
	}
	if base != nil {
		urls[tBase], pids[tBase] = "http://"+base.addr+"/v1/chat/completions", base.cmd.Process.Pid
	}
	urls[tMsgDirect], args[tMsgDirect] = b.upstream+"/v1/messages", directMessagesArgs()
	urls[tTrans], args[tTrans], pids[tTrans] = gwURL, translatedArgs(), gw.cmd.Process.Pid
	urls[tNative], args[tNative], pids[tNative] = gwBase+"/v1/messages", nativeMessagesArgs(), gw.cmd.Process.Pid
	urls[tGroup], args[tGroup], pids[tGroup] = gwURL, []string{"-key", teamKey, "-model", groupName}, gw.cmd.Process.Pid
	load := func(i int, shape ...string) (*result, error) {
		return b.load(urls[i], append(slices.Clone(args[i]), shape...)...)
	}

	var (
		tput, c1, fixed [nTargets][]*result
		stream          [nTargets][]*result
		metricsOnOff    [2][]*result
		cpuTicks        [nTargets]int64
		cpuReqs         [nTargets]float64
		cpuRound        [nTargets][]float64 // µs per request, each round's
	)
	for round := 1; round <= b.o.rounds; round++ {
		b.logf("round %d/%d", round, b.o.rounds)
		// The new build and the baseline run back to back, and take turns
		// going first, so that drift on a shared machine hits both alike.
		// The translated calls (same gateway, same CPU counter as
		// pass-through) take turns going before and after that pair.
		order := []int{tDirect, tGW, tBare}
		if base != nil {
			order = []int{tDirect, tGW, tBase, tBare}
			if round%2 == 0 {
				order = []int{tDirect, tBase, tGW, tBare}
			}
			if b.o.compare {
				order = order[:3]
			}
		}
		if anthropic {
			if round%2 == 1 {
				order = slices.Insert(order, len(order)-1, tTrans) // after the pair
			} else {
				order = slices.Insert(order, 1, tTrans) // before it
			}
			order = append(order, tMsgDirect)
			if native {
				order = append(order, tNative)
			}
			order = append(order, tGroup) // the same build: it has the router
		}
		for _, i := range order {
			var before int64
			if pids[i] != 0 {
				before = cpuTime(pids[i])
			}
			var prof func() error
			if round == b.o.profRound && b.o.profile != "" {
				switch i {
				case tGW:
					prof = b.profileCPU(gw.addr, "cpu")
				case tBase:
					prof = b.profileCPU(base.addr, "cpu-baseline")
				}
			}
			r, err := load(i, "-c", c)
			if err != nil {
				return nil, err
			}
			if prof != nil {
				if err := prof(); err != nil {
					b.logf("cpu profile: %v", err)
				}
			}
			if pids[i] != 0 {
				ticks, reqs := cpuTime(pids[i])-before, float64(r.Requests)+r.RPS*b.o.warmup.Seconds()
				cpuTicks[i] += ticks
				cpuReqs[i] += reqs
				if reqs > 0 {
					cpuRound[i] = append(cpuRound[i], float64(ticks)*1e6/clkTck/reqs)
					if b.o.verbose {
						b.logf("  round %d target %d: %.1fµs CPU per request", round, i, cpuRound[i][len(cpuRound[i])-1])
					}
				}
			}
			tput[i] = append(tput[i], r)
		}
		for _, i := range order {
			r, err := load(i, "-c", "1")
			if err != nil {
				return nil, err
			}
			c1[i] = append(c1[i], r)
		}
		for _, i := range order {
			if i >= tMsgDirect {
				continue // no fixed-rate rows for Anthropic and the group
			}
			r, err := load(i, "-rate", rate)
			if err != nil {
				return nil, err
			}
			fixed[i] = append(fixed[i], r)
		}
		for _, i := range order {
			if i == tBare || i == tNative || i == tGroup {
				continue // no stream rows for the bare proxy, /v1/messages and the group
			}
			r, err := load(i, "-c", "1", "-stream")
			if err != nil {
				return nil, err
			}
			stream[i] = append(stream[i], r)
		}
		for i, url := range []string{gwURL, offURL} {
			if b.o.compare {
				break // no metrics-off gateway with -compare
			}
			r, err := b.load(url, "-c", c)
			if err != nil {
				return nil, err
			}
			metricsOnOff[i] = append(metricsOnOff[i], r)
		}
	}
	if b.o.profile != "" {
		for _, p := range []string{"allocs", "heap"} {
			if err := b.fetchProfile(gw.addr, p, "", p); err != nil {
				b.logf("%s profile: %v", p, err)
			}
		}
	}
	hwm := procStatusKB(gw.cmd.Process.Pid, "VmHWM")
	cpuPer := func(i int) float64 {
		if cpuReqs[i] <= 0 {
			return 0
		}
		return float64(cpuTicks[i]) * 1e6 / clkTck / cpuReqs[i]
	}
	// baseRows fills the baseline table (with -baseline) and stops the
	// baseline.
	baseRows := func() {
		if base == nil {
			return
		}
		bt := &table{}
		bt.head("measurement", "baseline", "new", "new / baseline", "paired", "middle half", "target")
		br, nr := med(tput[tBase], rps), med(tput[tGW], rps)
		bt.row(fmt.Sprintf("requests/s at %s connections", c), f0(br), f0(nr), ratio(nr, br),
			pctPaired(pairedRatio(values(tput[tGW], rps), values(tput[tBase], rps))),
			middleHalf(values(tput[tGW], rps), values(tput[tBase], rps)), ">= 95%")
		bc, nc := cpuPer(tBase), cpuPer(tGW)
		bt.row(fmt.Sprintf("CPU time per request at %s connections", c), us1(bc), us1(nc), ratio(nc, bc),
			pctPaired(pairedRatio(cpuRound[tGW], cpuRound[tBase])), middleHalf(cpuRound[tGW], cpuRound[tBase]), "<= 105%")
		bt.addedRows("added latency at 1 connection", c1[tDirect], c1[tBase], c1[tGW])
		bt.addedRows(fmt.Sprintf("added latency at fixed %s req/s", rate), fixed[tDirect], fixed[tBase], fixed[tGW])
		bt.addedRows("stream: added time to the first chunk", stream[tDirect], stream[tBase], stream[tGW])
		bh := procStatusKB(base.cmd.Process.Pid, "VmHWM")
		bt.row("peak RSS (VmHWM)", mb(bh), mb(hwm), ratio(float64(hwm), float64(bh)), "", "", "")
		b.baseTable = bt
		base.stop(b)
	}
	if b.o.compare {
		baseRows()
		gw.stop(b)
		return c1[tGW], nil
	}
	hwmOff := procStatusKB(gwOff.cmd.Process.Pid, "VmHWM")

	dr, gr := med(tput[tDirect], rps), med(tput[tGW], rps)
	t.row(fmt.Sprintf("requests/s at %s connections", c), f0(dr), f0(gr), pctS(gr/dr)+" of direct", ">= 50%")
	t.latRows("latency at 1 connection", [2][]*result{c1[tDirect], c1[tGW]}, "")
	t.latRows(fmt.Sprintf("latency at fixed %s req/s", rate), [2][]*result{fixed[tDirect], fixed[tGW]}, "+100µs / +1000µs")
	t.latRows("stream: first chunk at 1 connection", [2][]*result{stream[tDirect], stream[tGW]}, "+1000µs")
	t.row("peak RSS of the gateway (VmHWM)", "", mb(hwm), fmt.Sprintf("metrics off: %s", mb(hwmOff)), "<= 64 MB")
	t.row(fmt.Sprintf("CPU time per request at %s connections", c), "", us1(cpuPer(tGW)), "utime+stime / requests", "")
	on, off := med(metricsOnOff[0], rps), med(metricsOnOff[1], rps)
	t.row(fmt.Sprintf("requests/s at %s conns, metrics on / off", c), "", f0(on)+" / "+f0(off), pctS(on/off)+" with metrics", ">= ~95%")

	// Anthropic: translated chat and /v1/messages pass-through, against the
	// fake upstream's Anthropic API called directly (the "direct" column)
	// and the pass-through rows above.
	t.sep()
	if !anthropic {
		t.row("anthropic-translated rows", "", "skipped", "see the note below the table", "")
		b.notes = append(b.notes, "anthropic-translated rows skipped: "+skipAnthropic)
	} else {
		added := func(rs []*result, direct []*result) string {
			return fmt.Sprintf("pass-through: added %+.0f / %+.0fµs", med(rs, p50)-med(direct, p50), med(rs, p99)-med(direct, p99))
		}
		mr, tr := med(tput[tMsgDirect], rps), med(tput[tTrans], rps)
		t.row(fmt.Sprintf("anthropic-translated: requests/s at %s conns", c), f0(mr), f0(tr),
			of(tr, mr)+" of direct; pass-through "+f0(gr)+" ("+of(tr, gr)+")", "")
		t.latRows("anthropic-translated: latency at 1 connection", [2][]*result{c1[tMsgDirect], c1[tTrans]}, added(c1[tGW], c1[tDirect]))
		t.latRows("anthropic-translated stream: first chunk", [2][]*result{stream[tMsgDirect], stream[tTrans]}, added(stream[tGW], stream[tDirect]))
		t.row("CPU time per request: translated / pass-through", "", us1(cpuPer(tTrans))+" / "+us1(cpuPer(tGW)),
			times(cpuPer(tTrans), cpuPer(tGW)), "<= 1.5x")
		if native {
			nr := med(tput[tNative], rps)
			t.row(fmt.Sprintf("/v1/messages pass-through: requests/s at %s conns", c), f0(mr), f0(nr), of(nr, mr)+" of direct", "")
			t.latRows("/v1/messages pass-through: latency at 1 connection", [2][]*result{c1[tMsgDirect], c1[tNative]}, "")
			t.row("CPU time per request: /v1/messages / chat pass-through", "", us1(cpuPer(tNative))+" / "+us1(cpuPer(tGW)),
				times(cpuPer(tNative), cpuPer(tGW)), "")
		} else {
			t.row("/v1/messages pass-through rows", "", "skipped", "see the note below the table", "")
			b.notes = append(b.notes, "/v1/messages pass-through rows skipped: "+skipNative)
		}
	}

	// The router: a group of three deployments of which one is down
	// (connection refused: it cools down after allowed_fails, and again
	// whenever its cooldown ends), against the one-deployment rows.
	if anthropic {
		t.sep()
		gr3 := med(tput[tGroup], rps)
		t.row(fmt.Sprintf("group of 3, one down: requests/s at %s conns", c), "", f0(gr3), of(gr3, gr)+" of one deployment", "")
		t.latRows("group of 3, one down: latency at 1 connection", [2][]*result{c1[tDirect], c1[tGroup]},
			fmt.Sprintf("one deployment: added %+.0f / %+.0fµs", med(c1[tGW], p50)-med(c1[tDirect], p50), med(c1[tGW], p99)-med(c1[tDirect], p99)))
		t.row("CPU time per request: group of 3 / one deployment", "", us1(cpuPer(tGroup))+" / "+us1(cpuPer(tGW)),
			times(cpuPer(tGroup), cpuPer(tGW)), "")
	}

	// The floor: what a proxy with no logic reaches in the same rig.
	t.sep()
	br := med(tput[tBare], rps)
	t.row(fmt.Sprintf("floor: bare fasthttp proxy, requests/s at %s conns", c), f0(dr), f0(br), pctS(br/dr)+" of direct", "gateway: "+pctS(gr/br)+" of it")
	t.latRows("floor: bare proxy latency at 1 connection", [2][]*result{c1[tDirect], c1[tBare]}, "")
	t.latRows(fmt.Sprintf("floor: bare proxy latency at fixed %s req/s", rate), [2][]*result{fixed[tDirect], fixed[tBare]}, "")

	baseRows()
	gw.stop(b)
	gwOff.stop(b)
	bare.stop(b)
	return c1[tGW], nil
}

// groupName is the team's name for a group of three deployments: two on
// the fake upstream, one on a port nothing listens on.
const groupName = "bench-group"

func groupDeployments(upstream string) string {
	out := ""
	for i, base := range []string{upstream + "/v1", upstream + "/v1", "http://127.0.0.1:1/v1"} {
		out += fmt.Sprintf(`  - model_name: model_name_bench_group_%d
    litellm_params:
      model: openai/gpt-fake
      api_base: %s
    model_info:
      id: bench-group-%d
      team_id: bench
      team_public_model_name: %s
`, i, base, i, groupName)
	}
	return out
}

// baselineName is the -baseline binary's link in the bench's bin
// directory.
const baselineName = "gateway-baseline"

// linkBaseline links the -baseline binary into the bin directory (so it
// starts like the other programs) and records its version.
func (b *bench) linkBaseline() error {
	abs, err := filepath.Abs(b.o.baseline)
	if err != nil {
		return err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("-baseline: %w", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("-baseline %s is not an executable gateway binary (build one: go build -o /tmp/gw-base ./cmd/gateway in a worktree of the old commit)", abs)
	}
	if err := os.Symlink(abs, filepath.Join(b.bin, baselineName)); err != nil {
		return err
	}
	b.baseInfo = abs
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, abs, "version").Output(); err == nil {
		b.baseInfo += ", " + strings.TrimSpace(string(out))
	}
	return nil
}

// ratio is new / baseline as a percentage.
func ratio(nw, base float64) string {
	if base <= 0 || nw <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", nw/base*100)
}

func us1(v float64) string {
	if v <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fµs", v)
}

// largeRun measures the gateway with o.teams teams of o.deps deployments.
func (b *bench) largeRun(t *table, smallC1 []*result) error {
	dir := filepath.Join(b.tmp, "large")
	b.logf("large configuration: generating %d teams x %d deployments", b.o.teams, b.o.deps)
	if err := writeLargeConfig(dir, b.upstream, b.o.teams, b.o.deps); err != nil {
		return err
	}
	gw, startup, err := b.startGateway(dir, "gw-large", "gateway", true)
	if err != nil {
		return err
	}
	defer gw.stop(b)
	rssStart := procStatusKB(gw.cmd.Process.Pid, "VmRSS")
	hwmStart := procStatusKB(gw.cmd.Process.Pid, "VmHWM")
	pick := b.o.teams / 2
	key := largeKey(pick)
	model := fmt.Sprintf("model-%d", b.o.deps-1)
	url := "http://" + gw.addr + "/v1/chat/completions"
	var c1 []*result
	for range b.o.rounds {
		r, err := b.load(url, "-c", "1", "-key", key, "-model", model)
		if err != nil {
			return err
		}
		c1 = append(c1, r)
	}
	r32, err := b.load(url, "-c", strconv.Itoa(b.o.conns), "-key", key, "-model", model)
	if err != nil {
		return err
	}
	hwm := procStatusKB(gw.cmd.Process.Pid, "VmHWM")
	live := b.reloadLatency(dir, gw.addr, b.o.teams/3, model)

	name := fmt.Sprintf("%d teams x %d deployments", b.o.teams, b.o.deps)
	t.sep()
	t.row(name+": start-up (exec to ready)", "", fmt.Sprintf("%.2fs", startup.Seconds()), "", "<= 3 s")
	t.row(name+": RSS after start / peak", "", mb(rssStart)+" / "+mb(hwm), fmt.Sprintf("peak at start-up %s", mb(hwmStart)), "<= 256 MB")
	vs := "n/a (-small=false)"
	if len(smallC1) > 0 {
		vs = fmt.Sprintf("%+.0fµs / %+.0fµs vs one team", med(c1, p50)-med(smallC1, p50), med(c1, p99)-med(smallC1, p99))
	}
	t.row(name+": latency at 1 connection", "one team: "+ms2(smallC1), ms2(c1), vs, "same as one team")
	t.row(name+fmt.Sprintf(": requests/s at %d conns", b.o.conns), "", f0(r32.RPS), "", "")
	t.row(name+": changed team file live", "", live, "edit -> new key answers 200", "<= 500 ms")
	return nil
}

// reloadLatency adds a key to one team's file and measures how long until
// the key is accepted. Without hot reload it answers "n/a".
func (b *bench) reloadLatency(dir, addr string, team int, model string) string {
	path := filepath.Join(dir, "teams.d", fmt.Sprintf("team-%05d.yaml", team))
	newKey := fmt.Sprintf("sk-bench-new-%05d", team)
	old, err := os.ReadFile(path)
	if err != nil {
		return "n/a (" + err.Error() + ")"
	}
	url := "http://" + addr + "/v1/chat/completions"
	body := []byte(`{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`)
	client := &http.Client{Timeout: 2 * time.Second}
	try := func() int {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+newKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := try(); st != 401 {
		return fmt.Sprintf("n/a (the new key answered %d before the change)", st)
	}
	changed := append(bytes.Clone(old), []byte(fmt.Sprintf("  - token: %s\n    key_alias: bench-new\n", sha256hex(newKey)))...)
	tmp := path + ".tmp"
	tmp = filepath.Join(filepath.Dir(path), "."+filepath.Base(tmp)) // dot files are skipped
	if err := os.WriteFile(tmp, changed, 0o644); err != nil {
		return "n/a (" + err.Error() + ")"
	}
	start := time.Now()
	if err := os.Rename(tmp, path); err != nil {
		return "n/a (" + err.Error() + ")"
	}
	deadline := start.Add(b.o.reloadTO)
	for time.Now().Before(deadline) {
		if try() == 200 {
			return fmt.Sprintf("%.0f ms", float64(time.Since(start).Microseconds())/1e3)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Sprintf("n/a (not live after %s: no hot reload in this build?)", b.o.reloadTO)
}

func (b *bench) build() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	b.logf("bench: building gateway, fakeupstream, loadgen, bareproxy into %s", b.bin)
	for _, p := range []string{"gateway", "fakeupstream", "loadgen", "bareproxy"} {
		cmd := exec.CommandContext(b.ctx, "go", "build", "-o", filepath.Join(b.bin, p), "./cmd/"+p)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s: %w", p, err)
		}
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run bench from inside the gateway module")
	}
	return filepath.Dir(mod), nil
}

// start runs a command with an optional CPU-pinning prefix and records it
// so that stopAll can stop it by PID.
func (b *bench) start(pin []string, logName string, name string, args ...string) (*started, io.Reader, error) {
	argv := append(append(slices.Clone(pin), filepath.Join(b.bin, name)), args...)
	cmd := exec.Command(argv[0], argv[1:]...) // taskset execs the program: same PID
	cmd.Env = append(os.Environ(), "GATEWAY_MASTER_KEY="+masterKey, upstreamKeyEnv+"="+upstreamKey)
	logf, err := os.Create(filepath.Join(b.tmp, logName+".log"))
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = logf
	var stdout io.Reader
	if name == "fakeupstream" || name == "bareproxy" {
		stdout, err = cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
	} else {
		cmd.Stdout = logf
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", name, err)
	}
	st := &started{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(st.done)
	}()
	b.procs = append(b.procs, st)
	return st, stdout, nil
}

func (b *bench) startUpstream() (*proc, error) {
	return b.startListener(b.pinLoad, "fakeupstream", "-addr", "127.0.0.1:0")
}

// startBareProxy starts the floor: a fasthttp proxy with no logic in front
// of the fake upstream, pinned like the gateway.
func (b *bench) startBareProxy() (*proc, error) {
	return b.startListener(b.pinGW, "bareproxy", "-addr", "127.0.0.1:0", "-upstream", b.upstream)
}

// startListener starts a program that prints "listening <url>" on stdout
// once it accepts connections.
func (b *bench) startListener(pin []string, name string, args ...string) (*proc, error) {
	st, out, err := b.start(pin, name, name, args...)
	if err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() && strings.HasPrefix(s.Text(), "listening ") {
			line <- strings.TrimPrefix(s.Text(), "listening ")
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case addr := <-line:
		b.logf("%s pid %d at %s", name, st.cmd.Process.Pid, addr)
		return &proc{started: st, addr: addr}, nil
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("%s did not start in 10 s", name)
	}
}

// startGateway starts a gateway (bin: "gateway" or baselineName) on dir's
// configuration and waits for GET /health/readiness to answer 200; it
// returns the time from start to ready. Only flags that every build
// understands are passed (the baseline may be old).
func (b *bench) startGateway(dir, name, bin string, withMetrics bool) (*proc, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	args := []string{"serve",
		"--config", filepath.Join(dir, "gateway.yaml"),
		"--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"),
		"--state-dir", filepath.Join(dir, ".gateway-"+name),
		"--addr", addr,
	}
	if !withMetrics {
		args = append(args, "--metrics=false")
	}
	t0 := time.Now()
	st, _, err := b.start(b.pinGW, name, bin, args...)
	if err != nil {
		return nil, 0, err
	}
	cmd, exited := st.cmd, st.done
	p := &proc{started: st, addr: addr}
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			return nil, 0, fmt.Errorf("gateway %s exited at start-up; see %s", name, filepath.Join(b.tmp, name+".log"))
		case <-b.ctx.Done():
			return nil, 0, b.ctx.Err()
		default:
		}
		if resp, err := client.Get("http://" + addr + "/health/readiness"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				d := time.Since(t0)
				b.logf("gateway %s pid %d at %s ready after %s", name, cmd.Process.Pid, addr, d.Round(time.Millisecond))
				return p, d, nil
			}
		}
		if time.Since(t0) > 2*time.Minute {
			return nil, 0, fmt.Errorf("gateway %s not ready after 2 minutes", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *proc) stop(b *bench) {
	b.mu.Lock()
	defer b.mu.Unlock()
	stopProc(p.started)
	b.procs = slices.DeleteFunc(b.procs, func(c *started) bool { return c == p.started })
}

// stopAll stops every process the bench started, by PID.
func (b *bench) stopAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.procs {
		stopProc(c)
	}
	b.procs = nil
}

// stopProc sends SIGTERM to the process by its PID and, if it has not
// exited after 5 s, SIGKILL.
func stopProc(p *started) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// result is loadgen's -json output.
type result struct {
	Requests   int     `json:"requests"`
	Errors     int64   `json:"errors"`
	FirstErr   string  `json:"first_error"`
	RPS        float64 `json:"rps"`
	P50        float64 `json:"p50_us"`
	P90        float64 `json:"p90_us"`
	P99        float64 `json:"p99_us"`
	Max        float64 `json:"max_us"`
	SendLagP99 float64 `json:"send_lag_p99_us"`
}

// load runs the load generator against url (with the team key) and returns
// its result.
func (b *bench) load(url string, args ...string) (*result, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	hasKey := slices.Contains(args, "-key")
	all := []string{"-url", url, "-d", b.o.dur.String(), "-warmup", b.o.warmup.String(), "-json"}
	if !hasKey {
		all = append(all, "-key", teamKey, "-model", modelName)
	}
	all = append(all, args...)
	argv := append(append(slices.Clone(b.pinLoad), filepath.Join(b.bin, "loadgen")), all...)
	cmd := exec.CommandContext(b.ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("loadgen %s: %v: %s", strings.Join(all, " "), err, stderr.String())
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("loadgen output: %v: %s", err, out)
	}
	if r.Errors > 0 {
		b.logf("  warning: %d errors against %s (first: %s)", r.Errors, url, r.FirstErr)
	}
	if b.o.verbose {
		b.logf("  %-50s %-28s %8.0f req/s  p50 %6.0fµs  p99 %6.0fµs", url, strings.Join(args, " "), r.RPS, r.P50, r.P99)
	}
	return &r, nil
}

// profileCPU starts fetching a CPU profile of the gateway for the coming
// load run; the returned function waits for it.
// It is saved as file.pprof.
func (b *bench) profileCPU(addr, file string) func() error {
	secs := max(1, int((b.o.warmup+b.o.dur).Seconds())-1)
	done := make(chan error, 1)
	go func() { done <- b.fetchProfile(addr, "profile", "seconds="+strconv.Itoa(secs), file) }()
	return func() error { return <-done }
}

func (b *bench) fetchProfile(addr, name, query, file string) error {
	if err := os.MkdirAll(b.o.profile, 0o755); err != nil {
		return err
	}
	url := "http://" + addr + "/debug/pprof/" + name
	if query != "" {
		url += "?" + query
	}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+masterKey)
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, msg)
	}
	f, err := os.Create(filepath.Join(b.o.profile, file+".pprof"))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// --- /proc readers (Linux; elsewhere they report 0) ---

const clkTck = 100 // USER_HZ on Linux

// cpuTime is utime+stime of pid in clock ticks.
func cpuTime(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)  // field 14 utime
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15 stime
	return u + st
}

// procStatusKB reads a "Name: N kB" line of /proc/<pid>/status.
func procStatusKB(pid int, name string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// --- configurations ---

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

const settingsYAML = `model_list: []
general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  team_api_base_allow: ["127.0.0.1"] # the fake upstream; loopback is denied to team models by default
router_settings: {timeout: 600}
`

// writeSmallConfig writes the one-team configuration: the pass-through
// deployment (bench-model, openai/ on the fake upstream) and, with
// anthropic, bench-claude (anthropic/ on the fake upstream's Anthropic
// API), which only builds with the anthropic provider can load.
func writeSmallConfig(dir, upstream string, anthropic bool) error {
	claude := ""
	if anthropic {
		claude = claudeDeployment(upstream) + groupDeployments(upstream)
	}
	files := map[string]string{
		"gateway.yaml": settingsYAML,
		"teams.d/bench.yaml": `team_id: bench
team_alias: Benchmark team
keys:
  - token: ` + sha256hex(teamKey) + `
    key_alias: bench
`,
		"models.d/bench.yaml": `model_list:
  - model_name: model_name_bench_0
    litellm_params:
      model: openai/gpt-fake
      api_base: ` + upstream + `/v1
    model_info:
      id: bench-0
      team_id: bench
      team_public_model_name: ` + modelName + `
` + claude,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func largeKey(team int) string { return fmt.Sprintf("sk-bench-team-%05d", team) }

// writeLargeConfig writes teams teams, each with one key and deps
// deployments (model-0 ... model-<deps-1>), one team file and one model
// file per team.
func writeLargeConfig(dir, upstream string, teams, deps int) error {
	for _, d := range []string{"teams.d", "models.d"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "gateway.yaml"), []byte(settingsYAML), 0o644); err != nil {
		return err
	}
	var buf bytes.Buffer
	for i := range teams {
		id := fmt.Sprintf("team-%05d", i)
		buf.Reset()
		fmt.Fprintf(&buf, "team_id: %s\nteam_alias: Team %d\nrpm_limit: 10000000\nkeys:\n  - token: %s\n    key_alias: k%d\n",
			id, i, sha256hex(largeKey(i)), i)
		if err := os.WriteFile(filepath.Join(dir, "teams.d", id+".yaml"), buf.Bytes(), 0o644); err != nil {
			return err
		}
		buf.Reset()
		buf.WriteString("model_list:\n")
		for j := range deps {
			fmt.Fprintf(&buf, "  - model_name: model_name_%s_%d\n    litellm_params:\n      model: openai/gpt-fake-%d\n      api_base: %s/v1\n    model_info:\n      id: %s-d%d\n      team_id: %s\n      team_public_model_name: model-%d\n",
				id, j, j, upstream, id, j, id, j)
		}
		if err := os.WriteFile(filepath.Join(dir, "models.d", id+".yaml"), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// --- aggregation and the table ---

func rps(r *result) float64 { return r.RPS }
func p50(r *result) float64 { return r.P50 }
func p99(r *result) float64 { return r.P99 }

// med is the median over rounds of one figure.
func med(rs []*result, f func(*result) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func f0(v float64) string   { return strconv.FormatFloat(v, 'f', 0, 64) }
func pctS(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }
func mb(kb int64) string {
	if kb == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(kb)/1024)
}
func ms2(rs []*result) string {
	return fmt.Sprintf("%.0f / %.0fµs", med(rs, p50), med(rs, p99))
}

type table struct{ rows [][]string }

func (t *table) head(cells ...string) { t.rows = append(t.rows, cells, nil) }
func (t *table) row(cells ...string)  { t.rows = append(t.rows, cells) }
func (t *table) sep()                 { t.rows = append(t.rows, nil) }

// latRows adds one row of p50 / p99 for direct and gateway and the added
// latency.
func (t *table) latRows(name string, rs [2][]*result, target string) {
	d50, d99 := med(rs[0], p50), med(rs[0], p99)
	g50, g99 := med(rs[1], p50), med(rs[1], p99)
	t.row(name+" p50 / p99", fmt.Sprintf("%.0f / %.0fµs", d50, d99), fmt.Sprintf("%.0f / %.0fµs", g50, g99),
		fmt.Sprintf("added %+.0f / %+.0fµs", g50-d50, g99-d99), target)
}

// addedRows adds the added latency (p50 / p99 over direct) of the
// baseline and the new build, with the ratios of the p50s and the p99s:
// of the medians over rounds, and paired (the median over rounds of
// each round's ratio, each build's added latency over that round's
// direct run).
func (t *table) addedRows(name string, direct, base, nw []*result) {
	d50, d99 := med(direct, p50), med(direct, p99)
	b50, b99 := med(base, p50)-d50, med(base, p99)-d99
	n50, n99 := med(nw, p50)-d50, med(nw, p99)-d99
	added := func(rs []*result, f func(*result) float64) []float64 {
		v := make([]float64, 0, len(rs))
		for i, r := range rs {
			if i < len(direct) {
				v = append(v, f(r)-f(direct[i]))
			}
		}
		return v
	}
	t.row(name+" p50 / p99", fmt.Sprintf("%+.0f / %+.0fµs", b50, b99), fmt.Sprintf("%+.0f / %+.0fµs", n50, n99),
		ratio(n50, b50)+" / "+ratio(n99, b99),
		pctPaired(pairedRatio(added(nw, p50), added(base, p50)))+" / "+pctPaired(pairedRatio(added(nw, p99), added(base, p99))),
		middleHalf(added(nw, p50), added(base, p50))+" / "+middleHalf(added(nw, p99), added(base, p99)),
		"<= 105%")
}

// values is one figure of each round.
func values(rs []*result, f func(*result) float64) []float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return v
}

// pairedRatio is the geometric mean over rounds of nw[k] / base[k]: the
// two builds run back to back in each round, so a round's ratio is free
// of the drift between rounds that a shared machine shows (the same
// build's CPU time per request has moved by a third from one round to
// the next), which the ratio of the two medians is not. The rounds take
// turns at which build goes first, and the second of a pair measures
// 3-4% slower on this machine, so the ratios of odd and even rounds
// form two groups: their mean cancels the order, a median picks one of
// them. NaN when no round has both.
func pairedRatio(nw, base []float64) float64 {
	r := roundRatios(nw, base)
	if len(r) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, v := range r {
		sum += math.Log(v)
	}
	return math.Exp(sum / float64(len(r)))
}

// roundRatios are nw[k] / base[k] of the rounds where both are
// positive, sorted.
func roundRatios(nw, base []float64) []float64 {
	var r []float64
	for k := range min(len(nw), len(base)) {
		if base[k] > 0 && nw[k] > 0 {
			r = append(r, nw[k]/base[k])
		}
	}
	slices.Sort(r)
	return r
}

// quantile is the q-quantile of sorted (linear between neighbours; the
// median of an even count is the mean of the middle two); NaN when
// sorted is empty.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

// middleHalf is the spread of the rounds' ratios nw[k] / base[k]: their
// 25th to 75th percentile, as percentages ("n/a" with fewer than four
// rounds).
func middleHalf(nw, base []float64) string {
	r := roundRatios(nw, base)
	if len(r) < 4 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f–%.0f%%", quantile(r, 0.25)*100, quantile(r, 0.75)*100)
}

func pctPaired(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", v*100)
}

func (t *table) print(w io.Writer) {
	var width []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	total := 0
	for _, x := range width {
		total += x + 3
	}
	for _, r := range t.rows {
		if r == nil {
			fmt.Fprintln(w, strings.Repeat("-", total))
			continue
		}
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c)
			line.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))+3))
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
}
