package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// pubAck is the JSON a JetStream server answers a publish with.
type pubAck struct {
	Stream    string              `json:"stream"`
	Sequence  uint64              `json:"seq"`
	Duplicate bool                `json:"duplicate,omitempty"`
	Error     *jetstream.APIError `json:"error,omitempty"`
}

// parseAck reads a publish ack. The shape servers send for every stored
// message, {"stream":"S","seq":N} with an optional "duplicate":true, is read
// directly; anything else (an error, a "domain", fields of newer servers)
// goes through encoding/json. A server error comes back as its
// *jetstream.APIError. stream is the likely stream name, returned instead
// of a copy when the ack names it.
func parseAck(data []byte, stream string) (Ack, error) {
	if a, ok := parseCommonAck(data, stream); ok {
		return a, nil
	}
	var pa pubAck
	if err := json.Unmarshal(data, &pa); err != nil {
		return Ack{}, fmt.Errorf("invalid JetStream publish ack %q: %w", data, err)
	}
	if pa.Error != nil {
		return Ack{}, pa.Error
	}
	if pa.Stream == "" {
		return Ack{}, errors.New("JetStream publish ack names no stream")
	}
	return Ack{Stream: pa.Stream, Sequence: pa.Sequence, Duplicate: pa.Duplicate}, nil
}

var (
	ackStream    = []byte(`{"stream":"`)
	ackSeq       = []byte(`","seq":`)
	ackDuplicate = []byte(`,"duplicate":true}`)
)

// parseCommonAck reads {"stream":"S","seq":N} and
// {"stream":"S","seq":N,"duplicate":true} exactly; ok is false for any
// other input.
func parseCommonAck(data []byte, stream string) (a Ack, ok bool) {
	rest, ok := bytes.CutPrefix(data, ackStream)
	if !ok {
		return Ack{}, false
	}
	end := bytes.IndexByte(rest, '"')
	if end <= 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return Ack{}, false
	}
	if a.Stream = stream; string(rest[:end]) != stream {
		a.Stream = string(rest[:end])
	}
	if rest, ok = bytes.CutPrefix(rest[end:], ackSeq); !ok {
		return Ack{}, false
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	seq, err := strconv.ParseUint(string(rest[:digits]), 10, 64)
	if digits == 0 || err != nil {
		return Ack{}, false
	}
	a.Sequence = seq
	switch rest = rest[digits:]; {
	case len(rest) == 1 && rest[0] == '}':
	case bytes.Equal(rest, ackDuplicate):
		a.Duplicate = true
	default:
		return Ack{}, false
	}
	return a, true
}
