package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/docker/go-plugins-helpers/sdk"
	api "github.com/docker/go-plugins-helpers/volume"

	"github.com/volmount/volmount/mounter"
)

// maxBody bounds a request body; real ones are a few hundred bytes.
const maxBody = 1 << 20

// errEmptyBody is what a retried request gets: the daemon resends a call
// that failed in transport (a plugin crash) with an empty body.
var errEmptyBody = errors.New("empty request body (the daemon resends a " +
	"call without its body after a plugin restart): run the command again")

// newHandler routes the Volume Plugin API to d. go-plugins-helpers' own
// handler answers an empty or malformed body with a bare "EOF", which the
// daemon shows the user as is; this one says what went wrong, and logs
// every request once.
func newHandler(d api.Driver, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /Plugin.Activate", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string][]string{"Implements": {"VolumeDriver"}})
	})
	h := &handler{mux: mux, log: logger}
	route(h, "Create", func(r *api.CreateRequest) (any, error) {
		return struct{}{}, d.Create(r)
	})
	route(h, "Remove", func(r *api.RemoveRequest) (any, error) {
		return struct{}{}, d.Remove(r)
	})
	route(h, "Mount", func(r *api.MountRequest) (any, error) { return d.Mount(r) })
	route(h, "Unmount", func(r *api.UnmountRequest) (any, error) {
		return struct{}{}, d.Unmount(r)
	})
	route(h, "Path", func(r *api.PathRequest) (any, error) { return d.Path(r) })
	route(h, "Get", func(r *api.GetRequest) (any, error) { return d.Get(r) })
	route(h, "List", func(*struct{}) (any, error) { return d.List() })
	route(h, "Capabilities", func(*struct{}) (any, error) {
		return d.Capabilities(), nil
	})
	return mux
}

type handler struct {
	mux *http.ServeMux
	log *slog.Logger
}

// route serves /VolumeDriver.<method>: it decodes the body into a Req,
// calls the driver and encodes its answer or its error as {"Err": ...}.
func route[Req any](h *handler, method string, call func(*Req) (any, error)) {
	h.mux.HandleFunc("POST /VolumeDriver."+method, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		req := new(Req)
		resp, status, err := decode(r, req)
		if err == nil {
			status = http.StatusOK
			if resp, err = call(req); err != nil {
				status = http.StatusInternalServerError
			}
		}
		if err != nil {
			resp = api.ErrorResponse{Err: err.Error()}
		}
		writeJSON(w, status, resp)
		if h.log.Enabled(r.Context(), slog.LevelDebug) {
			h.log.Debug("request", append(describe(req), "op", method,
				"took", time.Since(start), "error", err)...)
		}
	})
}

// decode reads the JSON body into req. List and Capabilities carry no
// fields, so for them (Req is struct{}) an empty body is fine.
func decode[Req any](r *http.Request, req *Req) (any, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
	}
	if _, noFields := any(req).(*struct{}); noFields {
		return nil, 0, nil
	}
	if len(body) == 0 {
		return nil, http.StatusBadRequest, errEmptyBody
	}
	if err := json.Unmarshal(body, req); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("malformed request body: %w", err)
	}
	return nil, 0, nil
}

// describe returns the log attributes of a request, options masked.
func describe(req any) []any {
	switch r := req.(type) {
	case *api.CreateRequest:
		opts := make(map[string]string, len(r.Options))
		for k, v := range r.Options {
			opts[k] = mounter.Redact(v)
		}
		return []any{"volume", r.Name, "options", opts}
	case *api.MountRequest:
		return []any{"volume", r.Name, "id", r.ID}
	case *api.UnmountRequest:
		return []any{"volume", r.Name, "id", r.ID}
	case *api.RemoveRequest:
		return []any{"volume", r.Name}
	case *api.GetRequest:
		return []any{"volume", r.Name}
	case *api.PathRequest:
		return []any{"volume", r.Name}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", sdk.DefaultContentTypeV1_1)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
