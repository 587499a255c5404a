package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/volmount/volmount/driver"
	"github.com/volmount/volmount/mounter"
)

// serve starts the handler on a unix socket in a temp dir, as the plugin
// does, and returns a function that posts a body the way the daemon does.
func serve(t *testing.T) func(method, body string) (int, map[string]any) {
	t.Helper()
	post, _ := serveWithClient(t)
	return post
}

// serveWithClient is serve that also returns the HTTP client it posts with.
func serveWithClient(t *testing.T) (func(method, body string) (int, map[string]any), *http.Client) {
	t.Helper()
	d, err := driver.New(driver.Config{Root: t.TempDir(), Mounter: mounter.NewFake()})
	require.NoError(t, err)
	sock := filepath.Join(t.TempDir(), "volmount.sock")
	l, err := listen(sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: newHandler(d, slog.New(slog.DiscardHandler))}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	post := func(method, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://plugin/"+method,
			strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Accept", "application/vnd.docker.plugins.v1.2+json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out), "body %q", raw)
		return resp.StatusCode, out
	}
	return post, client
}

func TestServerRoundTrip(t *testing.T) {
	post := serve(t)
	code, out := post("Plugin.Activate", "")
	assert.Equal(t, 200, code)
	assert.Equal(t, []any{"VolumeDriver"}, out["Implements"])

	code, out = post("VolumeDriver.Create", `{"Name":"web","Opts":null}`+"\n")
	assert.Equal(t, 200, code, "%v", out)
	code, out = post("VolumeDriver.Mount", `{"Name":"web","ID":"abc"}`+"\n")
	assert.Equal(t, 200, code, "%v", out)
	assert.True(t, strings.HasSuffix(out["Mountpoint"].(string), "/web"))
	code, out = post("VolumeDriver.Get", `{"Name":"web"}`)
	assert.Equal(t, 200, code)
	assert.Equal(t, "web", out["Volume"].(map[string]any)["Name"])
	code, out = post("VolumeDriver.List", "{}\n")
	assert.Equal(t, 200, code)
	assert.Len(t, out["Volumes"], 1)
	code, out = post("VolumeDriver.Capabilities", "")
	assert.Equal(t, 200, code)
	assert.Equal(t, map[string]any{"Scope": "local"}, out["Capabilities"])
	code, out = post("VolumeDriver.Unmount", `{"Name":"web","ID":"abc"}`)
	assert.Equal(t, 200, code, "%v", out)
	code, out = post("VolumeDriver.Remove", `{"Name":"web"}`)
	assert.Equal(t, 200, code, "%v", out)
}

func TestServerErrors(t *testing.T) {
	post := serve(t)
	tests := []struct {
		name   string
		method string
		body   string
		code   int
		err    string
	}{
		{"empty body", "VolumeDriver.Mount", "", 400, "empty request body"},
		{"malformed body", "VolumeDriver.Create", `{"Name":`, 400, "malformed request body"},
		{"wrong shape", "VolumeDriver.Create", `["x"]`, 400, "malformed request body"},
		{"bad name", "VolumeDriver.Create", `{"Name":"../evil"}`, 500, `volume name "../evil" is not allowed`},
		{"unknown volume", "VolumeDriver.Get", `{"Name":"nope"}`, 500, `volume "nope" does not exist`},
		{"bad option", "VolumeDriver.Create", `{"Name":"vv","Opts":{"o":"x"}}`, 500, `option "o" needs option "type"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := post(tt.method, tt.body)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, out["Err"], tt.err)
		})
	}
	code, out := post("VolumeDriver.List", "{}")
	assert.Equal(t, 200, code)
	assert.Empty(t, out["Volumes"], "failed requests created nothing")
}
