package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"
)

// benchEvent is a record of contractYAML.
type benchEvent struct {
	EventID    string    `json:"event_id"`
	CustomerID string    `json:"customer_id"`
	SKU        string    `json:"sku"`
	Quantity   int       `json:"quantity"`
	Currency   string    `json:"currency"`
	Channel    string    `json:"channel"`
	Country    string    `json:"country"`
	EventTS    time.Time `json:"event_ts"`
	Note       string    `json:"note"`
}

func TestGeneratorRecordsMatchTheContract(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	sku := regexp.MustCompile(`^SKU-[0-9]{5}$`)
	country := regexp.MustCompile(`^[A-Z]{2}$`)
	price := regexp.MustCompile(`^[0-9]{1,8}\.[0-9]{2}$`)
	g := NewGenerator(1, 256)
	seen := map[string]bool{}
	for i, raw := range g.Batch(0, 2000) {
		if len(raw) != 256 {
			t.Fatalf("record %d is %d bytes, want 256: %s", i, len(raw), raw)
		}
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("record %d is not JSON: %v: %s", i, err, raw)
		}
		if len(rec) != 10 {
			t.Fatalf("record %d has %d fields, want 10: %s", i, len(rec), raw)
		}
		var s benchEvent
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("record %d: %v: %s", i, err, raw)
		}
		switch {
		case !uuid.MatchString(s.EventID), s.EventID != g.EventID(int64(i)):
			t.Fatalf("record %d: event_id %q (EventID says %q)", i, s.EventID, g.EventID(int64(i)))
		case seen[s.EventID]:
			t.Fatalf("record %d: event_id %q repeats", i, s.EventID)
		case s.CustomerID == "", !sku.MatchString(s.SKU), !country.MatchString(s.Country):
			t.Fatalf("record %d: bad customer_id, sku or country: %s", i, raw)
		case s.Quantity < 1 || s.Quantity > 100:
			t.Fatalf("record %d: quantity %d", i, s.Quantity)
		case !price.Match(rec["price"]):
			t.Fatalf("record %d: price %s is not a decimal(10,2) number", i, rec["price"])
		case !slices.Contains(currencies, s.Currency), !slices.Contains(channels, s.Channel):
			t.Fatalf("record %d: currency or channel outside the enum: %s", i, raw)
		case !s.EventTS.Equal(epoch.Add(time.Duration(i) * 10 * time.Millisecond)):
			t.Fatalf("record %d: event_ts %s", i, s.EventTS)
		}
		seen[s.EventID] = true
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := NewGenerator(7, 256), NewGenerator(7, 256)
	// The same record whatever was generated before it.
	want := a.Append(nil, 12345)
	b.Batch(0, 100)
	if got := b.Append(nil, 12345); !bytes.Equal(got, want) {
		t.Fatalf("record 12345 differs:\n%s\n%s", got, want)
	}
	if got := a.Batch(12340, 10)[5]; !bytes.Equal(got, want) {
		t.Fatalf("Batch and Append differ:\n%s\n%s", got, want)
	}
	if got := NewGenerator(8, 256).Append(nil, 12345); bytes.Equal(got, want) {
		t.Fatal("another seed gives the same record")
	}
}

func TestGeneratorSizes(t *testing.T) {
	for _, size := range []int{100, 230, 256, 1024} {
		raw := NewGenerator(1, size).Append(nil, 99)
		if !json.Valid(raw) {
			t.Fatalf("size %d: invalid JSON: %s", size, raw)
		}
		// Below the unpadded record (~220 bytes) the note is left out.
		if size >= 230 && len(raw) != size {
			t.Fatalf("size %d: record is %d bytes", size, len(raw))
		}
	}
}
