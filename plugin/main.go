package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/volmount/volmount/driver"
	"github.com/volmount/volmount/mounter"
)

// shutdownGrace bounds how long requests in flight may run after SIGTERM;
// the daemon kills the plugin 10 s after it.
const shutdownGrace = 5 * time.Second

type settings struct {
	root         string
	socket       string
	credentials  string
	logLevel     string
	mountTimeout time.Duration
	scope        string
}

func main() {
	var s settings
	flag.StringVar(&s.root, "root", "/mnt/volumes", "propagated mount holding volumes and state")
	flag.StringVar(&s.socket, "socket", "/run/docker/plugins/volmount.sock", "plugin socket")
	flag.StringVar(&s.credentials, "credentials-dir", "/etc/volmount/credentials",
		"directory of CIFS credentials files")
	flag.Parse()
	err := s.fromEnv()
	if err == nil {
		err = run(s)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "volmount:", err)
		os.Exit(1)
	}
}

func run(s settings) error {
	logger, err := newLogger(s.logLevel)
	if err != nil {
		return err
	}
	started := time.Now()
	d, err := driver.New(driver.Config{Root: s.root, Mounter: mounter.System{},
		Logger: logger, CredentialsDir: s.credentials,
		MountTimeout: s.mountTimeout, Scope: s.scope})
	if err != nil {
		return err
	}
	l, err := listen(s.socket)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newHandler(d, logger), ReadHeaderTimeout: time.Minute}
	logger.Info("volmount serving", "socket", s.socket, "root", s.root,
		"scope", s.scope, "mount_timeout", s.mountTimeout,
		"startup", time.Since(started))
	return serveUntilSignal(srv, l, logger)
}

// serveUntilSignal answers requests until SIGTERM or SIGINT, then lets the requests
// in flight finish, for shutdownGrace at most: a Remove cut short leaves a
// half-deleted volume, and the daemon resends a cut call without its body.
func serveUntilSignal(srv *http.Server, l net.Listener, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(grace)
	logger.Info("volmount stopped", "error", err)
	return err
}

// fromEnv reads the settings `docker plugin set` can change.
func (s *settings) fromEnv() error {
	s.logLevel = envOr("LOG_LEVEL", "info")
	s.scope = envOr("SCOPE", "local")
	timeout := envOr("MOUNT_TIMEOUT", driver.DefaultMountTimeout.String())
	d, err := time.ParseDuration(timeout)
	if err != nil || d <= 0 {
		return fmt.Errorf("MOUNT_TIMEOUT %q: use a positive duration such as 20s", timeout)
	}
	s.mountTimeout = d
	return nil
}

func newLogger(level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: use debug, info, warn or error", level)
	}
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: lvl})
	return slog.New(h), nil
}

// listen opens the plugin socket, replacing one left by an earlier run.
func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return net.Listen("unix", path)
}

func envOr(key, fallback string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return fallback
}
