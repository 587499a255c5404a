package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/volmount/volmount/bench/proc"
	"github.com/volmount/volmount/bench/scratch"
	"github.com/volmount/volmount/bench/wire"
)

// config is what `vmbench run` takes from its flags.
type config struct {
	plugin  string
	out     string
	scratch string
	logPath string
	pairs   int
	quick   bool
	only    map[string]bool
}

// measures are the parts of a run, in the order they run.
var measures = []string{"cycle", "scale", "concurrency", "stuck"}

func runCmd(args []string) error {
	var cfg config
	var only string
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.StringVar(&cfg.plugin, "plugin", "", "volmount binary to measure (go build ./plugin)")
	fs.StringVar(&cfg.out, "out", "", "file the result rows are appended to")
	fs.StringVar(&cfg.scratch, "scratch", "/var/tmp",
		"directory on the disk the plugin roots are made in")
	fs.StringVar(&cfg.logPath, "log", os.DevNull, "file the plugins' output goes to")
	fs.IntVar(&cfg.pairs, "pairs", 9, "paired runs per measure")
	fs.BoolVar(&cfg.quick, "quick", false, "fewer samples and volumes: a smoke run, not a result")
	fs.StringVar(&only, "only", strings.Join(measures, ","), "measures to run")
	fs.Parse(args)
	if cfg.plugin == "" || cfg.out == "" {
		return errors.New("run: -plugin and -out are required")
	}
	if os.Geteuid() != 0 {
		return errors.New("run: needs root: volmount bind-mounts directory volumes")
	}
	cfg.only = make(map[string]bool)
	for _, m := range strings.Split(only, ",") {
		cfg.only[strings.TrimSpace(m)] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	h, err := newHarness(ctx, cfg)
	if err != nil {
		return err
	}
	err = h.run()
	return errors.Join(err, h.close(), writeRows(cfg.out, h.rows))
}

// harness holds what every measure shares: the scratch root on the disk,
// the plugins' log and a source of unique volume names.
type harness struct {
	ctx  context.Context
	cfg  config
	self string
	root *scratch.Root
	log  *os.File
	seq  atomic.Int64
	rows []Row
}

func newHarness(ctx context.Context, cfg config) (*harness, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	plugin, err := filepath.Abs(cfg.plugin)
	if err != nil {
		return nil, err
	}
	cfg.plugin = plugin
	log, err := os.OpenFile(cfg.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	root, err := scratch.New(cfg.scratch, scratch.Disk)
	if err != nil {
		log.Close()
		return nil, err
	}
	fsys, _ := scratch.Filesystem(root.Dir)
	fmt.Printf("vmbench: plugin roots in %s (%s, rshared bind)\n", root.Dir, fsys)
	return &harness{ctx: ctx, cfg: cfg, self: self, root: root, log: log}, nil
}

func (h *harness) run() error {
	steps := map[string]func() error{
		"cycle": h.cycle, "scale": h.scale,
		"concurrency": h.concurrency, "stuck": h.stuck,
	}
	for _, m := range measures {
		if !h.cfg.only[m] {
			continue
		}
		fmt.Printf("vmbench: measuring %s\n", m)
		if err := steps[m](); err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	return nil
}

func (h *harness) close() error {
	return errors.Join(h.root.Close(), h.log.Close())
}

func (h *harness) add(r Row) {
	h.rows = append(h.rows, r)
	fmt.Printf("  %s: volmount %s, reference %s, ratio %s (goal %s: %s)\n",
		r.Measure, r.Volmount, r.Reference, r.Ratio, r.Goal, r.Met)
}

// name returns a volume name never used before in this run.
func (h *harness) name(prefix string) string {
	return prefix + "-" + strconv.FormatInt(h.seq.Add(1), 10)
}

// mountID returns a fresh mount ID shaped like the daemon's: 64 hex digits.
func (h *harness) mountID() string {
	sum := sha256.Sum256([]byte("vmbench-" + strconv.FormatInt(h.seq.Add(1), 10)))
	return hex.EncodeToString(sum[:])
}

// scaled returns n, or a tenth of it (at least 1) in a quick run.
func (h *harness) scaled(n int) int {
	if h.cfg.quick {
		return max(n/10, 1)
	}
	return n
}

// plugin is a running plugin under test and a client for it.
type plugin struct {
	name string
	spec proc.Spec
	proc *proc.Process
	c    *wire.Client
}

// startVolmount starts the volmount binary with its root in dir, which is
// made if missing: a directory of root.
func (h *harness) startVolmount(root *scratch.Root, sub string, env ...string) (*plugin, error) {
	dir := root.Path(sub)
	if err := os.MkdirAll(root.Path("run"), 0o755); err != nil {
		return nil, err
	}
	spec := proc.Spec{
		Argv: []string{h.cfg.plugin, "--root", dir,
			"--socket", root.Path("run", sub+".sock"),
			"--credentials-dir", root.Path("credentials")},
		Env:    append([]string{"LOG_LEVEL=info"}, env...),
		Socket: root.Path("run", sub+".sock"),
		Log:    h.log,
	}
	return startPlugin("volmount", spec)
}

// startFloor starts the protocol floor, this program's floor command, as a
// process of its own.
func (h *harness) startFloor(sub string) (*plugin, error) {
	if err := os.MkdirAll(h.root.Path("run"), 0o755); err != nil {
		return nil, err
	}
	socket := h.root.Path("run", sub+".sock")
	spec := proc.Spec{
		Argv:   []string{h.self, "floor", "-socket", socket, "-root", h.root.Path(sub)},
		Socket: socket,
		Log:    h.log,
	}
	return startPlugin("floor", spec)
}

func startPlugin(name string, spec proc.Spec) (*plugin, error) {
	p, err := proc.Start(spec)
	if err != nil {
		return nil, err
	}
	return &plugin{name: name, spec: spec, proc: p, c: wire.NewClient(spec.Socket)}, nil
}

// restart stops the plugin and starts it again on the same state.
func (pl *plugin) restart() error {
	pl.c.Close()
	if err := pl.proc.Stop(); err != nil {
		return err
	}
	p, err := proc.Start(pl.spec)
	if err != nil {
		return err
	}
	pl.proc, pl.c = p, wire.NewClient(pl.spec.Socket)
	return nil
}

func (pl *plugin) stop() error {
	pl.c.Close()
	return pl.proc.Stop()
}

// paired runs a on volmount and b on the floor n times each, alternating
// which of the two goes first, and returns both series in pair order.
func paired(n int, a, b func() (float64, error)) (as, bs []float64, err error) {
	for i := range n {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		x, err := first()
		if err != nil {
			return nil, nil, err
		}
		y, err := second()
		if err != nil {
			return nil, nil, err
		}
		if i%2 == 1 {
			x, y = y, x
		}
		as, bs = append(as, x), append(bs, y)
	}
	return as, bs, nil
}
