// Package proc runs a volume plugin as a process of its own, the way the
// daemon's runtime does, and measures it from outside: how long until its
// socket answers, and how much memory it holds.
package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/volmount/volmount/bench/wire"
)

// Spec says how to start a plugin.
type Spec struct {
	// Argv is the program and its arguments.
	Argv []string
	// Env is added to the environment.
	Env []string
	// Socket is where the plugin listens.
	Socket string
	// Log receives the plugin's stdout and stderr; nil discards them.
	Log *os.File
}

// Process is a running plugin.
type Process struct {
	Socket string
	// StartUp is the time from exec until the socket first answered a
	// Capabilities call.
	StartUp time.Duration

	cmd    *exec.Cmd
	exited chan error
}

// startWait bounds how long a plugin may take to answer: the daemon gives
// up after about 9.5 s (shared/PROTOCOL.md §1).
const startWait = 10 * time.Second

// Start execs the plugin and returns once its socket answers. A socket
// file left by an earlier run is removed first, so that only the new
// process can answer.
func Start(spec Spec) (*Process, error) {
	if err := os.Remove(spec.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = append(os.Environ(), spec.Env...)
	if spec.Log != nil {
		cmd.Stdout, cmd.Stderr = spec.Log, spec.Log
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Socket: spec.Socket, cmd: cmd, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	if err := p.waitAnswer(start); err != nil {
		p.Stop()
		return nil, fmt.Errorf("start %s: %w", spec.Argv[0], err)
	}
	return p, nil
}

// waitAnswer polls the socket every 200 µs until a Capabilities call
// succeeds; each try dials anew, as the daemon's first call would.
func (p *Process) waitAnswer(start time.Time) error {
	deadline := start.Add(startWait)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("exited before answering: %v", err)
		default:
		}
		c := wire.NewClient(p.Socket)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Capabilities(ctx)
		cancel()
		c.Close()
		if err == nil {
			p.StartUp = time.Since(start)
			return nil
		}
		time.Sleep(200 * time.Microsecond)
	}
	return fmt.Errorf("socket %s did not answer within %v", p.Socket, startWait)
}

// Pid is the plugin's process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// RSS returns the plugin's resident memory (VmRSS) in bytes.
func (p *Process) RSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kb << 10, err
	}
	return 0, errors.Join(sc.Err(), errors.New("no VmRSS in /proc status"))
}

// Blocked returns, for each of the plugin's threads that sleeps
// uninterruptibly (state D), the kernel function it waits in: a mount(2)
// waiting for a backend shows as one.
func (p *Process) Blocked() ([]string, error) {
	dir := fmt.Sprintf("/proc/%d/task", p.Pid())
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var waits []string
	for _, t := range tasks {
		stat, err := os.ReadFile(dir + "/" + t.Name() + "/stat")
		if err != nil {
			continue // the thread has gone
		}
		// The state follows the command name, which is in parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || i+2 >= len(stat) || stat[i+2] != 'D' {
			continue
		}
		wchan, _ := os.ReadFile(dir + "/" + t.Name() + "/wchan")
		waits = append(waits, string(wchan))
	}
	return waits, nil
}

// stopGrace is how long the plugin may take to exit after SIGTERM; the
// daemon allows 10 s.
const stopGrace = 10 * time.Second

// Stop sends SIGTERM, waits up to 10 s, then kills the plugin.
func (p *Process) Stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
		return nil
	case <-time.After(stopGrace):
	}
	p.cmd.Process.Kill()
	err := <-p.exited
	p.exited <- err
	return fmt.Errorf("plugin %d did not stop within %v; killed", p.Pid(), stopGrace)
}
