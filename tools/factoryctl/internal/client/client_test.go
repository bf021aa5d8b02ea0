package client

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestResolveToken(t *testing.T) {
	files := map[string]string{
		filepath.Join(".factory", "admin.token"):     "dev-admin-token\n",
		filepath.Join("/srv/factory", "admin.token"): "other-dir-token",
		filepath.Join("/empty", "admin.token"):       "  \n",
	}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		name    string
		addr    string
		flag    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "flag wins", addr: "127.0.0.1:7100", flag: "from-flag", env: map[string]string{TokenVar: "from-env"}, want: "from-flag"},
		{name: "env over file", addr: "127.0.0.1:7100", env: map[string]string{TokenVar: "from-env"}, want: "from-env"},
		{name: "env for remote", addr: "catalog.prod:7100", env: map[string]string{TokenVar: "from-env"}, want: "from-env"},
		{name: "dev file on loopback", addr: "127.0.0.1:7100", want: "dev-admin-token"},
		{name: "dev file on localhost", addr: "localhost:7100", want: "dev-admin-token"},
		{name: "dev file on ::1", addr: "[::1]:7100", want: "dev-admin-token"},
		{name: "data dir from env", addr: "127.0.0.1:7100", env: map[string]string{DataDirVar: "/srv/factory"}, want: "other-dir-token"},
		{name: "remote never reads the dev file", addr: "10.0.0.5:7100", wantErr: "no token for 10.0.0.5:7100: pass --token or set FACTORY_TOKEN"},
		{name: "loopback without file says how to get one", addr: "127.0.0.1:7100", env: map[string]string{DataDirVar: "/nowhere"},
			wantErr: "start the dev mesh (`make run` or `factoryctl dev`), which writes its admin token to /nowhere/admin.token"},
		{name: "empty file", addr: "127.0.0.1:7100", env: map[string]string{DataDirVar: "/empty"}, wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveToken(tt.addr, tt.flag, envOf(tt.env), readFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveToken() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:7100", true},
		{"127.1.2.3:7100", true},
		{"localhost:7100", true},
		{"LOCALHOST", true},
		{"[::1]:7100", true},
		{"::1", true},
		{"dns:///localhost:7100", true},
		{"0.0.0.0:7100", false},
		{"10.0.0.5:7100", false},
		{"catalog.prod.internal:7100", false},
		{"localhost.evil.com:7100", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.addr); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestDefaultAddress(t *testing.T) {
	if got := DefaultAddress(envOf(nil)); got != "127.0.0.1:7100" {
		t.Errorf("DefaultAddress() = %q", got)
	}
	if got := DefaultAddress(envOf(map[string]string{AddrVar: "mesh:7100"})); got != "mesh:7100" {
		t.Errorf("DefaultAddress() = %q", got)
	}
}

func TestBearer(t *testing.T) {
	md, err := bearer("s3cret").GetRequestMetadata(context.Background())
	if err != nil || md["authorization"] != "Bearer s3cret" {
		t.Errorf("metadata = %v, %v", md, err)
	}
}

func TestIsConnectionError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:7100: connect: connection refused"`), true},
		{status.Error(codes.Unavailable, "catalog is shutting down"), false},
		{status.Error(codes.NotFound, "connection refused"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsConnectionError(tt.err); got != tt.want {
			t.Errorf("IsConnectionError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
