// go-http: an ordinary net/http service with the chi router. `warp pack`
// makes it a wasi:http component without changing a line: the server main
// starts is the one the component serves. `go run .` runs it natively.
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"sync"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5"
	"warpgrid.dev/sdk/warpgrid"
)

type item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// store is package-level state: it lives as long as the instance serving
// it (see docs/GO.md on what warp promises about state).
type store struct {
	mu    sync.Mutex
	items map[string]item
}

func (s *store) get(id string) (item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[id]
	return it, ok
}

func (s *store) put(it item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[it.ID] = it
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func main() {
	items := &store{items: map[string]item{"1": {ID: "1", Name: "first"}}}

	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"message": os.Getenv("GREETING") + " from go-http"})
	})
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		it, ok := items.get(chi.URLParam(r, "id"))
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such item"})
			return
		}
		writeJSON(w, http.StatusOK, it)
	})
	r.Post("/items", func(w http.ResponseWriter, r *http.Request) {
		var it item
		if err := json.NewDecoder(r.Body).Decode(&it); err != nil || it.ID == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"id\": ..., \"name\": ...}"})
			return
		}
		items.put(it)
		writeJSON(w, http.StatusCreated, it)
	})

	// Postgres: DATABASE_URL names a database that warp.toml lists under
	// [[shims.database]]; inside the component the connection goes through
	// warp's pooled database proxy (natively, straight to the server).
	r.Get("/db/now", func(w http.ResponseWriter, r *http.Request) {
		url := os.Getenv("DATABASE_URL")
		if url == "" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "set DATABASE_URL (warp.toml [env])"})
			return
		}
		config, err := pgx.ParseConfig(url)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		config.DialFunc = warpgrid.DialContext
		config.LookupFunc = warpgrid.LookupHost
		ctx := context.Background()
		conn, err := pgx.ConnectConfig(ctx, config)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": "database: " + err.Error()})
			return
		}
		defer conn.Close(ctx)
		var now string
		if err := conn.QueryRow(ctx, "select now()::text").Scan(&now); err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": "database: " + err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"now": now})
	})

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Fatal(http.ListenAndServe(":"+port, r))
}
