package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShutdownLetsRequestsFinish: on SIGTERM the plugin stops taking new
// requests but answers the ones in flight, instead of cutting them off.
func TestShutdownLetsRequestsFinish(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := listen(sock)
	require.NoError(t, err)
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond) // a slow Remove
		w.Write([]byte("done"))
	})}
	stopped := make(chan error, 1)
	go func() { stopped <- serveUntilSignal(srv, l, slog.New(slog.DiscardHandler)) }()

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	answered := make(chan int, 1)
	go func() {
		resp, err := client.Post("http://plugin/VolumeDriver.Remove", "", nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-started
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))

	assert.NoError(t, <-stopped)
	time.Sleep(20 * time.Millisecond) // the client's read of the answer
	select {
	case code := <-answered:
		assert.Equal(t, http.StatusOK, code, "the request in flight was answered")
	default:
		t.Fatal("serveUntilSignal returned before the request in flight was answered")
	}
}
