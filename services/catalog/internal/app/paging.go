package app

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aifactory/aifactory/libs/service"
)

// Page sizes of the list and search RPCs.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
)

// cursor is the keyset position a page token encodes: the last item of the
// previous page. Tokens are opaque to clients.
type cursor struct {
	Domain string `json:"d,omitempty"`
	Name   string `json:"n,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // a struct of strings always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(v *service.Violations, token string) cursor {
	var c cursor
	if token == "" {
		return c
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		v.Add("page_token", "is not a token returned by this API; start again with an empty token")
	}
	return c
}

func pageLimit(v *service.Violations, size int32) int {
	switch {
	case size < 0:
		v.Add("page_size", "must not be negative")
	case size == 0:
		return DefaultPageSize
	case size > MaxPageSize:
		v.Add("page_size", fmt.Sprintf("is %d; the limit is %d", size, MaxPageSize))
	}
	return int(size)
}
