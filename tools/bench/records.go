package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Where the ingest benchmark writes: domain bench, product events, so the
// data stream is DATA_BENCH on data.bench.> and the port subject
// data.bench.events.v1.
const (
	benchDomain    = "bench"
	benchProduct   = "events"
	benchSubject   = "data.bench.events.v1"
	benchStream    = "DATA_BENCH"
	eventTimeField = "event_ts"
)

// Generator makes the benchmark's records: JSON objects valid against the
// contract of contractYAML, padded to a fixed size. Record i depends only on
// (seed, size, i), so a run can generate any batch on demand and never holds
// more than one batch — memory stays flat however many records are written.
// A Generator is not safe for concurrent use.
type Generator struct {
	seed uint64
	size int
	src  *rand.PCG
	rnd  *rand.Rand
}

// NewGenerator returns a generator of records of about size bytes (exactly
// size when size is at least the unpadded record, about 220 bytes).
func NewGenerator(seed uint64, size int) *Generator {
	src := rand.NewPCG(seed, 0)
	return &Generator{seed: seed, size: size, src: src, rnd: rand.New(src)}
}

var (
	currencies = []string{"EUR", "USD", "GBP", "CHF"}
	channels   = []string{"web", "mobile_app", "marketplace", "store_pickup"}
	countries  = []string{"DE", "FR", "GB", "US", "CH", "NL", "ES", "IT", "SE", "PL"}
	words      = []string{"gift", "wrap", "please", "leave", "at", "door", "fragile", "express", "weekend",
		"delivery", "call", "before", "arrival", "second", "floor", "no", "bell", "thanks"}
	// epoch is the event time of record 0; record i is 10ms later per index.
	epoch = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
)

// Batch returns records first..first+n-1, sharing one buffer.
func (g *Generator) Batch(first int64, n int) [][]byte {
	buf := make([]byte, 0, n*(g.size+8))
	out := make([][]byte, n)
	for j := range n {
		start := len(buf)
		buf = g.Append(buf, first+int64(j))
		out[j] = buf[start:len(buf):len(buf)]
	}
	return out
}

// Append appends record i to dst.
func (g *Generator) Append(dst []byte, i int64) []byte {
	g.src.Seed(g.seed, uint64(i))
	r := g.rnd
	start := len(dst)
	dst = append(dst, `{"event_id":"`...)
	dst = appendEventID(dst, g.seed, i)
	dst = append(dst, `","customer_id":"cust-`...)
	dst = appendPadded(dst, r.IntN(1_000_000), 6)
	dst = append(dst, `","sku":"SKU-`...)
	dst = appendPadded(dst, r.IntN(100_000), 5)
	dst = append(dst, `","quantity":`...)
	dst = strconv.AppendInt(dst, int64(1+r.IntN(100)), 10)
	cents := 100 + r.IntN(99_900) // 1.00 .. 999.99
	dst = append(dst, `,"price":`...)
	dst = strconv.AppendInt(dst, int64(cents/100), 10)
	dst = append(dst, '.')
	dst = appendPadded(dst, cents%100, 2)
	dst = append(dst, `,"currency":"`...)
	dst = append(dst, currencies[r.IntN(len(currencies))]...)
	dst = append(dst, `","channel":"`...)
	dst = append(dst, channels[r.IntN(len(channels))]...)
	dst = append(dst, `","country":"`...)
	dst = append(dst, countries[r.IntN(len(countries))]...)
	dst = append(dst, `","event_ts":"`...)
	dst = epoch.Add(time.Duration(i)*10*time.Millisecond).AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, '"')
	// note (optional) pads the record to the requested size.
	const noteOpen, closing = `,"note":"`, `"}`
	pad := g.size - (len(dst) - start) - len(noteOpen) - len(closing)
	if pad <= 0 {
		return append(dst, '}')
	}
	dst = append(dst, noteOpen...)
	for n := 0; n < pad; {
		w := words[r.IntN(len(words))]
		if n > 0 {
			dst = append(dst, ' ')
			n++
		}
		if len(w) > pad-n {
			w = w[:pad-n]
		}
		dst = append(dst, w...)
		n += len(w)
	}
	return append(dst, closing...)
}

// EventID returns record i's event_id, a version-4-shaped UUID whose last
// 12 hex digits are i, so ids are unique for any run below 2^48 records.
func (g *Generator) EventID(i int64) string {
	var b [36]byte
	return string(appendEventID(b[:0], g.seed, i))
}

func appendEventID(dst []byte, seed uint64, i int64) []byte {
	h := splitmix(seed ^ splitmix(uint64(i)))
	const hexDigits = "0123456789abcdef"
	hex := func(v uint64, n int) {
		for k := n - 1; k >= 0; k-- {
			dst = append(dst, hexDigits[(v>>(4*uint(k)))&0xf])
		}
	}
	hex(h>>32, 8)
	dst = append(dst, '-')
	hex(h>>16, 4)
	dst = append(dst, '-', '4')
	hex(h>>4, 3)
	dst = append(dst, '-', hexDigits[8|h&3])
	hex(h>>52, 3)
	dst = append(dst, '-')
	hex(uint64(i), 12)
	return dst
}

// splitmix is the SplitMix64 finaliser, a cheap stateless mixer.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func appendPadded(dst []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for range width - len(s) {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// contractYAML is the ODCS contract of the benchmark's records: ten fields,
// a UUID primary key, an integer range, a decimal(10,2), two enums, a
// pattern, a timestamp and an optional string of at most noteMax bytes.
func contractYAML(noteMax int) string {
	return fmt.Sprintf(`apiVersion: v3.1.0
kind: DataContract
id: bench.events
name: Benchmark events
version: 1.0.0
status: active
domain: %s
dataProduct: %s
description:
  purpose: Synthetic order events written by tools/bench (go run ./tools/bench ingest).
schema:
  - name: events
    physicalType: table
    properties:
      - name: event_id
        logicalType: string
        logicalTypeOptions:
          format: uuid
        required: true
        primaryKey: true
        primaryKeyPosition: 1
      - name: customer_id
        logicalType: string
        logicalTypeOptions:
          maxLength: 64
        required: true
      - name: sku
        logicalType: string
        logicalTypeOptions:
          pattern: ^SKU-[0-9]{5}$
        required: true
      - name: quantity
        logicalType: integer
        logicalTypeOptions:
          minimum: 1
          maximum: 100
        required: true
      - name: price
        logicalType: number
        logicalTypeOptions:
          format: decimal
          precision: 10
          scale: 2
          minimum: 0
        physicalType: decimal(10,2)
        required: true
      - name: currency
        logicalType: string
        logicalTypeOptions:
          enum: [EUR, USD, GBP, CHF]
        required: true
      - name: channel
        logicalType: string
        logicalTypeOptions:
          enum: [web, mobile_app, marketplace, store_pickup]
        required: true
      - name: country
        logicalType: string
        logicalTypeOptions:
          pattern: ^[A-Z]{2}$
        required: true
      - name: event_ts
        logicalType: timestamp
        physicalType: timestamptz
        required: true
      - name: note
        logicalType: string
        logicalTypeOptions:
          maxLength: %d
`, benchDomain, benchProduct, max(noteMax, 500))
}
