package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Accept is the header the daemon sends with every plugin call.
const Accept = "application/vnd.docker.plugins.v1.2+json"

// host is the Host header the daemon uses for plugins on unix sockets.
const host = "plugin.moby.localhost"

// Client calls a volume plugin. Its transport is the daemon's: keep-alive
// connections, at most 6 idle (2 per host, Go's default), idle ones closed
// after 30 s, no compression (pkg/plugins/client.go and
// go-connections/sockets in moby v26.1.5). It is safe for concurrent use.
type Client struct {
	http *http.Client
}

// NewClient returns a Client for the plugin listening on socket.
func NewClient(socket string) *Client {
	dialer := &net.Dialer{Timeout: 32 * time.Second}
	tr := &http.Transport{
		MaxIdleConns:       6,
		IdleConnTimeout:    30 * time.Second,
		DisableCompression: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socket)
		},
	}
	return &Client{http: &http.Client{Transport: tr}}
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Error is a plugin's answer to a call that failed.
type Error struct {
	Method string
	Status int
	Err    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: plugin answered %d: %s", e.Method, e.Status, e.Err)
}

// Answer is what a call decodes its answer into: every answer of the
// Volume Plugin API carries an Err, empty on success.
type Answer interface {
	failure() string
}

// errOnly is the answer of calls that return nothing but an error.
type errOnly struct {
	Err string
}

func (a *errOnly) failure() string { return a.Err }

// Call posts /VolumeDriver.<method> with args encoded as the daemon encodes
// them (JSON and a newline) and decodes the answer into ret once, as the
// daemon does; nil ret means an answer with nothing but Err. An answer that
// is not 200, or that carries an Err, is an *Error.
func (c *Client) Call(ctx context.Context, method string, args any, ret Answer) error {
	resp, err := c.post(ctx, method, args)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeAnswer(method, resp.Body, ret)
}

// Raw posts a call like Call and returns the body of a 200 answer as it
// is, to time its decoding apart from the call.
func (c *Client) Raw(ctx context.Context, method string, args any) ([]byte, error) {
	resp, err := c.post(ctx, method, args)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// DecodeList decodes a List answer as the daemon does and returns how many
// volumes it holds.
func DecodeList(body []byte) (int, error) {
	var ret listAnswer
	err := decodeAnswer("List", bytes.NewReader(body), &ret)
	return len(ret.Volumes), err
}

// post sends the call; an answer that is not 200 is an *Error.
func (c *Client) post(ctx context.Context, method string, args any) (*http.Response, error) {
	var body bytes.Buffer
	if err := json.NewEncoder(&body).Encode(args); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+host+"/VolumeDriver."+method, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Add("Accept", Accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, failed(method, resp)
	}
	return resp, nil
}

func decodeAnswer(method string, body io.Reader, ret Answer) error {
	if ret == nil {
		ret = &errOnly{}
	}
	if err := json.NewDecoder(body).Decode(ret); err != nil {
		return fmt.Errorf("%s: decode answer: %w", method, err)
	}
	if msg := ret.failure(); msg != "" {
		return &Error{Method: method, Status: http.StatusOK, Err: msg}
	}
	return nil
}

// failed turns an answer that is not 200 into an *Error: its Err, or the
// body as it is when there is none (pkg/plugins/client.go).
func failed(method string, resp *http.Response) error {
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", method, err)
	}
	var answer errOnly
	if json.Unmarshal(data, &answer) == nil && answer.Err != "" {
		return &Error{Method: method, Status: resp.StatusCode, Err: answer.Err}
	}
	return &Error{Method: method, Status: resp.StatusCode, Err: string(data)}
}
